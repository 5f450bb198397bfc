"""The SQLite results store: durable records, resume bookkeeping, clear errors on bad files."""
import math
import sqlite3
import subprocess
import sys

import pytest

from mldsl.engine.store import Store
from mldsl.errors import StoreError


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "mldsl.db") as s:
        yield s


def test_store_uses_wal_mode(store):
    mode = store._conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_run_lifecycle_round_trips(store):
    run = store.start_run(name="digits", experiment_mlx="experiment digits = ...", seed=3, backend="native",
                          patches=["change_lr?0.1"], versions={"mldsl": "0.1.0"})
    assert run.status == "running"
    store.update_run_history(run.id, [{"epoch": 1, "loss": 1.5}])
    done = store.finish_run(run.id, status="completed", metrics={"accuracy": 0.9},
                            history=[{"epoch": 1, "loss": 1.5}, {"epoch": 2, "loss": float("nan")}])
    assert done.status == "completed" and done.metrics == {"accuracy": 0.9}
    assert done.history[1]["loss"] == "nan"  # kept, not dropped or rejected
    import numpy as np

    again = store.finish_run(run.id, status="completed", history=[{"loss": np.float64("nan"), "n": np.int64(2)}])
    assert again.history == [{"loss": "nan", "n": 2}]  # NumPy scalars stored as plain numbers
    assert done.duration is not None and done.duration >= 0
    assert store.get_run(run.id[:6]).id == run.id
    assert [r.id for r in store.list_runs()] == [run.id]


def test_history_written_per_epoch_survives_without_finish(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as s:
        run = s.start_run(name="x", experiment_mlx="...")
        s.update_run_history(run.id, [{"epoch": 1, "loss": 2.0}])
    with Store(path) as s:  # as if the process had died: the history is there
        again = s.get_run(run.id)
        assert again.status == "running" and again.history == [{"epoch": 1, "loss": 2.0}]


def test_unknown_run_and_bad_status_are_clear(store):
    with pytest.raises(StoreError, match="mldsl runs"):
        store.get_run("nope")
    run = store.start_run(name="x", experiment_mlx="...")
    with pytest.raises(ValueError, match="unknown run status"):
        store.finish_run(run.id, status="exploded")


def test_study_resume_checks_it_is_the_same_search(store):
    kw = dict(name="tune", space="space", algorithm={"name": "random", "seed": 1}, objective="accuracy",
              direction="maximize", seed=1)
    first = store.open_study(**kw)
    assert store.open_study(**kw).id == first.id
    with pytest.raises(StoreError, match="different search space"):
        store.open_study(**{**kw, "space": "other"})


def test_trial_claims_final_trials_and_given_back_ones(store):
    study = store.open_study(name="s", space="sp", algorithm={}, objective="acc", direction="maximize", seed=0)
    first = store.claim_trial(study, 0, [1, 2], "exp0")
    assert first.state == "claimed" and first.attempt == 1 and first.record.pid == __import__("os").getpid()
    store.finish_trial(study, 0, status="completed", attempt=1, reward=0.5, metrics={"acc": 0.5})
    assert store.claim_trial(study, 0, [1, 2], "exp0").state == "final"  # never rerun
    assert store.claim_trial(study, 0, [9, 9], "exp0").state == "mismatch"
    claim = store.claim_trial(study, 1, [0, 0], lambda: "printed only when recorded")
    assert claim.record.experiment_mlx == "printed only when recorded"
    assert store.claim_trial(study, 1, [0, 0], "x").state == "busy"  # this process holds it
    store.release_trials(study, {1: claim.attempt}, "interrupted: Ctrl-C")
    trial = store.get_trial(study, 1)
    assert trial.status == "interrupted" and trial.error == "interrupted: Ctrl-C" and not trial.final
    again = store.claim_trial(study, 1, [0, 0], "exp1")
    assert again.state == "claimed" and again.attempt == 2 and again.record.failures == 0
    # an outcome from a superseded attempt is not recorded
    assert store.finish_trial(study, 1, status="completed", attempt=1, reward=1.0).status == "running"
    assert store.retry_trial(study, 1, 2) == 3  # the worker died: a failure is counted
    done = store.finish_trial(study, 1, status="completed", attempt=3, reward=float("nan"))
    assert done.reward is None and done.failures == 1  # NaN is not a reward
    assert [t.number for t in store.trials(study)] == [0, 1]


def test_not_a_database_is_a_clear_error_and_file_is_untouched(tmp_path):
    path = tmp_path / "mldsl.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a readable mldsl store"):
        Store(path)
    assert path.read_bytes() == before


def test_truncated_store_is_a_clear_error(tmp_path):
    path = tmp_path / "mldsl.db"
    with Store(path) as s:
        study = s.open_study(name="s", space="sp", algorithm={}, objective="acc", direction="maximize", seed=0)
        for i in range(200):
            s.claim_trial(study, i, [i], "x" * 500)
        s._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError, match="truncated|not a readable"):
        with Store(path) as s:
            s.trials(s.get_study("s"))


def test_locked_store_is_a_clear_error(tmp_path):
    path = tmp_path / "mldsl.db"
    Store(path).close()
    holder = sqlite3.connect(str(path), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked by another process"):
            with Store(path, timeout=0.2) as s:
                s.start_run(name="x", experiment_mlx="...")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_store_path_that_is_a_folder(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)


def test_finished_trial_is_durable_across_a_hard_kill(tmp_path):
    """A child records a trial as completed, then dies with SIGKILL: the record is there."""
    path = tmp_path / "mldsl.db"
    code = f"""
import os, signal
from mldsl.engine.store import Store
s = Store({str(path)!r})
st = s.open_study(name='k', space='sp', algorithm={{}}, objective='acc', direction='maximize', seed=0)
c = s.claim_trial(st, 0, [0], 'e')
s.finish_trial(st, 0, status='completed', attempt=c.attempt, reward=0.75)
print('acknowledged', flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "acknowledged" in out.stdout and out.returncode == -9
    with Store(path) as s:
        trial = s.get_trial(s.get_study("k"), 0)
        assert trial.status == "completed" and math.isclose(trial.reward, 0.75)
