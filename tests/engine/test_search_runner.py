"""run_search: deterministic proposals, durable records, failures, NaN, early stopping, resume rules."""
import sqlite3

import pytest

import search_testlib as L
from mldsl.engine.search import run_search
from mldsl.engine.store import Store
from mldsl.errors import SearchError, StoreError
from mldsl.hyper.evolution import Evolution
from mldsl.hyper.grid import Grid
from mldsl.hyper.random_search import Random


def _key(result):
    return [(t.number, t.dna, t.status, t.reward) for t in result.trials]


def test_search_in_memory_finds_the_best_and_is_deterministic():
    kw = dict(name="s", algorithm=Evolution(population_size=4, tournament_size=2), trials=25, objective="acc",
              evaluate=L.ev_simple, seed=3)
    a = run_search(L.raw_space(), **kw)
    b = run_search(L.raw_space(), **kw)
    assert _key(a) == _key(b) and len(a.trials) == 25
    assert [t.number for t in a.trials] == list(range(25))
    assert a.best.reward == max(t.reward for t in a.trials)
    c = run_search(L.raw_space(), **{**kw, "seed": 4})
    assert _key(c) != _key(a)  # the seed matters


def test_minimize_picks_the_smallest():
    res = run_search(L.raw_space(), name="s", algorithm=Random(), trials=10, objective="acc",
                     direction="minimize", evaluate=L.ev_simple, seed=1)
    assert res.best.reward == min(t.reward for t in res.trials)


def test_trials_are_recorded_before_running(tmp_path):
    path = tmp_path / "s.db"
    seen = []

    def evaluate(exp, report):
        with Store(path) as other:  # another connection sees the trial as running, with its experiment
            trial = other.trials(other.get_study("s"))[-1]
            seen.append((trial.status, trial.experiment_mlx, trial.dna))
        return {"acc": L.score(exp)}

    res = run_search(L.raw_space(), name="s", algorithm=Random(), trials=3, objective="acc", store=str(path),
                     evaluate=evaluate, seed=0)
    assert [s[0] for s in seen] == ["running"] * 3
    assert all(s[1] and '"lr"' in s[1] for s in seen)
    assert [s[2] for s in seen] == [t.dna for t in res.trials]


def test_failed_trial_is_recorded_and_the_search_goes_on(tmp_path):
    res = run_search(L.raw_space(), name="s", algorithm=Random(), trials=20, objective="acc",
                     store=str(tmp_path / "s.db"), evaluate=L.ev_flaky, seed=5)
    failed = [t for t in res.trials if t.status == "failed"]
    assert failed and len(res.trials) == 20
    assert any("RuntimeError: boom" in t.error for t in failed)
    assert all(t.attempts == 1 for t in failed)  # a trial's own error is not retried
    assert res.best is not None and res.best.status == "completed"
    with Store(tmp_path / "s.db") as store:  # durable: the same as what run_search returned
        assert [(t.number, t.status, t.error) for t in store.trials(store.get_study("s"))] == \
            [(t.number, t.status, t.error) for t in res.trials]


def test_nan_reward_and_nan_loss_are_failures():
    res = run_search(L.raw_space(), name="s", algorithm=Random(), trials=30, objective="acc",
                     evaluate=L.ev_flaky, seed=5)
    nan = [t for t in res.trials if t.status == "failed" and "nan" in (t.error or "").lower()]
    assert nan and all(t.reward is None for t in nan)
    res = run_search(L.raw_space(), name="s", algorithm=Random(), trials=2, objective="acc",
                     evaluate=L.ev_nan_loss, seed=5)
    assert [t.status for t in res.trials] == ["failed", "failed"]
    assert res.trials[0].error == "NaN loss at epoch 1" and res.best is None


def test_missing_objective_is_a_clear_failure():
    res = run_search(L.raw_space(), name="s", algorithm=Random(), trials=1, objective="accuracy",
                     evaluate=L.ev_simple, seed=0)
    assert res.trials[0].status == "failed"
    assert "objective 'accuracy' not in the metrics (acc)" in res.trials[0].error


def test_median_early_stopping_stops_a_bad_trial(tmp_path):
    calls = []

    def evaluate(exp, report):
        # trials 0-2 are good and complete 4 epochs; a bad one falls below the median at epoch 2
        good = len(calls) < 3 or len(calls) == 4
        calls.append(good)
        value = 0.9 if good else 0.1
        epochs = 0
        for epoch in range(1, 5):
            epochs = epoch
            if report(epoch, {"loss": 1.0, "acc": value}) is False:
                break
        return {"acc": value, "epochs": epochs}

    # window=1: each trial's reference set is every trial before it (with the default window of 8 the
    # first 8 trials have no completed reference yet, so none of these 5 could be stopped)
    res = run_search(L.raw_space(), name="s", algorithm=Random(), trials=5, objective="acc", window=1,
                     store=str(tmp_path / "s.db"), evaluate=evaluate, seed=0, early_stopping="median(after=2)")
    statuses = [t.status for t in res.trials]
    assert statuses == ["completed", "completed", "completed", "stopped", "completed"]
    stopped = res.trials[3]
    assert stopped.metrics["epochs"] == 2 and len(stopped.history) == 2  # stopped at epoch 2, not 4
    assert "below the median 0.9" in stopped.error and stopped.reward == 0.1
    assert res.best.status == "completed"


