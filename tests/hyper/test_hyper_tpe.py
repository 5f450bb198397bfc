"""tpe(): Optuna's TPE sampler as a search algorithm registered by mldsl_std (issue 19, item 4)."""
import sys

import pytest

from mldsl.errors import SearchError
from mldsl.hyper import TPE, Random, dna_spec, floatv, intv, manyof, materialize, oneof

from hyper_fakes import FakeDense, FakeDropout, FakeExperiment, FakeSGD

pytest.importorskip("optuna", reason="tpe() needs Optuna (the dev extra installs it)")


def space():   # conditional (the dropout rate exists on one branch), log float, int, categorical
    return FakeExperiment([FakeDense(oneof([8, 16, 32]), activation=oneof(["relu", "elu", "tanh"])),
                           oneof([FakeDropout(floatv(0.0, 0.5)), FakeDense(intv(1, 9))])],
                          optimizer=FakeSGD(floatv(1e-4, 1e-1, scale="log")), batch_size=intv(16, 128))


def reward(spec, dna):
    exp = materialize(space(), dna, spec)
    lr = exp.optimizer.learning_rate
    return -abs(exp.batch_size - 100) / 100 - (abs(__import__("math").log10(lr) + 2)) + exp.layers[0].units / 32


def run(algo, spec, n, skip_every=0):
    algo.setup(spec)
    out = []
    for k in range(n):
        dna = algo.propose()
        spec.validate(dna)
        r = None if skip_every and k % skip_every == skip_every - 1 else reward(spec, dna)
        algo.feedback(dna, r)
        out.append((dna, r))
    return out


def test_tpe_is_registered_by_the_standard_plugin():
    import mldsl
    assert mldsl.get_registry().algorithm("tpe") is TPE


def test_same_seed_same_proposals_and_recover_replays_exactly():
    spec = dna_spec(space())
    full = run(TPE(n_startup_trials=5, seed=3), spec, 25, skip_every=6)
    assert [d for d, _ in run(TPE(n_startup_trials=5, seed=3), spec, 25, skip_every=6)] == [d for d, _ in full]
    assert [d for d, _ in run(TPE(n_startup_trials=5, seed=4), spec, 25)] != [d for d, _ in full]
    resumed = TPE(n_startup_trials=5, seed=3)
    resumed.setup(spec)
    resumed.recover(full[:14])
    assert [resumed.propose() for _ in range(1)] == [full[14][0]]


def test_tpe_learns_what_random_does_not():
    spec = dna_spec(space())
    best = {name: max(r for _, r in run(make(), spec, 40))
            for name, make in (("tpe", lambda: TPE(n_startup_trials=10, seed=1)), ("random", lambda: Random(seed=1)))}
    assert best["tpe"] > best["random"]


def test_manyof_is_refused_with_what_to_use():
    with pytest.raises(SearchError, match=r"tpe\(\) cannot search manyof.*random\(\) or evolution\(\)"):
        TPE().setup(dna_spec(FakeExperiment([FakeDense(8)], tags=manyof(2, ["a", "b", "c"]))))


def test_without_optuna_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)      # import optuna raises ImportError
    with pytest.raises(SearchError, match=r'Optuna is not installed here; install it with pip install "mldsl\[optuna\]"'):
        TPE().setup(dna_spec(space()))


def test_a_tpe_search_resumed_from_its_store_proposes_what_an_uninterrupted_one_does(tmp_path):
    from mldsl.engine.search import run_search
    kw = dict(name="t", algorithm=TPE(n_startup_trials=3), objective="acc", seed=2,
              evaluate=lambda exp, report: {"acc": -abs(exp.batch_size - 100) + exp.layers[0].units})
    whole = run_search(space(), trials=10, **kw)
    store = str(tmp_path / "s.db")
    run_search(space(), trials=6, store=store, **kw)
    resumed = run_search(space(), trials=10, store=store, **kw)
    assert [t.dna for t in resumed.trials] == [t.dna for t in whole.trials]
