"""The store file itself: its SQLite layout and versions, how a new one is created, and how a file is
recognised as an mldsl store (or refused, without being touched).
"""
from __future__ import annotations

import errno
import os
import sqlite3
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from mldsl.errors import StoreError

#: The store layout this code writes. 1: runs, studies, trials. 2: owners (host, pid, process start,
#: heartbeat) on runs and trials, trial claims with ``failures``, runs' ``backend_reason`` and ``warnings``.
SCHEMA_VERSION = 2
#: SQLite's ``application_id`` header field of an mldsl store ("mlds").
APPLICATION_ID = 0x6D6C6473

_OWNER_COLUMNS = "host TEXT, pid INTEGER, pid_started TEXT, heartbeat REAL"

SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    source TEXT,
    status TEXT NOT NULL,
    experiment_mlx TEXT NOT NULL,
    patches TEXT NOT NULL DEFAULT '[]',
    seed INTEGER,
    backend TEXT,
    versions TEXT NOT NULL DEFAULT '{{}}',
    metrics TEXT NOT NULL DEFAULT '{{}}',
    history TEXT NOT NULL DEFAULT '[]',
    artifacts TEXT,
    error TEXT,
    started REAL NOT NULL,
    finished REAL,
    duration REAL,
    backend_reason TEXT,
    warnings TEXT NOT NULL DEFAULT '[]',
    {_OWNER_COLUMNS}
);
CREATE TABLE studies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    space TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    objective TEXT NOT NULL,
    direction TEXT NOT NULL,
    seed INTEGER,
    created REAL NOT NULL
);
CREATE TABLE trials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id INTEGER NOT NULL REFERENCES studies(id),
    number INTEGER NOT NULL,
    dna TEXT NOT NULL,
    experiment_mlx TEXT,
    status TEXT NOT NULL,
    reward REAL,
    metrics TEXT NOT NULL DEFAULT '{{}}',
    history TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    started REAL NOT NULL,
    finished REAL,
    failures INTEGER NOT NULL DEFAULT 0,
    {_OWNER_COLUMNS},
    UNIQUE (study_id, number)
);
CREATE INDEX trials_by_study ON trials (study_id, number);
"""

#: Upgrades, by the version they start from: each brings a store to the next version in one
#: transaction. Version 1 is the layout of the first release (no owners, crashed trials recorded as
#: failed with an "abandoned:" error and retried on resume, so they become ``interrupted``).
MIGRATIONS = {
    1: [
        "ALTER TABLE runs ADD COLUMN backend_reason TEXT",
        "ALTER TABLE runs ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]'",
        *(f"ALTER TABLE {table} ADD COLUMN {column}" for table in ("runs", "trials")
          for column in _OWNER_COLUMNS.split(", ")),
        "ALTER TABLE trials ADD COLUMN failures INTEGER NOT NULL DEFAULT 0",
        "UPDATE trials SET status='interrupted' WHERE status='failed' AND error LIKE 'abandoned:%'",
    ],
}

_SQLITE_MAGIC = b"SQLite format 3\x00"


def not_ours(path: Path, what: str) -> StoreError:
    return StoreError(f"{path} is not a readable mldsl store: it is {what}. Nothing was changed: "
                      "move it aside or pass --store NEW_FILE (or set $MLDSL_STORE)")


def create(path: Path) -> None:
    """Builds an empty store beside ``path`` and links it into place, so no process ever sees a
    half-made store (two processes creating it at once end up sharing one)."""
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"cannot create the store {path}: {folder} is a file, not a folder; "
                         "move it aside or point --store elsewhere")
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        conn = sqlite3.connect(str(temp), isolation_level=None)
        try:
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("BEGIN IMMEDIATE")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            conn.execute("INSERT INTO meta VALUES ('application', 'mldsl')")
            conn.execute("COMMIT")
        finally:
            conn.close()
        try:
            os.link(temp, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(temp, path)
    finally:
        for leftover in (temp, Path(f"{temp}-wal"), Path(f"{temp}-shm"), Path(f"{temp}-journal")):
            try:
                leftover.unlink()
            except FileNotFoundError:
                pass


def check_is_ours(path: Path, timeout: float) -> None:
    """Reads the file's header (and, for a store of schema 1, its tables, read-only) and raises
    unless it is an mldsl store. Writes nothing."""
    with open(path, "rb") as fh:
        header = fh.read(100)
    if not header:
        raise not_ours(path, "an empty file")
    if not header.startswith(_SQLITE_MAGIC) or len(header) < 100:
        raise not_ours(path, "not a SQLite database (it may be truncated or another kind of file)")
    app_id = int.from_bytes(header[68:72], "big")
    if app_id == APPLICATION_ID:
        return
    if app_id != 0:
        raise not_ours(path, f"another application's SQLite database (application id {app_id:#x})")
    # Schema 1 stores carry no application id: recognise them by their tables.
    conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, timeout=timeout)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = None
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = row[0] if row else None
    finally:
        conn.close()
    if version != "1" or not {"runs", "studies", "trials"} <= tables:
        raise not_ours(path, f"another program's SQLite database (its tables: {', '.join(sorted(tables)) or 'none'})")


def explain_sqlite_error(path: Path, timeout: float, exc: sqlite3.Error) -> StoreError:
    """A StoreError saying what failed on the store at ``path`` and what to do."""
    text = str(exc)
    code = getattr(exc, "sqlite_errorname", "")  # Python 3.11+; the texts below cover 3.10
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text or "busy" in text:
        return StoreError(f"store {path} is locked by another process (waited {timeout:g} s); wait for it to "
                          "finish, or point --store at another file")
    if code.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or "not a database" in text or "malformed" in text:
        return StoreError(f"store {path} is not a readable mldsl store ({text}); it may be truncated or "
                          "damaged. Nothing was changed: move it aside or pass --store NEW_FILE")
    if code == "SQLITE_FULL" or "full" in text:
        return StoreError(f"writing the store {path} failed: the disk is full ({text}); free some space (or "
                          "point --store at another disk) and run it again")
    if code.startswith("SQLITE_IOERR") or "I/O error" in text:
        return StoreError(f"writing the store {path} failed: {text} (a full disk, a file-size limit or a "
                          "failing disk); free space or point --store at another disk, then run it again")
    if code.startswith("SQLITE_READONLY") or "readonly" in text:
        return StoreError(f"store {path} cannot be written ({text}); make it and its folder writable for "
                          "this user, or point --store at another file")
    if code.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return StoreError(f"cannot open the store {path} ({text}); check that its folder exists and is "
                          "writable, or point --store at another file")
    return StoreError(f"store {path}: {text}")


def explain_os_error(what: str, path: Any, exc: OSError) -> str:
    """One sentence for a failed file operation: what failed, on which path, and what to do."""
    reason = exc.strerror or str(exc)
    where = exc.filename or path
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        todo = "free some space on that disk (or point --store at another disk) and run it again"
    elif exc.errno == errno.EFBIG:
        todo = "the file grew past the size this process may write (ulimit -f); raise the limit or free space"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        todo = "make the folder writable for this user, or point --store at a folder you can write"
    elif exc.errno in (errno.ENOTDIR, errno.EEXIST):
        todo = "a file stands where a folder is needed; move it aside or point --store elsewhere"
    else:
        todo = "check the path and the disk, then run it again"
    return f"{what} {where} failed: {reason}; {todo}"
