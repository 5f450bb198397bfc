"""The results store: one SQLite file (WAL mode) holding runs, search studies and their trials.

Every state change is committed before the call that made it returns, so what the caller has been told
("trial 7 completed") survives a crash of the process right after.

**Whose file.** A store is marked as mldsl's (SQLite's ``application_id`` and a ``meta`` table with the
schema version). A file that is not one, an empty file or another program's SQLite database, is refused
before anything is written to it. A store of an older schema is upgraded in place (see
:data:`~mldsl.engine.store_file.MIGRATIONS`); one of a newer schema is refused with a message saying to upgrade mldsl.

**Owners.** A running run and a claimed trial record the process that owns them (host, pid, process
start time; :mod:`mldsl.engine.owner`). Reading runs finalises those whose process is gone as
``crashed``; a search re-claims trials whose process is gone (they are shown as ``crashed`` until then).

**Failures.** A store that cannot be read or written (not a database, damaged, locked, read-only, a full
disk) gives a :class:`~mldsl.errors.StoreError` saying what failed, the path, and what to do; a row whose
JSON is damaged is named, and the other rows stay readable.
"""
from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import Any, Callable, Optional, Union

from mldsl.engine import owner as owners
from mldsl.engine.artifact_files import remove_partial_writes
from mldsl.engine import store_file
from mldsl.engine.records import (FINAL_TRIAL_STATUSES, RUN_STATUSES, TRIAL_STATUSES, Claim, RunRecord,
                                  StudyRecord, TrialRecord, clean_floats, decode_json_column, dumps,
                                  loads_or_none)
from mldsl.engine.store_file import SCHEMA_VERSION
from mldsl.errors import StoreError

#: Records this process holds (runs it is running, trials it claimed), by store path. A row owned by
#: this process but not held here was left by an earlier call that could not finalise it.
_HELD: set = set()



class _Heartbeat(threading.Thread):
    """Refreshes the heartbeat of the running runs and claimed trials this process owns in one store,
    so that a process on another host can tell them from abandoned ones."""

    def __init__(self, store: "Store", me: owners.Owner):
        super().__init__(name=f"mldsl-heartbeat {store.path.name}", daemon=True)
        self.path, self.me = store.path, me
        self.store = weakref.ref(store)  # a store dropped without close() stops its heartbeat too
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            conn = sqlite3.connect(str(self.path), timeout=5.0, isolation_level=None)
        except sqlite3.Error:
            return
        try:
            while not self.stop.wait(owners.HEARTBEAT_SECONDS) and self.store() is not None:
                try:
                    for table in ("runs", "trials"):
                        conn.execute(f"UPDATE {table} SET heartbeat=? WHERE status='running' AND host=? AND "
                                     "pid=? AND pid_started IS ?",
                                     (time.time(), self.me.host, self.me.pid, self.me.started))
                except sqlite3.Error:
                    pass  # a busy or full store: the next beat tries again
        finally:
            conn.close()