def test_early_stopping_ignores_epochs_before_after():
    def evaluate(exp, report):
        for epoch in range(1, 4):
            if report(epoch, {"acc": 0.9 if epoch == 3 else 0.0 + (len(seen) == 0)}) is False:
                seen.append("stopped")
                return {"acc": 0.0}
        seen.append("done")
        return {"acc": 0.9}

    seen = []
    res = run_search(L.raw_space(), name="s", algorithm=Random(), trials=2, objective="acc", evaluate=evaluate,
                     seed=0, early_stopping={"name": "median", "after": 3})
    assert [t.status for t in res.trials] == ["completed", "completed"]


def test_grid_search_stops_when_the_sweep_is_done():
    from mldsl.hyper.geno import Choices, Space

    space = Space([Choices(1, [Space(), Space(), Space()], ["1", "2", "3"], location="x")])
    res = run_search(space, name="g", algorithm=Grid(), trials=10, objective="acc",
                     evaluate=lambda exp, report: {"acc": float(exp["x"])})
    assert [t.dna for t in res.trials] == [[0], [1], [2]] and res.best.number == 2


def test_resume_never_reruns_completed_and_extends(tmp_path):
    path = str(tmp_path / "s.db")
    ran = []

    def evaluate(exp, report):
        ran.append(exp["lr"])
        return {"acc": L.score(exp)}

    kw = dict(name="s", algorithm=Evolution(population_size=3, tournament_size=2), objective="acc",
              store=path, evaluate=evaluate, seed=11)
    first = run_search(L.raw_space(), trials=6, **kw)
    assert first.ran == 6
    again = run_search(L.raw_space(), trials=6, **kw)
    assert again.ran == 0 and len(ran) == 6 and _key(again) == _key(first)
    more = run_search(L.raw_space(), trials=10, **kw)
    straight = run_search(L.raw_space(), trials=10, **{**kw, "store": None})
    assert more.ran == 4 and _key(more) == _key(straight)


def _claim_then_die(path, numbers, dnas):
    """A child process claims ``numbers`` of study "s" and is SIGKILLed while holding them."""
    import signal
    import subprocess
    import sys

    code = f"""
import os, signal
from mldsl.engine.store import Store
s = Store({str(path)!r})
st = s.get_study('s')
for n, dna in zip({list(numbers)!r}, {list(dnas)!r}):
    assert s.claim_trial(st, n, dna, 'x').state == 'claimed'
os.kill(os.getpid(), signal.SIGKILL)
"""
    assert subprocess.run([sys.executable, "-c", code]).returncode == -signal.SIGKILL


def test_trials_of_a_dead_search_run_again_without_counting_as_failures(tmp_path):
    path = tmp_path / "s.db"
    kw = dict(name="s", algorithm=Random(), objective="acc", evaluate=L.ev_simple, seed=2, max_retries=0)
    run_search(L.raw_space(), trials=3, store=str(path), **kw)
    algo = Random(seed=2)
    algo.setup(L.raw_space())
    dnas = [algo.propose().to_json() for _ in range(5)]
    _claim_then_die(path, [3, 4], dnas[3:])
    with Store(path) as store:  # shown as crashed once its process is gone
        assert [t.status for t in store.trials(store.get_study("s"))][3:] == ["crashed", "crashed"]
    res = run_search(L.raw_space(), trials=5, store=str(path), **kw)
    assert res.ran == 2 and res.retried == [3, 4]
    assert [(t.status, t.attempts, t.failures) for t in res.trials[3:]] == [("completed", 2, 0)] * 2
    assert run_search(L.raw_space(), trials=5, store=str(path), **kw).ran == 0  # final now
    straight = run_search(L.raw_space(), trials=5, **kw)
    assert _key(res) == _key(straight)


