"""Long, allocation-heavy work without Python's full garbage collections.

Compiling a large file or running thousands of search trials makes hundreds of thousands of long-lived
objects (tokens, trees, symbolic values, trial records). CPython's cyclic collector then runs full
(generation 2) collections over the whole heap again and again as it grows: on a 30,000-line file they
took half the time of ``mldsl check``, and a 20,000-trial search in memory a third of its time.
:func:`full_collections_paused` keeps the young collections (which find the short-lived cycles) and
defers the full ones, so a full collection still runs after about 7 million allocations.
"""
from __future__ import annotations

import contextlib
import gc
import threading
from typing import Iterator

#: Generation-1 collections before a full one while paused: 1000 means about 7 million allocations,
#: more than the largest file the size limit lets through.
PAUSED_THRESHOLD_2 = 1000

_lock = threading.Lock()
_depth = 0
_saved: tuple = ()


@contextlib.contextmanager
def full_collections_paused() -> Iterator[None]:
    """Within the block, the cyclic collector makes only young (generation 0 and 1) collections.
    Nests and may be entered from several threads; the thresholds are restored when the last leaves."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(_saved[0], _saved[1], max(_saved[2], PAUSED_THRESHOLD_2))
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.set_threshold(*_saved)