class Store:
    """A SQLite results store. Use as a context manager or call :meth:`close`.

    ``Store(path)`` creates the file (and its folder) if needed, and refuses a file that is not an mldsl
    store without changing it. Connections are per-process: a worker process opens its own ``Store`` on
    the same path; SQLite's WAL mode lets readers and one writer work side by side, and ``timeout``
    bounds how long a writer waits for a lock before a clear error.
    """

    def __init__(self, path: str | os.PathLike, *, timeout: float = 30.0):
        self.path = Path(path)
        self._resolved = str(self.path.resolve())  # the store's name in this process's held records
        self.timeout = timeout
        self._conn: Optional[sqlite3.Connection] = None
        self._heartbeat: Optional[_Heartbeat] = None
        if self.path.is_dir():
            raise StoreError(f"store path {self.path} is a folder; give the path of a file (a new one is "
                             "created)")
        try:
            if not self.path.exists():
                store_file.create(self.path)
            store_file.check_is_ours(self.path, timeout)
            self._conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._upgrade()
        except sqlite3.Error as exc:
            self.close()
            raise self._explain(exc) from None
        except OSError as exc:
            self.close()
            raise StoreError(store_file.explain_os_error("opening the store", self.path, exc)) from None
        except BaseException:
            self.close()
            raise

    # -- opening ------------------------------------------------------------------------------------
    def _upgrade(self) -> None:
        version = self._version()
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StoreError(f"store {self.path} was written by a newer mldsl (schema {version}; this mldsl "
                             f"reads up to {SCHEMA_VERSION}); upgrade mldsl to use it")
        with self._transaction() as conn:
            version = self._version()  # another process may have upgraded it meanwhile
            while version < SCHEMA_VERSION:
                for statement in store_file.MIGRATIONS[version]:
                    conn.execute(statement)
                version += 1
                conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(version),))
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('application', 'mldsl')")
            conn.execute(f"PRAGMA application_id={store_file.APPLICATION_ID}")

    def _version(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        try:
            return int(row[0])
        except (TypeError, ValueError):
            raise StoreError(f"store {self.path} has no readable schema version; it is damaged. Nothing was "
                             "changed: move it aside or point --store at another file") from None

    # -- plumbing -----------------------------------------------------------------------------------
    def _explain(self, exc: sqlite3.Error) -> StoreError:
        return store_file.explain_sqlite_error(self.path, self.timeout, exc)

    class _Tx:
        def __init__(self, store: "Store"):
            self.store = store

        def __enter__(self):
            try:
                self.store._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self.store._explain(exc) from None
            return self.store._conn

        def __exit__(self, exc_type, exc, tb):
            conn = self.store._conn
            if exc_type is None:
                try:
                    conn.execute("COMMIT")
                    return False
                except sqlite3.Error as err:
                    self._rollback(conn)
                    raise self.store._explain(err) from None
            self._rollback(conn)
            if isinstance(exc, sqlite3.Error):
                raise self.store._explain(exc) from None
            return False

        @staticmethod
        def _rollback(conn) -> None:
            # SQLite may have rolled back already (a full disk does): "cannot rollback" is not news.
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass

    def _transaction(self) -> "_Tx":
        return Store._Tx(self)

    def _query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self._explain(exc) from None

    def close(self) -> None:
        """Closes the connection (idempotent)."""
        if self._heartbeat is not None:
            self._heartbeat.stop.set()
            self._heartbeat = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- owners -------------------------------------------------------------------------------------
    def _key(self, *parts: Any) -> tuple:
        return (self._resolved,) + parts

    def _owned(self) -> tuple:
        """The owner columns for a record this process takes, and its heartbeat started."""
        me = owners.current()
        if self._heartbeat is None:
            self._heartbeat = _Heartbeat(self, me)
            self._heartbeat.start()
        return me.host, me.pid, me.started, time.time()

    def _alive(self, row: sqlite3.Row, key: tuple, now: float) -> bool:
        if row["host"] is None:
            return False  # written by a schema-1 mldsl, whose process is not known
        who = owners.Owner(row["host"], row["pid"], row["pid_started"])
        if who == owners.current():
            return key in _HELD
        return owners.is_alive(who, row["heartbeat"], now)

    # -- runs ---------------------------------------------------------------------------------------
    def start_run(self, *, name: str, experiment_mlx: str, source: Optional[str] = None,
                  patches: Optional[list] = None, seed: Optional[int] = None, backend: Optional[str] = None,
                  versions: Optional[dict] = None, artifacts: Optional[str] = None) -> RunRecord:
        """Records a run as ``running``, owned by this process, and returns it (with a fresh id)."""
        record = RunRecord(id=uuid.uuid4().hex[:12], name=name, status="running", experiment_mlx=experiment_mlx,
                           source=source, patches=list(patches or []), seed=seed, backend=backend,
                           versions=dict(versions or {}), artifacts=artifacts, started=time.time())
        host, pid, pid_started, beat = self._owned()
        record.host, record.pid = host, pid
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO runs (id, name, source, status, experiment_mlx, patches, seed, backend, versions, "
                "artifacts, started, host, pid, pid_started, heartbeat) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (record.id, name, source, "running", experiment_mlx, dumps(record.patches), seed, backend,
                 dumps(record.versions), artifacts, record.started, host, pid, pid_started, beat))
        _HELD.add(self._key("run", record.id))
        return record

    def set_run_artifacts(self, run_id: str, folder: str | os.PathLike) -> None:
        """Records where the run's artifacts (history.csv, plot, model, .mlx) are written."""
        with self._transaction() as conn:
            conn.execute("UPDATE runs SET artifacts=? WHERE id=?", (str(folder), run_id))

    def update_run_history(self, run_id: str, history: list) -> None:
        """Saves the per-epoch history so far (called after each epoch, so a crash keeps it)."""
        with self._transaction() as conn:
            conn.execute("UPDATE runs SET history=? WHERE id=?", (dumps(clean_floats(history)), run_id))

    def finish_run(self, run_id: str, *, status: str, metrics: Optional[dict] = None,
                   history: Optional[list] = None, error: Optional[str] = None,
                   backend: Optional[str] = None, backend_reason: Optional[str] = None,
                   warnings: Optional[list] = None) -> RunRecord:
        """Marks a run ``completed``, ``failed`` or ``interrupted`` with what it has."""
        if status not in RUN_STATUSES or status == "running":
            raise ValueError(f"unknown run status {status!r}; expected one of {RUN_STATUSES[1:]}")
        finished = time.time()
        with self._transaction() as conn:
            row = conn.execute("SELECT started, history FROM runs WHERE id=?", (run_id,)).fetchone()
            if row is None:
                raise StoreError(f"no run with id {run_id!r} in {self.path}")
            hist = dumps(clean_floats(history)) if history is not None else row["history"]
            conn.execute(
                "UPDATE runs SET status=?, metrics=?, history=?, error=?, finished=?, duration=?, "
                "backend=COALESCE(?, backend), backend_reason=COALESCE(?, backend_reason), warnings=? "
                "WHERE id=?",
                (status, dumps(clean_floats(metrics or {})), hist, error, finished, finished - row["started"],
                 backend, backend_reason, dumps(list(warnings or [])), run_id))
        _HELD.discard(self._key("run", run_id))
        return self.get_run(run_id)

    def release_run(self, run_id: str) -> None:
        """Forgets that this process holds ``run_id`` (it could not be finalised): the next reader shows
        and records it as ``crashed``."""
        _HELD.discard(self._key("run", run_id))

    def _reap_runs(self) -> dict:
        """Finalises runs whose process is gone as ``crashed`` (removing the half-written files their
        process left in its artifacts folder); returns ``{id: error}`` of those it could
        not write (a read-only store), for the records read now to show them so anyway."""
        rows = self._query("SELECT id, host, pid, pid_started, heartbeat, artifacts FROM runs "
                           "WHERE status='running'")
        now = time.time()
        dead = {}
        for row in rows:
            if row["host"] is not None and not self._alive(row, self._key("run", row["id"]), now):
                when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
                dead[row["id"]] = (f"crashed: the process running it (pid {row['pid']} on {row['host']}) ended "
                                   f"without recording an outcome (killed, out of memory or a failed write); "
                                   f"found at {when}")
        if not dead:
            return {}
        try:
            with self._transaction() as conn:
                for run_id, error in dead.items():
                    conn.execute("UPDATE runs SET status='crashed', error=? WHERE id=? AND status='running'",
                                 (error, run_id))
        except StoreError:
            return dead
        for row in rows:
            if row["id"] in dead and row["artifacts"]:
                folder = self.path.parent / "runs" / row["id"]
                # only the folder the runner makes for this run, whatever the row says
                if os.path.realpath(row["artifacts"]) == os.path.realpath(folder):
                    remove_partial_writes(folder)
        return {}

    def get_run(self, run_id: str) -> RunRecord:
        """The run with this id, or a unique id prefix; StoreError if none or ambiguous."""
        unwritten = self._reap_runs()
        pattern = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self._query("SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY started", (pattern,))
        if not rows:
            raise StoreError(f"no run with id {run_id!r} in {self.path}; `mldsl runs` lists them")
        exact = [r for r in rows if r["id"] == run_id]
        if len(rows) > 1 and not exact:
            raise StoreError(f"run id prefix {run_id!r} is ambiguous: " + ", ".join(r["id"] for r in rows))
        return self._run_from_row((exact or rows)[0], unwritten)

    def list_runs(self) -> list[RunRecord]:
        """All runs, oldest first (a run whose process is gone is finalised as ``crashed`` first)."""
        unwritten = self._reap_runs()
        return [self._run_from_row(r, unwritten) for r in self._query("SELECT * FROM runs ORDER BY started")]

    def _run_from_row(self, row: sqlite3.Row, crashed: dict) -> RunRecord:
        data = dict(row)
        for column in ("pid_started", "heartbeat"):
            data.pop(column, None)
        problems: list = []
        for column, default in (("patches", []), ("versions", {}), ("metrics", {}), ("history", []),
                                ("warnings", [])):
            decode_json_column(data, column, default, problems)
        if data["id"] in crashed:
            data["status"], data["error"] = "crashed", crashed[data["id"]]
        if problems:
            data["damaged"] = (f"run {data['id']} in {self.path} is damaged: " + "; ".join(problems)
                               + "; the rest of it and the other runs are readable")
        return RunRecord(**data)

    # -- studies and trials -------------------------------------------------------------------------
    def open_study(self, *, name: str, space: str, algorithm: dict, objective: str, direction: str,
                   seed: Optional[int]) -> StudyRecord:
        """Creates the study, or returns the existing one after checking it is the same search.

        Resuming a study with another space, algorithm or objective would mix incomparable trials, so it
        is an error that says how to start afresh.
        """
        with self._transaction() as conn:
            row = conn.execute("SELECT * FROM studies WHERE name=?", (name,)).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO studies (name, space, algorithm, objective, direction, seed, created) "
                    "VALUES (?,?,?,?,?,?,?)",
                    (name, space, dumps(algorithm), objective, direction, seed, time.time()))
                row = conn.execute("SELECT * FROM studies WHERE name=?", (name,)).fetchone()
            else:
                mismatches = [k for k, new, old in (
                    ("search space", space, row["space"]),
                    ("algorithm", dumps(algorithm), row["algorithm"]),
                    ("objective", f"{direction}({objective})", f"{row['direction']}({row['objective']})"),
                    ("seed", seed, row["seed"])) if new != old]
                if mismatches:
                    raise StoreError(
                        f"study {name!r} in {self.path} was started with a different "
                        f"{', '.join(mismatches)}; resume it unchanged, or give the search another name "
                        "or --store file")
        return self._study_from_row(row)

    def get_study(self, name: str) -> StudyRecord:
        rows = self._query("SELECT * FROM studies WHERE name=?", (name,))
        if not rows:
            names = [r["name"] for r in self._query("SELECT name FROM studies ORDER BY id")]
            raise StoreError(f"no study named {name!r} in {self.path}; studies: {', '.join(names) or 'none'}")
        return self._study_from_row(rows[0])

    def find_study(self, name: str) -> Optional[StudyRecord]:
        """The study called ``name``, or None."""
        rows = self._query("SELECT * FROM studies WHERE name=?", (name,))
        return self._study_from_row(rows[0]) if rows else None

    def list_studies(self) -> list[StudyRecord]:
        return [self._study_from_row(r) for r in self._query("SELECT * FROM studies ORDER BY id")]

    def _study_from_row(self, row: sqlite3.Row) -> StudyRecord:
        data = dict(row)
        try:
            data["algorithm"] = json.loads(data["algorithm"])
        except (json.JSONDecodeError, TypeError) as exc:
            raise StoreError(f"study {data['name']!r} in {self.path} is damaged: its algorithm is not valid JSON "
                             f"({exc}); the other studies and all runs are readable") from None
        return StudyRecord(**data)

    def claim_trial(self, study: StudyRecord, number: int, dna: Any,
                    experiment_mlx: Union[str, Callable[[], str], None]) -> Claim:
        """Takes trial ``number`` for this process, atomically: a new trial is recorded as ``running``
        (its ``.mlx`` text computed only then when given as a function); one left ``interrupted`` or
        ``crashed``, or ``running`` under a process that is gone, is taken over as a new attempt (not a
        failure). A final trial, one a live process runs, or one with another DNA is returned as it is."""
        now = time.time()
        owner = self._owned()
        key_of = lambda attempt: self._key("trial", study.id, number, attempt)  # noqa: E731
        dna_text = dumps(dna)
        with self._transaction() as conn:
            row = conn.execute("SELECT * FROM trials WHERE study_id=? AND number=?", (study.id, number)).fetchone()
            if row is None:
                text = experiment_mlx() if callable(experiment_mlx) else experiment_mlx
                conn.execute(
                    "INSERT INTO trials (study_id, number, dna, experiment_mlx, status, started, host, pid, "
                    "pid_started, heartbeat) VALUES (?,?,?,?, 'running', ?,?,?,?,?)",
                    (study.id, number, dna_text, text, now, *owner))
                state, attempt = "claimed", 1
            elif row["dna"] != dna_text and loads_or_none(row["dna"]) != loads_or_none(dna_text):
                state = "mismatch"
            elif row["status"] in FINAL_TRIAL_STATUSES:
                state = "final"
            elif row["status"] == "running" and self._alive(row, key_of(row["attempts"]), now):
                state = "busy"
            else:
                attempt = row["attempts"] + 1
                conn.execute(
                    "UPDATE trials SET status='running', attempts=?, started=?, finished=NULL, error=NULL, "
                    "history='[]', host=?, pid=?, pid_started=?, heartbeat=? WHERE id=?",
                    (attempt, now, *owner, row["id"]))
                state = "claimed"
        if state == "claimed":
            _HELD.add(key_of(attempt))
        return Claim(state, self.get_trial(study, number, strict=state != "mismatch"))

    def retry_trial(self, study: StudyRecord, number: int, attempt: int) -> int:
        """Counts a failure of attempt ``attempt`` (its worker died) and starts the next attempt under
        the same claim; returns the new attempt number."""
        with self._transaction() as conn:
            conn.execute("UPDATE trials SET failures=failures+1, attempts=attempts+1, started=?, history='[]' "
                         "WHERE study_id=? AND number=? AND attempts=?", (time.time(), study.id, number, attempt))
        _HELD.discard(self._key("trial", study.id, number, attempt))
        _HELD.add(self._key("trial", study.id, number, attempt + 1))
        return attempt + 1

    def update_trial_history(self, study: StudyRecord, number: int, history: list,
                             attempt: Optional[int] = None) -> None:
        """Saves a running trial's per-epoch history so far. With ``attempt``, only while that attempt is
        the one running (a worker orphaned by a dead search never overwrites a later attempt's history)."""
        sql, params = "UPDATE trials SET history=? WHERE study_id=? AND number=?", [
            dumps(clean_floats(history)), study.id, number]
        if attempt is not None:
            sql += " AND attempts=? AND status='running'"
            params.append(attempt)
        with self._transaction() as conn:
            conn.execute(sql, tuple(params))

    def finish_trial(self, study: StudyRecord, number: int, *, status: str, attempt: Optional[int] = None,
                     reward: Optional[float] = None, metrics: Optional[dict] = None,
                     history: Optional[list] = None, error: Optional[str] = None,
                     failure: bool = False) -> TrialRecord:
        """Records how a trial ended; durable when this returns. With ``attempt``, only if that attempt
        still holds the trial (else the record is returned unchanged). ``failure``: this attempt ended
        because its worker died (counted in ``failures``)."""
        if status not in TRIAL_STATUSES or status == "running":
            raise ValueError(f"unknown trial status {status!r}; expected one of {TRIAL_STATUSES[1:]}")
        if reward is not None and not math.isfinite(reward):
            reward = None
        with self._transaction() as conn:
            sets = "status=?, reward=?, metrics=?, error=?, finished=?" + (", failures=failures+1" if failure else "")
            params: list = [status, reward, dumps(clean_floats(metrics or {})), error, time.time()]
            if history is not None:
                sets += ", history=?"
                params.append(dumps(clean_floats(history)))
            where = "study_id=? AND number=?"
            params += [study.id, number]
            if attempt is not None:
                where += " AND attempts=? AND status='running'"
                params.append(attempt)
            conn.execute(f"UPDATE trials SET {sets} WHERE {where}", tuple(params))
        if attempt is not None:
            _HELD.discard(self._key("trial", study.id, number, attempt))
        return self.get_trial(study, number)

    def release_trials(self, study: StudyRecord, claims: dict, reason: str) -> None:
        """Gives back trials this process claimed (``{number: attempt}``) as ``interrupted`` with
        ``reason``: the next run of the search runs them again, without counting a failure."""
        for number, attempt in claims.items():
            _HELD.discard(self._key("trial", study.id, number, attempt))
        with self._transaction() as conn:
            for number, attempt in claims.items():
                conn.execute("UPDATE trials SET status='interrupted', error=?, finished=? WHERE study_id=? AND "
                             "number=? AND attempts=? AND status='running'",
                             (reason, time.time(), study.id, number, attempt))

    def get_trial(self, study: StudyRecord, number: int, *, strict: bool = True) -> TrialRecord:
        """Trial ``number`` (``crashed`` if it is ``running`` under a process that is gone); with
        ``strict``, a damaged row is a StoreError naming it."""
        rows = self._query("SELECT * FROM trials WHERE study_id=? AND number=?", (study.id, number))
        if not rows:
            raise StoreError(f"no trial {number} in study {study.name!r}")
        return self._trial_from_row(rows[0], study, strict=strict, now=time.time())

    def trials(self, study: StudyRecord) -> list[TrialRecord]:
        """The study's trials in proposal order; one ``running`` under a process that is gone is shown as
        ``crashed``; a damaged row is returned with what could be read and ``damaged`` saying why."""
        rows = self._query("SELECT * FROM trials WHERE study_id=? ORDER BY number", (study.id,))
        now = time.time()
        return [self._trial_from_row(row, study, strict=False, now=now) for row in rows]

    def _trial_from_row(self, row: sqlite3.Row, study: StudyRecord, *, strict: bool, now: float) -> TrialRecord:
        data = dict(row)
        for column in ("study_id", "pid_started", "heartbeat"):
            data.pop(column, None)
        problems: list = []
        for column, default in (("dna", None), ("metrics", {}), ("history", [])):
            decode_json_column(data, column, default, problems)
        if problems:
            message = (f"trial {data['number']} of study {study.name!r} in {self.path} is damaged: "
                       + "; ".join(problems))
            if strict:
                raise StoreError(message + "; the search cannot go on past it: repair or delete that row, or "
                                           "start the search under another name")
            data["damaged"] = message
        if row["status"] == "running" and not self._alive(
                row, self._key("trial", study.id, row["number"], row["attempts"]), now):
            data["status"] = "crashed"
            data["error"] = (f"crashed: the search process running it (pid {row['pid']} on {row['host']}) ended; "
                             "the next run of the search runs it again")
        return TrialRecord(study=study.name, **data)

