"""The Ray executor, for real: a local Ray (2 CPUs, no dashboard) gives the same trials as in-process."""
import pytest

import search_testlib as L
from mldsl.engine.search import run_search
from mldsl.hyper.evolution import Evolution

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow


def test_ray_gives_the_same_proposals_and_outcomes_as_in_process(tmp_path):
    kw = dict(name="s", algorithm=Evolution(population_size=3, tournament_size=2), trials=10,
              objective="acc", evaluate=L.ev_flaky, seed=4, early_stopping="median(after=2)", workers=2)
    inproc = run_search(L.raw_space(), executor="inprocess", **kw)
    on_ray = run_search(L.raw_space(), executor="ray", store=str(tmp_path / "ray.db"), **kw)
    assert not ray.is_initialized()  # the Ray it started is shut down again
    key = lambda r: [(t.number, t.dna, t.status, t.reward, t.error) for t in r.trials]  # noqa: E731
    assert key(on_ray) == key(inproc)
    assert {t.status for t in on_ray.trials} >= {"completed", "failed"}
    assert all(t.history for t in on_ray.trials if t.status == "completed")  # history comes back with the result
    assert on_ray.best.number == inproc.best.number


def test_missing_ray_is_a_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    from mldsl.errors import SearchError

    with pytest.raises(SearchError, match=r'pip install "mldsl\[ray\]"'):
        run_search(L.raw_space(), name="s", algorithm="random", trials=1, objective="acc",
                   evaluate=L.ev_simple, executor="ray")