def test_a_trial_claimed_by_a_live_process_is_left_to_it(tmp_path):
    """Another live process holds trial 1: this search waits for its outcome instead of running it."""
    import threading

    path = tmp_path / "s.db"
    kw = dict(name="s", algorithm=Random(), objective="acc", evaluate=L.ev_simple, seed=2)
    run_search(L.raw_space(), trials=1, store=str(path), **kw)
    algo = Random(seed=2)
    algo.setup(L.raw_space())
    dnas = [algo.propose().to_json() for _ in range(3)]
    holder = Store(path)
    study = holder.get_study("s")
    claim = holder.claim_trial(study, 1, dnas[1], "held")
    assert claim.state == "claimed"

    def finish_later():
        import time

        time.sleep(0.5)
        with Store(path) as other:  # a connection of this thread
            other.finish_trial(study, 1, status="completed", attempt=claim.attempt, reward=42.0,
                               metrics={"acc": 42.0})

    thread = threading.Thread(target=finish_later)
    thread.start()
    try:
        res = run_search(L.raw_space(), trials=3, store=str(path), **kw)
    finally:
        thread.join()
        holder.close()
    assert res.ran == 1  # only trial 2: trial 1 was the other claim's
    assert res.trials[1].reward == 42.0 and res.trials[1].experiment_mlx == "held"
    assert res.best.number == 1


def test_resume_with_a_changed_algorithm_is_refused(tmp_path):
    path = str(tmp_path / "s.db")
    run_search(L.raw_space(), name="s", algorithm=Random(), trials=2, objective="acc", store=path,
               evaluate=L.ev_simple, seed=1)
    with pytest.raises(StoreError, match="different algorithm"):
        run_search(L.raw_space(), name="s", algorithm=Evolution(population_size=2, tournament_size=1),
                   trials=2, objective="acc", store=path, evaluate=L.ev_simple, seed=1)
    with pytest.raises(StoreError, match="different algorithm, seed"):
        run_search(L.raw_space(), name="s", algorithm=Random(), trials=2, objective="acc", store=path,
                   evaluate=L.ev_simple, seed=2)
    with pytest.raises(SearchError, match="window=1"):
        run_search(L.raw_space(), name="s", algorithm=Random(), trials=2, objective="acc", store=path,
                   evaluate=L.ev_simple, seed=1, window=3)


def test_replay_detects_a_store_that_does_not_match_the_algorithm(tmp_path):
    path = tmp_path / "s.db"
    run_search(L.raw_space(), name="s", algorithm=Random(), trials=2, objective="acc", store=str(path),
               evaluate=L.ev_simple, seed=1)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE trials SET dna='[0, 0.5, 1]' WHERE number=1")
    with pytest.raises(SearchError, match="trial 1 was DNA"):
        run_search(L.raw_space(), name="s", algorithm=Random(), trials=3, objective="acc", store=str(path),
                   evaluate=L.ev_simple, seed=1)


def test_window_bounds_what_a_proposal_sees():
    kw = dict(name="s", algorithm=Evolution(population_size=2, tournament_size=1), trials=12,
              objective="acc", evaluate=L.ev_simple, seed=9)
    one, three = run_search(L.raw_space(), **kw), run_search(L.raw_space(), window=3, **kw)
    assert _key(one)[:2] == _key(three)[:2]  # random phase (population_size=2) identical
    assert _key(one) != _key(three)          # later proposals saw different feedback
    # a given window gives the same proposals on every executor and worker count
    assert _key(run_search(L.raw_space(), workers=3, executor="local", window=1, **kw)) == _key(one)


def test_the_default_window_is_the_trials_that_run_at_once():
    """Alone (in process) a search proposes from every earlier result: no stale feedback (window 1)."""
    kw = dict(name="s", algorithm=Evolution(population_size=2, tournament_size=1), trials=12,
              objective="acc", evaluate=L.ev_simple, seed=9)
    assert _key(run_search(L.raw_space(), **kw)) == _key(run_search(L.raw_space(), window=1, **kw))
    assert _key(run_search(L.raw_space(), workers=3, **kw)) == _key(run_search(L.raw_space(), window=3, **kw))
    from mldsl.engine.search import default_window
    assert default_window("inprocess", None) == 1 and default_window("local", 4) == 4
    assert default_window("local", None) == len(__import__("os").sched_getaffinity(0))


def test_process_pool_gives_the_same_trials_as_in_process(tmp_path):
    kw = dict(name="s", algorithm=Evolution(population_size=3, tournament_size=2), trials=10,
              objective="acc", evaluate=L.ev_flaky, seed=4, early_stopping="median(after=2)", workers=2)
    inproc = run_search(L.raw_space(), executor="inprocess", **kw)
    pooled = run_search(L.raw_space(), executor="local", store=str(tmp_path / "p.db"), **kw)
    assert _key(pooled) == _key(inproc)
    assert {t.status for t in inproc.trials} >= {"completed", "failed"}
    assert all(t.history for t in pooled.trials if t.status == "completed")


