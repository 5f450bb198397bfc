"""Where trials run: in this process, in a local process pool, or on Ray (imported only when chosen).

An executor takes :class:`~mldsl.engine.trial.TrialTask` objects and hands back, as they finish,
``(handle, TrialResult)`` pairs, or ``(handle, exception)`` when the *infrastructure* failed (a worker
process died, a Ray node was lost); the trial's own failures come back as ``failed`` results. The
search runner decides what to propose and records everything; executors only run tasks, so the same
seed gives the same proposals on every executor.
"""
from __future__ import annotations

import os
import sys
from typing import Callable, Optional

from mldsl.engine.trial import TrialResult, TrialTask, run_trial
from mldsl.errors import SearchError

EXECUTORS = ("inprocess", "local", "ray")

RAY_MISSING = ('the Ray executor needs Ray, which is not installed here; install it with '
               'pip install "mldsl[ray]" (or choose --executor local)')


class Executor:
    """Base class: ``submit`` tasks, ``wait`` for at least one to finish, ``close`` at the end."""

    name = "executor"
    #: How many trials can run at once.
    workers: int = 1
    #: Whether worker processes can write per-epoch history to the store file themselves.
    shares_filesystem: bool = True

    def submit(self, task: TrialTask, on_history: Optional[Callable[[list], None]] = None) -> int:
        raise NotImplementedError

    def wait(self) -> list:
        """Blocks until at least one submitted task is done; returns ``[(handle, result_or_exception)]``."""
        raise NotImplementedError

    def pending(self) -> int:
        raise NotImplementedError

    def close(self, abort: bool = False) -> None:
        """Releases the workers; ``abort`` (the search is being interrupted) does not wait for running
        trials."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class InProcessExecutor(Executor):
    """Runs each trial in this process, one at a time, in submission order (the reference executor)."""

    name = "inprocess"

    def __init__(self, workers: Optional[int] = None):
        self.workers = 1
        self._queue: list = []
        self._next = 0

    def submit(self, task, on_history=None):
        handle = self._next
        self._next += 1
        self._queue.append((handle, task, on_history))
        return handle

    def wait(self):
        if not self._queue:
            return []
        handle, task, on_history = self._queue.pop(0)
        return [(handle, run_trial(task, on_history))]

    def pending(self):
        return len(self._queue)


def _die_with_parent(parent_pid: int) -> None:
    """Pool-worker initializer: on Linux, ask the kernel to kill this worker when the search process
    dies (even by SIGKILL), so no orphan keeps running a trial that the resumed search retries."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:  # the parent died before we got here
            os._exit(1)
    except Exception:
        pass


def _init_worker(parent_pid: int, threads: int) -> None:
    """Pool-worker initializer: die with the parent, and train on a share of the cores (``threads``) so
    that the workers together do not oversubscribe the machine (unless the user set the thread count)."""
    _die_with_parent(parent_pid)
    os.environ.setdefault("MLDSL_NUM_THREADS", str(threads))


