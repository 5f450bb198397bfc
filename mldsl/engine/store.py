"""The results store: one SQLite file (WAL mode) holding runs, search studies and their trials.

Every state change is committed before the call that made it returns, so what the caller has been told
("trial 7 completed") survives a crash of the process right after. A store that is not a SQLite
database, is truncated, or stays locked gives a :class:`~mldsl.errors.StoreError` saying what to do,
never silent loss.
"""
from __future__ import annotations

import json
import math
import os
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from mldsl.errors import StoreError

SCHEMA_VERSION = 1
DEFAULT_STORE_NAME = "mldsl.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    source TEXT,
    status TEXT NOT NULL,
    experiment_mlx TEXT NOT NULL,
    patches TEXT NOT NULL DEFAULT '[]',
    seed INTEGER,
    backend TEXT,
    versions TEXT NOT NULL DEFAULT '{}',
    metrics TEXT NOT NULL DEFAULT '{}',
    history TEXT NOT NULL DEFAULT '[]',
    artifacts TEXT,
    error TEXT,
    started REAL NOT NULL,
    finished REAL,
    duration REAL
);
CREATE TABLE IF NOT EXISTS studies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    space TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    objective TEXT NOT NULL,
    direction TEXT NOT NULL,
    seed INTEGER,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id INTEGER NOT NULL REFERENCES studies(id),
    number INTEGER NOT NULL,
    dna TEXT NOT NULL,
    experiment_mlx TEXT,
    status TEXT NOT NULL,
    reward REAL,
    metrics TEXT NOT NULL DEFAULT '{}',
    history TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    started REAL NOT NULL,
    finished REAL,
    UNIQUE (study_id, number)
);
CREATE INDEX IF NOT EXISTS trials_by_study ON trials (study_id, number);
"""

RUN_STATUSES = ("running", "completed", "failed", "interrupted")
TRIAL_STATUSES = ("running", "completed", "failed", "stopped", "skipped")


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, allow_nan=False, sort_keys=True)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # NumPy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _clean_floats(value: Any) -> Any:
    """NaN/inf are not JSON: store them as strings so nothing is lost or rejected."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {k: _clean_floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_floats(v) for v in value]
    if hasattr(value, "item") and not hasattr(value, "__len__"):
        return _clean_floats(value.item())
    return value


@dataclass
class RunRecord:
    """One row of ``runs``: a single experiment run."""

    id: str
    name: str
    status: str
    experiment_mlx: str
    source: Optional[str] = None
    patches: list = field(default_factory=list)
    seed: Optional[int] = None
    backend: Optional[str] = None
    versions: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    artifacts: Optional[str] = None
    error: Optional[str] = None
    started: float = 0.0
    finished: Optional[float] = None
    duration: Optional[float] = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class TrialRecord:
    """One row of ``trials``: a single proposal of a search and what became of it."""

    id: int
    study: str
    number: int
    dna: Any
    status: str
    experiment_mlx: Optional[str] = None
    reward: Optional[float] = None
    metrics: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    error: Optional[str] = None
    attempts: int = 1
    started: float = 0.0
    finished: Optional[float] = None

    @property
    def duration(self) -> Optional[float]:
        return None if self.finished is None else self.finished - self.started

    def to_dict(self) -> dict:
        out = dict(self.__dict__)
        out["duration"] = self.duration
        return out


@dataclass
class StudyRecord:
    """One row of ``studies``: a named search over a space."""

    id: int
    name: str
    space: str
    algorithm: dict
    objective: str
    direction: str
    seed: Optional[int]
    created: float


