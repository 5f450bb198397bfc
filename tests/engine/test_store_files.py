"""Files that are not mldsl stores are refused untouched; schema versions; damaged rows; owners of runs."""
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mldsl.cli import main
from mldsl.engine import owner as owners
from mldsl.engine.store import Store
from mldsl.engine.store_file import APPLICATION_ID, SCHEMA_VERSION
from mldsl.errors import StoreError

V1_DUMP = Path(__file__).resolve().parent / "data" / "store_v1.sql"


def _fingerprint(path: Path) -> tuple:
    st = path.stat()
    return path.read_bytes(), st.st_mtime_ns, sorted(p.name for p in path.parent.iterdir())


def _refused_untouched(path: Path, match: str) -> StoreError:
    before = _fingerprint(path)
    with pytest.raises(StoreError, match=match) as info:
        Store(path)
    assert _fingerprint(path) == before  # same bytes, same mtime, no -wal/-shm or temp file left
    return info.value


def test_an_empty_file_is_refused_and_left_as_it_is(tmp_path):
    path = tmp_path / "mldsl.db"
    path.write_bytes(b"")
    err = _refused_untouched(path, "not a readable mldsl store: it is an empty file")
    assert "--store NEW_FILE" in str(err)


def test_another_programs_sqlite_database_is_refused_untouched(tmp_path):
    path = tmp_path / "theirs.db"
    with sqlite3.connect(path) as conn:  # another program's table that happens to be called `runs`
        conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, what TEXT)")
        conn.execute("INSERT INTO runs (what) VALUES ('theirs')")
    conn.close()
    _refused_untouched(path, r"another program's SQLite database \(its tables: runs\)")
    assert main(["runs", "--store", str(path)]) == 2  # the CLI says so too, without a traceback
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("runs",)]


def test_another_applications_database_is_refused_by_its_application_id(tmp_path):
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id=1234")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.commit()
    conn.close()
    _refused_untouched(path, "another application's SQLite database")