def test_a_dead_worker_is_retried_then_given_up(tmp_path, monkeypatch):
    monkeypatch.setenv("SEARCH_TEST_DIR", str(tmp_path))
    kw = dict(name="s", algorithm=Random(), objective="acc", seed=1, executor="local", workers=1)
    res = run_search(L.raw_space(), trials=2, evaluate=L.ev_crash_once, max_retries=1,
                     store=str(tmp_path / "a.db"), **kw)
    assert [(t.status, t.attempts, t.failures) for t in res.trials] == [("completed", 2, 1)] * 2
    res = run_search(L.raw_space(), trials=1, evaluate=L.ev_always_crash, max_retries=1, **kw)
    assert res.trials[0].status == "failed" and (res.trials[0].attempts, res.trials[0].failures) == (2, 2)
    assert "gave up after 2 attempts: the worker died (WorkerDied: the worker process running trial 0 died " \
           "(exit code 3))" in res.trials[0].error


def test_a_dying_worker_fails_only_its_own_trial(tmp_path, monkeypatch):
    """Two workers: the one whose trial kills it is replaced; the trial running beside it is untouched."""
    monkeypatch.setenv("SEARCH_TEST_DIR", str(tmp_path))
    res = run_search(L.raw_space(), name="s", algorithm=Random(), objective="acc", seed=1, executor="local",
                     workers=2, trials=4, evaluate=L.ev_crash_when_choice_c, max_retries=0)
    crashed = [t for t in res.trials if t.status == "failed"]
    assert len(crashed) == 2 and all(t.dna[0] == 2 and t.failures == 1 for t in crashed)
    assert all(t.status == "completed" and t.failures == 0 for t in res.trials if t.dna[0] != 2)


def test_bad_arguments_are_clear_errors():
    space = L.raw_space()
    base = dict(name="s", algorithm=Random(), trials=1, objective="acc", evaluate=L.ev_simple)
    with pytest.raises(SearchError, match="unknown executor 'rey'; did you mean 'ray'"):
        run_search(space, **{**base, "executor": "rey"})
    with pytest.raises(SearchError, match="direction"):
        run_search(space, **{**base, "direction": "up"})
    with pytest.raises(SearchError, match="unknown early-stopping rule 'medain'; did you mean 'median'"):
        run_search(space, **{**base, "early_stopping": "medain(after=2)"})
    with pytest.raises(SearchError, match="workers must be"):
        run_search(space, **{**base, "workers": 0})
    with pytest.raises(SearchError, match="unknown search algorithm 'randon'; did you mean 'random'"):
        run_search(space, **{**base, "algorithm": "randon"})


def test_truncated_and_locked_stores_are_clear_errors(tmp_path):
    path = tmp_path / "s.db"
    run_search(L.raw_space(), name="s", algorithm=Random(), trials=30, objective="acc", store=str(path),
               evaluate=L.ev_simple, seed=1)
    data = path.read_bytes()
    bad = tmp_path / "bad.db"
    bad.write_bytes(data[: len(data) // 3 + 100])
    with pytest.raises(StoreError, match="not a readable mldsl store"):
        run_search(L.raw_space(), name="s", algorithm=Random(), trials=31, objective="acc", store=str(bad),
                   evaluate=L.ev_simple, seed=1)
    with Store(path, timeout=0.1) as store:
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process is writing
        try:
            with pytest.raises(StoreError, match="locked by another process"):
                run_search(L.raw_space(), name="s", algorithm=Random(), trials=31, objective="acc",
                           store=store, evaluate=L.ev_simple, seed=1)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
    with Store(path) as store:  # nothing was lost
        assert len(store.trials(store.get_study("s"))) == 30


def test_symbolic_experiments_travel_to_worker_processes(tmp_path):
    kw = dict(name="sym", algorithm=Evolution(population_size=2, tournament_size=1), trials=5,
              objective="accuracy", evaluate=L.ev_symbolic, seed=2, workers=2)
    inproc = run_search(L.symbolic_space(), executor="inprocess", **kw)
    pooled = run_search(L.symbolic_space(), executor="local", store=str(tmp_path / "s.db"), **kw)
    assert _key(pooled) == _key(inproc) and {t.status for t in pooled.trials} == {"completed"}
    assert pooled.trials[0].experiment_mlx.startswith("experiment sym_trial_0 = Experiment(")
    assert inproc.trials[0].experiment_mlx == pooled.trials[0].experiment_mlx  # in memory: printed when read


def test_pool_workers_share_the_cores(tmp_path, monkeypatch):
    """Each of N local workers trains on cores // N threads, so parallel trials don't oversubscribe."""
    import os

    monkeypatch.delenv("MLDSL_NUM_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    res = run_search(L.raw_space(), name="s", algorithm=Random(), trials=2, objective="acc", seed=1,
                     executor="local", workers=2, evaluate=L.ev_threads, store=str(tmp_path / "t.db"))
    assert {t.metrics["threads"] for t in res.trials} == {max(1, (os.cpu_count() or 1) // 2)}
