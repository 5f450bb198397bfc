"""``mldsl bench search-quality``: trials to the target on a table of a space's accuracies, per seed and
algorithm, and the record's fields (a synthetic table: no training)."""
import json

import pytest

from mldsl.bench import search_quality as Q
from mldsl.hyper import Random, dna_spec, iter_dna
from mldsl.hyper.geno import Choices, Space


def spec():   # 4 x 5 x 3 = 60 points
    return Space([Choices(1, [Space() for _ in range(n)], [str(i) for i in range(n)], location=f"d{n}")
                  for n in (4, 5, 3)])


def table(s):
    """Accuracy rises with each index: one best point (3, 4, 2)."""
    return {json.dumps(d.to_numbers()): 0.5 + 0.01 * sum(d.to_numbers()) for d in iter_dna(s)}


def test_trials_to_target_counts_until_the_first_hit_or_budget_plus_one():
    s = spec()
    t = table(s)
    best = max(t.values())
    algo = Random(seed=0)
    k = Q.trials_to_target(algo, s, t, best, 60)
    assert 1 <= k <= 61 and algo.num_proposals == min(k, 60)
    assert Q.trials_to_target(Random(seed=0), s, t, best + 1, 7) == 8       # unreachable: budget + 1


def test_record_has_each_algorithm_per_seed_and_the_comparison(monkeypatch):
    s = spec()
    r = Q.run(table(s), s, seeds=3, target_points=0.5)
    assert r["points"] == 60 and r["points_at_target"] == 1 and r["budget"] == 60
    assert r["target_accuracy"] == pytest.approx(r["best_accuracy"] - 0.005)
    for name in ("random", "evolution", "tpe"):
        a = r["algorithms"][name]
        if "unavailable" in a:
            assert name == "tpe"
            continue
        assert len(a["trials_to_target"]) == 3 and a["median"] == sorted(a["trials_to_target"])[1]
    assert set(r["fewer_trials_than_random"]) == {"evolution", "tpe"}
    json.dumps(r)
    assert "median" in Q.format_record(r)


def test_main_trains_the_table_then_reports_json(monkeypatch, capsys):
    s = spec()
    monkeypatch.setattr(Q, "load_space", lambda target: "the space")
    monkeypatch.setattr(Q, "accuracy_table", lambda space, log: table(s))
    monkeypatch.setattr("mldsl.hyper.dna_spec", lambda space: s)
    assert Q.main(["--json", "--seeds", "2", "--budget", "30"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["space"] == Q.DEFAULT_FILE and r["budget"] == 30 and r["seeds"] == 2
