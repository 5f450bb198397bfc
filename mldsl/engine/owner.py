"""Which process owns a record, and whether that process still lives.

A running run or a claimed search trial records its owner: the host name, the process id and the
process's start time (``<boot id>:<start tick>`` on Linux, read from ``/proc``), so that a process id
reused after the owner died is not taken for the owner. On the owner's host, liveness is exact: the
process with that id exists and started at that time. From another host it cannot be checked, so the
owner refreshes a heartbeat in the store (:data:`HEARTBEAT_SECONDS`) and is taken for dead once the
heartbeat is older than :data:`LEASE_SECONDS`.
"""
from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from typing import Optional

#: How often an owner refreshes the heartbeat of what it owns.
HEARTBEAT_SECONDS = 30.0
#: A record owned on another host whose heartbeat is older than this is taken for abandoned.
LEASE_SECONDS = 300.0


@dataclass(frozen=True)
class Owner:
    """A process: where it runs, its id, and when it started (None where the system does not say)."""

    host: str
    pid: int
    started: Optional[str]

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def process_start(pid: int) -> Optional[str]:
    """``<boot id>:<start tick>`` of process ``pid`` (Linux), or None when unknown or gone (a zombie, a
    process that ended but was not yet reaped by its parent, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    # Field 2 (the command) may hold spaces and parentheses: the fields after it follow the last ')'.
    fields = stat[stat.rfind(b")") + 2:].split()
    if not fields or fields[0] in (b"Z", b"X"):
        return None
    try:
        return f"{_BOOT_ID}:{int(fields[19])}"
    except (IndexError, ValueError):
        return None


_BOOT_ID = _boot_id()
_HOST = socket.gethostname()
_CURRENT: Optional[Owner] = None


def current() -> Owner:
    """This process (recomputed after a fork)."""
    global _CURRENT
    pid = os.getpid()
    if _CURRENT is None or _CURRENT.pid != pid:
        _CURRENT = Owner(host=_HOST, pid=pid, started=process_start(pid))
    return _CURRENT


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except OSError:
        return False
    return True


def is_alive(owner: Owner, heartbeat: Optional[float], now: Optional[float] = None) -> bool:
    """Whether ``owner`` still runs: checked directly on this host; from another host, whether its last
    ``heartbeat`` (a ``time.time()``) is within :data:`LEASE_SECONDS`."""
    if owner.host != _HOST:
        if heartbeat is None:
            return True  # nothing to go by: never take another host's work on a guess
        return (now if now is not None else time.time()) - heartbeat < LEASE_SECONDS
    if owner.pid == os.getpid():
        return owner.started == current().started
    if owner.started is not None and _BOOT_ID and owner.started.split(":")[0] == _BOOT_ID:
        return process_start(owner.pid) == owner.started
    if owner.started is not None and _BOOT_ID:
        return False  # started before this machine's last boot
    return _pid_exists(owner.pid)
