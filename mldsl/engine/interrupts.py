"""Ctrl-C that waits for a durable write to finish.

:class:`SigintGuard` replaces the SIGINT handler while a run is recorded: outside :meth:`deferred`
sections the first Ctrl-C raises ``KeyboardInterrupt`` as usual; inside them it is remembered
(``pending``), and :meth:`raise_pending` raises it once the caller is ready, so a record is never left
half-written. Once one ``KeyboardInterrupt`` was raised the run is stopping: further Ctrl-Cs are only
remembered, so they cannot cut short the recording of the interruption itself.
Signal handlers can only be set in the main thread; elsewhere the guard does nothing (and
``KeyboardInterrupt`` cannot reach that thread).
"""
from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator


class SigintGuard:
    """``with SigintGuard() as guard: ... with guard.deferred(): durable writes; guard.raise_pending()``."""

    def __init__(self) -> None:
        self._depth = 0
        self.pending = False
        self.stopping = False
        self._previous: Any = None
        self._installed = False

    def _handler(self, signum, frame) -> None:
        if self._depth or self.stopping:
            self.pending = True
            return
        if _inside_import_machinery(frame):
            # importlib runs callbacks (its module-lock weakref callbacks) whose exceptions Python only prints
            # as "Exception ignored", so a KeyboardInterrupt raised there would be lost: deliver it again in
            # a moment, once the import machinery has returned
            _redeliver(signum)
            return
        self.stopping = True
        raise KeyboardInterrupt

    def __enter__(self) -> "SigintGuard":
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # ignored (nohup, `&`): left so
            try:
                self._previous = signal.signal(signal.SIGINT, self._handler)
                self._installed = True
            except (ValueError, OSError):  # embedded interpreters may refuse
                self._installed = False
        return self

    def __exit__(self, *exc) -> None:
        if self._installed:
            previous = self._previous if self._previous is not None else signal.SIG_DFL
            signal.signal(signal.SIGINT, previous)
            self._installed = False

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Ctrl-C during the block only sets ``pending``."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    def raise_pending(self) -> None:
        """Raises the Ctrl-C remembered during a deferred block, once no block is open."""
        if self.pending and not self._depth:
            self.pending = False
            self.stopping = True
            raise KeyboardInterrupt


def _inside_import_machinery(frame: Any) -> bool:
    """Whether the signal arrived while importlib's own (frozen) code ran."""
    code = getattr(frame, "f_code", None)
    return code is not None and str(code.co_filename).startswith("<frozen importlib")


def _redeliver(signum: int, delay: float = 0.005) -> None:
    """Sends ``signum`` to this process again after ``delay`` seconds (from a daemon thread)."""
    timer = threading.Timer(delay, os.kill, (os.getpid(), signum))
    timer.daemon = True
    timer.start()
