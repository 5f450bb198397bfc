"""Grid with a budget smaller than its space: a seeded shuffled walk that says what it will not cover, a
resumed study keeping its order, and the shipped example sweeping what its comment says (issue 19, item 6)."""
import re
import warnings
from pathlib import Path

import pytest

import mldsl
from mldsl.engine.search import run_search
from mldsl.hyper import Grid, dna_spec, iter_dna, oneof
from mldsl.hyper.algorithm import SearchWarning

from hyper_fakes import FakeDense, FakeExperiment, FakeSGD

ROOT = Path(__file__).resolve().parents[2]


def space():   # 3 x 3 x 3 x 6 = 162 points, like examples/digits.mlx
    return FakeExperiment([FakeDense(oneof([16, 30, 64]), activation=oneof(["relu", "elu", "tanh"]))],
                          batch_size=oneof([16, 32, 64]),
                          optimizer=FakeSGD(oneof([0.01, 0.02, 0.03, 0.04, 0.05, 0.06])))


def walk(grid, spec, n):
    grid.setup(spec)
    return [grid.propose() for _ in range(n)]


def test_a_budget_smaller_than_the_space_walks_a_seeded_shuffled_order_and_says_so():
    spec = dna_spec(space())
    grid, notes = Grid(seed=3).for_budget(spec, 27)
    assert grid.shuffle is True and grid.hyper_params() == {"grid_size": None, "shuffle": True, "seed": 3}
    (note,) = notes
    assert "27 of the space's 162 points" in note and "shuffled" in note and "trials = 162" in note
    first = walk(grid, spec, 27)
    ordered = list(iter_dna(spec))
    assert len(set(first)) == 27 and set(first) <= set(ordered) and first != ordered[:27]
    assert len({d.children[0].value for d in first}) == 3          # not one corner: every first choice
    assert walk(grid.fresh(), spec, 27) == first                     # seeded
    assert walk(Grid(seed=4).for_budget(spec, 27)[0], spec, 27) != first
    everything = walk(grid.fresh(), spec, 162)                       # still a sweep of the whole space
    assert sorted(map(str, everything)) == sorted(map(str, ordered))


def test_a_budget_that_covers_the_space_sweeps_in_order_silently():
    spec = dna_spec(space())
    grid, notes = Grid().for_budget(spec, 162)
    assert notes == [] and not grid.shuffle and grid.hyper_params() == {"grid_size": None}
    assert walk(grid, spec, 162) == list(iter_dna(spec))
    in_order, notes = Grid(shuffle=False).for_budget(spec, 10)       # asked for: in order, but said
    assert not in_order.shuffle and "10 of the space's 162 points" in notes[0]


def test_the_search_warns_and_a_resumed_study_keeps_its_shuffled_order(tmp_path):
    store = str(tmp_path / "s.db")
    kw = dict(name="g", algorithm="grid", objective="acc", store=store, seed=5,
              evaluate=lambda exp, report: {"acc": float(exp.layers[0].units)})
    with pytest.warns(SearchWarning, match=r"20 trials will cover 20 of the space's 162 points"):
        first = run_search(space(), trials=20, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                                # 162 trials: nothing to say
        whole = run_search(space(), trials=162, **kw)
    dnas = [tuple(t.dna) for t in whole.trials]
    assert dnas[:20] == [tuple(t.dna) for t in first.trials] and len(set(dnas)) == 162


def test_the_digits_example_budget_sweeps_the_space_its_comment_counts():
    text = (ROOT / "examples" / "digits.mlx").read_text()
    module = mldsl.load_mlx(ROOT / "examples" / "digits.mlx")
    search = module["digits_search"]
    points = len(list(iter_dna(dna_spec(search.space))))
    assert search.trials == points
    assert re.search(rf"= {points} points", text) and f"{points} trials" in text