class Store:
    """A SQLite results store. Use as a context manager or call :meth:`close`.

    ``Store(path)`` creates the file (and its folder) if needed. Connections are per-process: a worker
    process opens its own ``Store`` on the same path; SQLite's WAL mode lets readers and one writer work
    side by side, and ``timeout`` bounds how long a writer waits for a lock before a clear error.
    """

    def __init__(self, path: str | os.PathLike, *, timeout: float = 30.0):
        self.path = Path(path)
        self.timeout = timeout
        if self.path.exists() and self.path.is_dir():
            raise StoreError(f"store path {self.path} is a folder; give a file path such as {self.path / DEFAULT_STORE_NAME}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            with self._transaction():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._conn.execute(statement)
                row = self._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                if row is None:
                    self._conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                elif int(row[0]) > SCHEMA_VERSION:
                    raise StoreError(
                        f"store {self.path} was written by a newer mldsl (schema {row[0]} > {SCHEMA_VERSION}); "
                        "upgrade mldsl to read it")
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None

    # -- plumbing -----------------------------------------------------------------------------------
    def _explain(self, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return StoreError(
                f"store {self.path} is locked by another process (waited {self.timeout:g} s); "
                "wait for it to finish, or point --store at another file")
        if "not a database" in text or "malformed" in text or "disk image" in text:
            return StoreError(
                f"store {self.path} is not a readable mldsl store ({text}); it may be truncated or "
                "another kind of file. Nothing was changed: move it aside or pass --store NEW_FILE")
        return StoreError(f"store {self.path}: {text}")

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
                except sqlite3.Error as err:
                    conn.execute("ROLLBACK")
                    raise self.store._explain(err) from None
            else:
                conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self.store._explain(exc) from None
            return False

    def _transaction(self) -> "_Tx":
        return Store._Tx(self)

    def _query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self._explain(exc) from None

    def close(self) -> None:
        """Closes the connection (idempotent)."""
        if getattr(self, "_conn", None) is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- runs ---------------------------------------------------------------------------------------
    def start_run(self, *, name: str, experiment_mlx: str, source: Optional[str] = None,
                  patches: Optional[list] = None, seed: Optional[int] = None, backend: Optional[str] = None,
                  versions: Optional[dict] = None, artifacts: Optional[str] = None) -> RunRecord:
        """Records a run as ``running`` and returns it (with a fresh id)."""
        record = RunRecord(id=uuid.uuid4().hex[:12], name=name, status="running", experiment_mlx=experiment_mlx,
                           source=source, patches=list(patches or []), seed=seed, backend=backend,
                           versions=dict(versions or {}), artifacts=artifacts, started=time.time())
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO runs (id, name, source, status, experiment_mlx, patches, seed, backend, versions, "
                "artifacts, started) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (record.id, name, source, "running", experiment_mlx, _dumps(record.patches), seed, backend,
                 _dumps(record.versions), artifacts, record.started))
        return record

    def set_run_artifacts(self, run_id: str, folder: str | os.PathLike) -> None:
        """Records where the run's artifacts (history.csv, plot, model, .mlx) are written."""
        with self._transaction() as conn:
            conn.execute("UPDATE runs SET artifacts=? WHERE id=?", (str(folder), run_id))

    def update_run_history(self, run_id: str, history: list) -> None:
        """Saves the per-epoch history so far (called after each epoch, so a crash keeps it)."""
        with self._transaction() as conn:
            conn.execute("UPDATE runs SET history=? WHERE id=?", (_dumps(_clean_floats(history)), run_id))

    def finish_run(self, run_id: str, *, status: str, metrics: Optional[dict] = None,
                   history: Optional[list] = None, error: Optional[str] = None,
                   backend: Optional[str] = None) -> RunRecord:
        """Marks a run ``completed``, ``failed`` or ``interrupted`` with what it has."""
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}; expected one of {RUN_STATUSES}")
        finished = time.time()
        with self._transaction() as conn:
            row = conn.execute("SELECT started, history FROM runs WHERE id=?", (run_id,)).fetchone()
            if row is None:
                raise StoreError(f"no run with id {run_id!r} in {self.path}")
            hist = _dumps(_clean_floats(history)) if history is not None else row["history"]
            conn.execute(
                "UPDATE runs SET status=?, metrics=?, history=?, error=?, finished=?, duration=?, "
                "backend=COALESCE(?, backend) WHERE id=?",
                (status, _dumps(_clean_floats(metrics or {})), hist, error, finished, finished - row["started"],
                 backend, run_id))
        return self.get_run(run_id)

    def get_run(self, run_id: str) -> RunRecord:
        """The run with this id, or a unique id prefix; StoreError if none or ambiguous."""
        rows = self._query("SELECT * FROM runs WHERE id LIKE ? ORDER BY started", (run_id + "%",))
        if not rows:
            raise StoreError(f"no run with id {run_id!r} in {self.path}; `mldsl runs` lists them")
        if len(rows) > 1 and rows[0]["id"] != run_id:
            raise StoreError(f"run id prefix {run_id!r} is ambiguous: " + ", ".join(r["id"] for r in rows))
        return self._run_from_row(rows[0])

    def list_runs(self) -> list[RunRecord]:
        """All runs, oldest first."""
        return [self._run_from_row(r) for r in self._query("SELECT * FROM runs ORDER BY started")]

    @staticmethod
    def _run_from_row(row: sqlite3.Row) -> RunRecord:
        data = dict(row)
        for key in ("patches", "versions", "metrics", "history"):
            data[key] = json.loads(data[key])
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
                    (name, space, _dumps(algorithm), objective, direction, seed, time.time()))
                row = conn.execute("SELECT * FROM studies WHERE name=?", (name,)).fetchone()
            else:
                mismatches = [k for k, new, old in (
                    ("search space", space, row["space"]),
                    ("algorithm", _dumps(algorithm), row["algorithm"]),
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

    def list_studies(self) -> list[StudyRecord]:
        return [self._study_from_row(r) for r in self._query("SELECT * FROM studies ORDER BY id")]

    @staticmethod
    def _study_from_row(row: sqlite3.Row) -> StudyRecord:
        data = dict(row)
        data["algorithm"] = json.loads(data["algorithm"])
        return StudyRecord(**data)

    def start_trial(self, study: StudyRecord, number: int, dna: Any, experiment_mlx: Optional[str]) -> TrialRecord:
        """Records proposal ``number`` as running (or re-runs a failed one, counting the attempt)."""
        now = time.time()
        with self._transaction() as conn:
            row = conn.execute("SELECT * FROM trials WHERE study_id=? AND number=?", (study.id, number)).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO trials (study_id, number, dna, experiment_mlx, status, started) "
                    "VALUES (?,?,?,?, 'running', ?)", (study.id, number, _dumps(dna), experiment_mlx, now))
            elif row["status"] == "completed":
                raise StoreError(f"trial {number} of study {study.name!r} is already completed; it is never rerun")
            else:
                conn.execute(
                    "UPDATE trials SET status='running', attempts=attempts+1, started=?, finished=NULL, "
                    "error=NULL WHERE id=?", (now, row["id"]))
        return self.get_trial(study, number)

    def update_trial_history(self, study: StudyRecord, number: int, history: list,
                             attempt: Optional[int] = None) -> None:
        """Saves a running trial's per-epoch history so far. With ``attempt``, only while that attempt is
        the one running (a worker orphaned by a dead search never overwrites a retry's history)."""
        sql, params = "UPDATE trials SET history=? WHERE study_id=? AND number=?", [
            _dumps(_clean_floats(history)), study.id, number]
        if attempt is not None:
            sql += " AND attempts=? AND status='running'"
            params.append(attempt)
        with self._transaction() as conn:
            conn.execute(sql, tuple(params))

    def finish_trial(self, study: StudyRecord, number: int, *, status: str, reward: Optional[float] = None,
                     metrics: Optional[dict] = None, history: Optional[list] = None,
                     error: Optional[str] = None) -> TrialRecord:
        """Records how a trial ended; durable when this returns."""
        if status not in TRIAL_STATUSES:
            raise ValueError(f"unknown trial status {status!r}; expected one of {TRIAL_STATUSES}")
        if reward is not None and not math.isfinite(reward):
            reward = None
        with self._transaction() as conn:
            sets = "status=?, reward=?, metrics=?, error=?, finished=?"
            params: list = [status, reward, _dumps(_clean_floats(metrics or {})), error, time.time()]
            if history is not None:
                sets += ", history=?"
                params.append(_dumps(_clean_floats(history)))
            conn.execute(f"UPDATE trials SET {sets} WHERE study_id=? AND number=?", (*params, study.id, number))
        return self.get_trial(study, number)

    def mark_abandoned(self, study: StudyRecord, reason: str) -> list[int]:
        """Marks trials left ``running`` by a dead process as failed; returns their numbers."""
        with self._transaction() as conn:
            rows = conn.execute("SELECT number FROM trials WHERE study_id=? AND status='running'",
                                (study.id,)).fetchall()
            conn.execute("UPDATE trials SET status='failed', error=?, finished=? WHERE study_id=? AND "
                         "status='running'", (reason, time.time(), study.id))
        return [r["number"] for r in rows]

    def get_trial(self, study: StudyRecord, number: int) -> TrialRecord:
        rows = self._query("SELECT * FROM trials WHERE study_id=? AND number=?", (study.id, number))
        if not rows:
            raise StoreError(f"no trial {number} in study {study.name!r}")
        return self._trial_from_row(rows[0], study.name)

    def trials(self, study: StudyRecord) -> list[TrialRecord]:
        """The study's trials in proposal order."""
        rows = self._query("SELECT * FROM trials WHERE study_id=? ORDER BY number", (study.id,))
        return [self._trial_from_row(r, study.name) for r in rows]

    @staticmethod
    def _trial_from_row(row: sqlite3.Row, study_name: str) -> TrialRecord:
        data = dict(row)
        data.pop("study_id")
        data["dna"] = json.loads(data["dna"])
        data["metrics"] = json.loads(data["metrics"])
        data["history"] = json.loads(data["history"])
        return TrialRecord(study=study_name, **data)


def default_store_path(source_file: Optional[str | os.PathLike]) -> Path:
    """The embedded default: ``mldsl.db`` next to the experiment's file (or in the current folder)."""
    if source_file:
        return Path(source_file).resolve().parent / DEFAULT_STORE_NAME
    return Path.cwd() / DEFAULT_STORE_NAME