class LocalExecutor(Executor):
    """A pool of ``workers`` local processes (default: one per core). A worker that dies takes the pool
    down with it; the pool is rebuilt and the trials it was running come back as infrastructure
    failures, which the runner retries."""

    name = "local"

    def __init__(self, workers: Optional[int] = None, *, start_method: Optional[str] = None):
        import multiprocessing

        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self._context = multiprocessing.get_context(start_method or "spawn")
        self._pool = None
        self._futures: dict = {}
        self._next = 0

    def _ensure_pool(self):
        if self._pool is None:
            from concurrent.futures import ProcessPoolExecutor

            threads = max(1, (os.cpu_count() or 1) // self.workers)
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self._context,
                                             initializer=_init_worker, initargs=(os.getpid(), threads))
        return self._pool

    def submit(self, task, on_history=None):
        from concurrent.futures.process import BrokenProcessPool

        handle = self._next
        self._next += 1
        try:
            self._futures[handle] = self._ensure_pool().submit(run_trial, task)
        except BrokenProcessPool:
            self._restart()
            self._futures[handle] = self._ensure_pool().submit(run_trial, task)
        return handle

    def _restart(self):
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None

    def wait(self):
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        if not self._futures:
            return []
        done, _ = wait(list(self._futures.values()), return_when=FIRST_COMPLETED)
        out = []
        broken = False
        for handle, future in list(self._futures.items()):
            if future not in done:
                continue
            del self._futures[handle]
            exc = future.exception()
            if exc is None:
                out.append((handle, future.result()))
            else:
                broken = broken or isinstance(exc, BrokenProcessPool)
                out.append((handle, exc))
        if broken:
            self._restart()
        return out

    def pending(self):
        return len(self._futures)

    def close(self, abort=False):
        if self._pool is not None:
            if abort:
                for process in list(getattr(self._pool, "_processes", {}).values()):
                    try:
                        process.terminate()
                    except Exception:
                        pass
            self._pool.shutdown(wait=not abort, cancel_futures=True)
            self._pool = None


class RayExecutor(Executor):
    """Runs trials as Ray tasks. Starts a local Ray (``num_cpus=workers``, no dashboard) unless
    ``address`` names a running cluster (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``)."""

    name = "ray"
    shares_filesystem = False

    def __init__(self, workers: Optional[int] = None, *, address: Optional[str] = None):
        try:
            import ray
        except ImportError:
            raise SearchError(RAY_MISSING) from None
        import logging

        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            kwargs = dict(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=True)
            if address:
                ray.init(address=address, **kwargs)
            else:
                # Workers import the evaluate function by module name: give them our import path.
                path = os.pathsep.join(p for p in sys.path if p)
                ray.init(num_cpus=int(workers or os.cpu_count() or 1),
                         runtime_env={"env_vars": {"PYTHONPATH": path}}, **kwargs)
            self._started = True
        if workers:
            self.workers = max(1, int(workers))
        else:
            self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._remote = ray.remote(num_cpus=1, max_retries=0)(run_trial)
        self._refs: dict = {}
        self._next = 0

    def submit(self, task, on_history=None):
        handle = self._next
        self._next += 1
        self._refs[handle] = self._remote.remote(task)
        return handle

    def wait(self):
        if not self._refs:
            return []
        ray = self._ray
        ready, _ = ray.wait(list(self._refs.values()), num_returns=1)
        out = []
        for handle, ref in list(self._refs.items()):
            if ref not in ready:
                continue
            del self._refs[handle]
            try:
                out.append((handle, ray.get(ref)))
            except Exception as exc:  # RayError: a worker or node died; the runner retries
                out.append((handle, exc))
        return out

    def pending(self):
        return len(self._refs)

    def close(self, abort=False):
        for ref in self._refs.values():
            try:
                self._ray.cancel(ref, force=True)
            except Exception:
                pass
        self._refs.clear()
        if self._started:
            self._ray.shutdown()
            self._started = False


def make_executor(kind: str = "inprocess", workers: Optional[int] = None, *, address: Optional[str] = None) -> Executor:
    """The executor called ``kind`` (``inprocess``, ``local``, ``ray``)."""
    if isinstance(kind, Executor):
        return kind
    if workers is not None and int(workers) < 1:
        raise SearchError(f"--workers must be at least 1, got {workers}")
    if kind == "inprocess":
        return InProcessExecutor(workers)
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "ray":
        return RayExecutor(workers, address=address)
    from mldsl.errors import suggestion_text

    hint = suggestion_text(str(kind), EXECUTORS)
    raise SearchError(f"unknown executor {kind!r}" + (f"; {hint}" if hint else "") + f" (choose from {', '.join(EXECUTORS)})")


__all__ = ["Executor", "InProcessExecutor", "LocalExecutor", "RayExecutor", "make_executor", "EXECUTORS",
           "TrialResult"]
