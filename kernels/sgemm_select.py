"""Who runs small-batch float32 products, the own AVX-512 sgemm or BLAS: measured, not assumed.

Which is faster depends on the CPU and the BLAS (on a Sapphire Rapids the own sgemm wins by 8-25%; on an
AMD EPYC BLAS won a batch-32 epoch, 0.78 s against 0.89 s). So under ``MLDSL_SGEMM=auto`` (the default)
the first use of the kernels times both on a training step's products (:func:`measure`, about 0.1 s)
and keeps the faster. The result is cached per CPU model, kernel build and BLAS in a per-user JSON file,
``$XDG_CACHE_HOME/mldsl/sgemm.json`` (default ``~/.cache/mldsl/sgemm.json``), so later processes only
read it. ``MLDSL_SGEMM=own`` or ``blas`` forces either without measuring.

The cache is only trusted when it is ours: its directory is created 0700 and must be owned by this user
and writable by no one else, the file must be a regular file (not a link) owned by this user, and it is
parsed as JSON, never unpickled or evaluated. A cache that fails any check, or does not parse, is ignored
(and replaced, when its directory is ours).

Processes that start together (a search's worker pool, several ``mldsl run`` at once) measure once: the
measurement is taken under an exclusive lock on ``sgemm.lock`` in the cache directory, and a process that
waited for the lock reads the result the first one cached instead of timing again beside it.
"""
from __future__ import annotations

import json
import math
import os
import stat
import tempfile
import time
from contextlib import contextmanager
from typing import Any, Callable, Dict, Optional

CACHE_VERSION = 1
CACHE_NAME = "sgemm.json"
LOCK_NAME = "sgemm.lock"
#: the largest cache file read (a few entries are a few hundred bytes)
MAX_CACHE_BYTES = 1 << 16
#: (batch, fan_in, units) of the products timed: the 784-500-300-10 MLP's first two layers at batch 32 and 100
SHAPES = ((32, 784, 500), (32, 500, 300), (100, 784, 500), (100, 500, 300))
ROUNDS = 7


def cache_dir(environ=os.environ) -> str:
    """The per-user cache directory: ``$XDG_CACHE_HOME/mldsl``, else ``~/.cache/mldsl``."""
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mldsl")


def _private_dir(path: str, create: bool) -> bool:
    """Whether ``path`` is a directory owned by this user that no one else may write (created 0700 when
    ``create`` and missing; its parents as the user's umask says)."""
    if create and not os.path.lexists(path):
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.mkdir(path, 0o700)
        except FileExistsError:       # another process made it in between: checked below like any other
            pass
        except OSError:
            return False
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid()
            and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def load_cache(directory: str) -> Dict[str, Any]:
    """The cache's entries (``{key: entry}``), or ``{}`` when the cache is missing, not ours or malformed."""
    if not _private_dir(directory, create=False):
        return {}
    path = os.path.join(directory, CACHE_NAME)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return {}
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) \
                or st.st_size > MAX_CACHE_BYTES:
            return {}
        data = json.loads(os.read(fd, MAX_CACHE_BYTES + 1).decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    finally:
        os.close(fd)
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or not isinstance(data.get("entries"), dict):
        return {}
    return {k: v for k, v in data["entries"].items() if _valid_entry(v)}


def _valid_entry(entry: Any) -> bool:
    return (isinstance(entry, dict) and entry.get("sgemm") in ("own", "blas")
            and all(isinstance(entry.get(k), (int, float)) and math.isfinite(entry[k]) for k in ("own_s", "blas_s")))


def save_cache(directory: str, entries: Dict[str, Any]) -> bool:
    """Writes ``entries`` as the cache (atomically: a private temporary file renamed over it). Returns
    False, writing nothing, when the directory cannot be made ours."""
    if not _private_dir(directory, create=True):
        return False
    try:
        fd, tmp = tempfile.mkstemp(prefix=".sgemm-", suffix=".json", dir=directory)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "w") as f:
            json.dump({"version": CACHE_VERSION, "entries": entries}, f, indent=1, sort_keys=True)
        os.replace(tmp, os.path.join(directory, CACHE_NAME))
        return True
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False