def test_a_new_store_is_marked_as_ours(tmp_path):
    path = tmp_path / "new" / "mldsl.db"
    Store(path).close()
    header = path.read_bytes()[:100]
    assert int.from_bytes(header[68:72], "big") == APPLICATION_ID
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    assert sorted(p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")) == []


def test_stores_created_at_once_by_several_threads_are_one_store(tmp_path):
    import threading

    path = tmp_path / "mldsl.db"
    errors, ids = [], []

    def make():
        try:
            with Store(path) as store:
                ids.append(store.start_run(name="x", experiment_mlx="...").id)
        except Exception as exc:  # pragma: no cover - what the test is looking for
            errors.append(exc)

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Store(path) as store:
        assert sorted(r.id for r in store.list_runs()) == sorted(ids)


def _v1_store(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(V1_DUMP.read_text())
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    return path


def test_a_schema_1_store_is_upgraded_in_place(tmp_path):
    path = _v1_store(tmp_path / "mldsl.db")
    with Store(path) as store:
        runs = store.list_runs()
        assert [(r.status, r.metrics) for r in runs] == [("completed", {"accuracy": 0.9}), ("running", {})]
        assert runs[1].pid is None  # written before owners were recorded: left as it was
        study = store.get_study("tune")
        trials = store.trials(study)
        # 0 stays completed; 1 was "failed: abandoned" (retried by a resume): now interrupted; 2 was left
        # running by a schema-1 process, which has no owner to check: crashed
        assert [(t.status, t.attempts, t.failures) for t in trials] == [
            ("completed", 1, 0), ("interrupted", 1, 0), ("crashed", 1, 0)]
        claim = store.claim_trial(study, 1, [1, 0.5, 1], "t1")
        assert (claim.state, claim.attempt, claim.record.failures) == ("claimed", 2, 0)
        assert store.claim_trial(study, 2, [2, 0.5, 1], "t2").state == "claimed"
    assert int.from_bytes(path.read_bytes()[68:72], "big") == APPLICATION_ID
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("2",)


def test_a_store_of_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "mldsl.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"written by a newer mldsl \(schema 99; this mldsl reads up to 2\); "
                                         "upgrade mldsl"):
        Store(path)
    assert path.read_bytes() == before


def test_a_damaged_run_is_named_and_the_others_stay_readable(tmp_path, capsys):
    path = tmp_path / "mldsl.db"
    with Store(path) as store:
        good = store.start_run(name="good", experiment_mlx="...")
        store.finish_run(good.id, status="completed", metrics={"accuracy": 0.5})
        bad = store.start_run(name="bad", experiment_mlx="...")
        store.finish_run(bad.id, status="completed", metrics={"accuracy": 0.7})
        store._conn.execute("UPDATE runs SET metrics='{\"accuracy\": 0.7' WHERE id=?", (bad.id,))
        runs = {r.id: r for r in store.list_runs()}
        assert runs[good.id].metrics == {"accuracy": 0.5} and runs[good.id].damaged is None
        assert runs[bad.id].metrics == {} and runs[bad.id].status == "completed"
        assert runs[bad.id].damaged.startswith(f"run {bad.id} in {path} is damaged: its metrics is not valid JSON")
        assert store.get_run(good.id).metrics == {"accuracy": 0.5}
    assert main(["runs", "--store", str(path)]) == 0
    out, err = capsys.readouterr()
    assert good.id in out and bad.id in out and f"warning: run {bad.id}" in err and "Traceback" not in err
    assert main(["runs", "show", bad.id, "--store", str(path)]) == 0
    assert "damaged: run" in capsys.readouterr().out


def test_a_damaged_trial_stops_a_search_with_its_name(tmp_path):
    path = tmp_path / "mldsl.db"
    with Store(path) as store:
        study = store.open_study(name="s", space="sp", algorithm={}, objective="acc", direction="maximize", seed=0)
        for n in range(2):
            claim = store.claim_trial(study, n, [n], "x")
            store.finish_trial(study, n, status="completed", attempt=claim.attempt, reward=float(n))
        store._conn.execute("UPDATE trials SET dna='[1' WHERE number=1")
        trials = store.trials(study)  # a listing shows what it can
        assert trials[0].damaged is None and trials[1].dna is None and "trial 1 of study 's'" in trials[1].damaged
        with pytest.raises(StoreError, match=r"trial 1 of study 's' in .* is damaged: its dna is not valid JSON"):
            store.get_trial(study, 1)
        assert store.get_trial(study, 0).reward == 0.0


def test_a_store_under_a_file_is_a_clear_error(tmp_path):
    blocker = tmp_path / "notafolder"
    blocker.write_text("x")
    with pytest.raises(StoreError, match=r"notafolder is a file, not a folder"):
        Store(blocker / "mldsl.db")


# -- owners: a run whose process is gone is crashed ----------------------------------------------------
def _run_row(store: Store, **owner) -> str:
    run = store.start_run(name="x", experiment_mlx="...")
    sets = ", ".join(f"{k}=?" for k in owner)
    store._conn.execute(f"UPDATE runs SET {sets} WHERE id=?", (*owner.values(), run.id))
    store.release_run(run.id)
    return run.id


def test_runs_whose_process_is_gone_are_finalised_as_crashed(tmp_path):
    path = tmp_path / "mldsl.db"
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        live = owners.Owner(socket.gethostname(), child.pid, owners.process_start(child.pid))
        with Store(path) as store:
            alive = _run_row(store, pid=live.pid, pid_started=live.started)
            reused = _run_row(store, pid=live.pid, pid_started=live.started + "0")  # same pid, later process
            away_fresh = _run_row(store, host="elsewhere", pid=1, pid_started=None, heartbeat=time.time())
            away_stale = _run_row(store, host="elsewhere", pid=1, pid_started=None,
                                  heartbeat=time.time() - owners.LEASE_SECONDS - 1)
            mine = store.start_run(name="mine", experiment_mlx="...")  # held by this process
            status = {r.id: r.status for r in store.list_runs()}
            assert status == {alive: "running", reused: "crashed", away_fresh: "running", away_stale: "crashed",
                              mine.id: "running"}
            assert "pid" in store.get_run(reused).error and "ended without recording" in store.get_run(reused).error
        child.kill()
        child.wait()
        with Store(path) as store:
            assert store.get_run(alive).status == "crashed"  # finalised by the next reader
            with sqlite3.connect(path) as conn:  # written, not only shown
                assert conn.execute("SELECT status FROM runs WHERE id=?", (alive,)).fetchone() == ("crashed",)
            store.release_run(mine.id)  # as if this process could not finalise it
            assert store.get_run(mine.id).status == "crashed"
    finally:
        child.kill()


def test_a_crashed_run_loses_its_half_written_files_and_keeps_the_rest(tmp_path):
    """A run killed outright while plotting or saving leaves ``.NAME.partial`` files and ``model.partial/``;
    the reader that finalises it as crashed removes those and nothing else, without following links."""
    with Store(tmp_path / "mldsl.db") as store:
        run_id = _run_row(store, host=socket.gethostname(), pid=2**22 + 7, pid_started="gone")
        folder = tmp_path / "runs" / run_id
        (folder / "model.partial").mkdir(parents=True)
        (folder / "model.partial" / "weights.npz").write_bytes(b"half")
        (folder / ".history.png.partial").write_bytes(b"half")
        (folder / "history.csv").write_text("epoch,loss\n1,0.5\n")
        (folder / "experiment.mlx").write_text("...")
        outside = tmp_path / "keep.partial"
        outside.mkdir()
        (outside / "precious").write_text("x")
        (folder / "linked.partial").symlink_to(outside, target_is_directory=True)
        store.set_run_artifacts(run_id, folder)
        assert store.get_run(run_id).status == "crashed"
    assert sorted(p.name for p in folder.iterdir()) == ["experiment.mlx", "history.csv"]
    assert (outside / "precious").exists()


def test_a_crashed_rows_artifacts_path_elsewhere_is_not_cleaned(tmp_path):
    """The row's artifacts path is data in a file others may write: only the folder the runner makes for
    the run (``runs/<id>`` beside the store) is ever cleaned."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.partial").write_text("x")
    with Store(tmp_path / "mldsl.db") as store:
        run_id = _run_row(store, host=socket.gethostname(), pid=2**22 + 7, pid_started="gone")
        store.set_run_artifacts(run_id, elsewhere)
        assert store.get_run(run_id).status == "crashed"
    assert (elsewhere / "keep.partial").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files: this sub-case needs a normal user")
def test_a_read_only_store_shows_crashed_runs_and_refuses_writes_clearly(tmp_path):
    path = tmp_path / "mldsl.db"
    with Store(path) as store:
        dead = _run_row(store, pid=2 ** 22 + 7, pid_started=None)
    for p in (path, tmp_path):
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        with Store(path) as store:
            assert store.get_run(dead).status == "crashed"  # shown so, though it cannot be written
            with pytest.raises(StoreError, match="cannot be written|cannot open"):
                store.start_run(name="x", experiment_mlx="...")
    finally:
        tmp_path.chmod(0o755)
        path.chmod(0o644)


def test_the_damaged_json_error_is_not_a_traceback_in_trials_cli(tmp_path, capsys):
    path = tmp_path / "mldsl.db"
    with Store(path) as store:
        study = store.open_study(name="s", space="sp", algorithm={}, objective="acc", direction="maximize", seed=0)
        claim = store.claim_trial(study, 0, [0], "x")
        store.finish_trial(study, 0, status="completed", attempt=claim.attempt, reward=1.0, metrics={"acc": 1.0})
        store._conn.execute("UPDATE trials SET metrics='nope'")
    assert main(["trials", str(path), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)[0]["trials"]
    assert row["damaged"].startswith("trial 0 of study 's'")


def test_an_owner_refreshes_the_heartbeat_of_what_it_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(owners, "HEARTBEAT_SECONDS", 0.05)
    with Store(tmp_path / "mldsl.db") as store:
        run = store.start_run(name="x", experiment_mlx="...")
        first = store._conn.execute("SELECT heartbeat FROM runs WHERE id=?", (run.id,)).fetchone()[0]
        deadline = time.time() + 10
        while time.time() < deadline:
            time.sleep(0.05)
            beat = store._conn.execute("SELECT heartbeat FROM runs WHERE id=?", (run.id,)).fetchone()[0]
            if beat > first:
                break
        assert beat > first