@contextmanager
def measuring_lock(directory: str):
    """Holds an exclusive lock on ``LOCK_NAME`` in ``directory`` (a directory of ours, created 0700) while
    one process measures; yields whether it holds it. Without a directory of ours or ``fcntl`` it yields
    False at once and the caller measures unlocked, as before."""
    try:
        import fcntl  # noqa: PLC0415
    except ImportError:  # pragma: no cover - not POSIX
        yield False
        return
    if not _private_dir(directory, create=True):
        yield False
        return
    try:
        fd = os.open(os.path.join(directory, LOCK_NAME),
                     os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError:
        yield False
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield True
    finally:
        os.close(fd)  # releases the lock


def cpu_model() -> str:
    """This CPU's model name (``/proc/cpuinfo``), or the platform's processor string."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform  # noqa: PLC0415
    return platform.processor() or platform.machine() or "unknown"


def cache_key(isa: str, blas: str) -> str:
    """What a measurement holds for: the CPU model, the kernel build and the BLAS."""
    return f"{cpu_model()} | {isa} | {blas}"


def measure(matmul: Callable, set_own: Callable[[bool], bool], rounds: int = ROUNDS) -> Dict[str, float]:
    """Seconds per pass over :data:`SHAPES`' products (forward ``(b,i)@(i,o)``, weight gradient
    ``(i,b)@(b,o)``, input gradient ``(b,o)@(o,i)``) with the own sgemm (``set_own(True)``) and with BLAS,
    BLAS on one thread as in training; the best of ``rounds`` interleaved passes each."""
    import numpy as np  # noqa: PLC0415
    from threadpoolctl import threadpool_limits  # noqa: PLC0415
    rng = np.random.default_rng(0)
    calls = []
    for b, i, o in SHAPES:
        for m, k, n in ((b, i, o), (i, b, o), (b, o, i)):
            x = rng.random((m, k), dtype=np.float32)
            w = rng.random((k, n), dtype=np.float32)
            calls.append((x, w, np.empty((m, n), np.float32)))
    best = {"own_s": math.inf, "blas_s": math.inf}
    before = set_own(True)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            for r in range(rounds + 1):                     # the first round warms up
                for key, own in (("own_s", True), ("blas_s", False)) if r % 2 else (("blas_s", False), ("own_s", True)):
                    set_own(own)
                    t = time.perf_counter()
                    for x, w, out in calls:
                        matmul(x, w, out)
                    if r:
                        best[key] = min(best[key], time.perf_counter() - t)
    finally:
        set_own(before)
    return best


def choose(requested: str, available: bool, key: str, timer: Callable[[], Dict[str, float]],
           directory: Optional[str] = None) -> Dict[str, Any]:
    """The decision for ``MLDSL_SGEMM=requested`` (``auto``, ``own`` or ``blas``): ``{"sgemm": "own" |
    "blas", "by": how it was decided, ...}``. Under ``auto`` with the own sgemm ``available``, the cache
    entry for ``key`` when there is one, else ``timer()`` (then cached in ``directory``)."""
    if requested in ("own", "blas"):
        return {"sgemm": requested if available else "blas", "by": f"MLDSL_SGEMM={requested}"}
    if not available:
        return {"sgemm": "blas", "by": "the own sgemm needs AVX-512 (not on this CPU or build)"}
    directory = directory or cache_dir()
    entries = load_cache(directory)
    if key in entries:
        return _cached(entries[key], directory)
    with measuring_lock(directory):
        entries = load_cache(directory)           # another process may have measured while this one waited
        if key in entries:
            return _cached(entries[key], directory)
        times = timer()
        entry = {"sgemm": "own" if times["own_s"] < times["blas_s"] else "blas",
                 "own_s": round(times["own_s"], 7), "blas_s": round(times["blas_s"], 7), "measured": time.time()}
        entries[key] = entry
        saved = save_cache(directory, entries)
    return {**entry, "by": "measurement", "cache": os.path.join(directory, CACHE_NAME) if saved else None}


def _cached(entry: Dict[str, Any], directory: str) -> Dict[str, Any]:
    return {**entry, "by": "cached measurement", "cache": os.path.join(directory, CACHE_NAME)}
