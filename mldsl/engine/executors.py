"""Where trials run: in this process, in a local process pool, or on Ray (imported only when chosen).

An executor takes :class:`~mldsl.engine.trial.TrialTask` objects and hands back, as they finish,
``(handle, TrialResult)`` pairs, or ``(handle, exception)`` when the process running that trial died
(a worker process, a Ray worker or node); the trial's errors come back as ``failed`` results. The
search runner decides what to propose and records everything; executors only run tasks, so the same
seed gives the same proposals on every executor.
"""
from __future__ import annotations

import os
import pickle
import signal
import sys
from typing import Callable, Optional

from mldsl.backends.base import affinity_cpus, requested_threads
from mldsl.engine.trial import TrialResult, TrialTask, run_trial
from mldsl.errors import SearchError

EXECUTORS = ("inprocess", "local", "ray")

RAY_MISSING = ('the Ray executor needs Ray, which is not installed here; install it with '
               'pip install "mldsl[ray]" (or choose --executor local)')


def worker_threads(workers: int, cores: int, environ=os.environ) -> int:
    """Threads each of ``workers`` processes may train on, so that workers x threads stays within ``cores``
    (one each when there are more workers than cores): the cores' share, or fewer where ``environ`` asks
    for fewer (:data:`~mldsl.backends.base.THREADS_ENV`)."""
    share = max(1, int(cores) // max(1, int(workers)))
    asked = requested_threads(environ)
    return share if asked is None else min(share, asked)


class WorkerDied(Exception):
    """The process running a trial ended without a result (the trial's own crash: a segfault, the
    out-of-memory killer, ``os._exit``)."""


class Executor:
    """Base class: ``submit`` tasks, ``wait`` for at least one to finish, ``close`` at the end."""

    name = "executor"
    #: How many trials can run at once.
    workers: int = 1
    #: Whether worker processes can write per-epoch history to the store file themselves.
    shares_filesystem: bool = True

    def submit(self, task: TrialTask, on_history: Optional[Callable[[list], None]] = None) -> int:
        raise NotImplementedError

    def wait(self, timeout: Optional[float] = None) -> list:
        """Blocks until at least one submitted task is done, or ``timeout`` seconds pass; returns
        ``[(handle, result_or_exception)]`` (empty after a timeout or when nothing is submitted)."""
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

    def wait(self, timeout=None):
        if not self._queue:
            return []
        handle, task, on_history = self._queue.pop(0)
        return [(handle, run_trial(task, on_history))]


def _die_with_parent(parent_pid: int) -> None:
    """On Linux, ask the kernel to kill this worker when the search process dies (even by SIGKILL), so
    no orphan keeps running a trial that the resumed search runs again."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:  # the parent died before we got here
            os._exit(1)
    except Exception:
        pass


def _worker_main(conn, parent_pid: int, threads: int) -> None:
    """A local worker process: die with the search, leave Ctrl-C to the search (it stops the workers),
    train on its share of the cores (``threads``, see :func:`worker_threads`), then run the tasks that
    arrive on ``conn`` until it is closed or sends None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _die_with_parent(parent_pid)
    os.environ["MLDSL_NUM_THREADS"] = str(threads)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        handle, task = message
        try:
            result = run_trial(task)
        except BaseException as exc:  # SystemExit and the like from the trial's code: its own failure
            result = TrialResult(number=task.number, status="failed", error=f"{type(exc).__name__}: {exc}")
        conn.send((handle, result))


class _Worker:
    def __init__(self, process, conn):
        self.process, self.conn = process, conn
        self.job: Optional[tuple] = None  # (handle, task) while it runs one


class LocalExecutor(Executor):
    """``workers`` local processes (default: one per core), each running one trial at a time. A worker
    that dies fails only the trial it was running (:class:`WorkerDied`) and is replaced."""

    name = "local"

    def __init__(self, workers: Optional[int] = None, *, start_method: Optional[str] = None):
        import multiprocessing

        self.workers = max(1, int(workers or affinity_cpus()))
        self._context = multiprocessing.get_context(start_method or "spawn")
        self._threads = worker_threads(self.workers, affinity_cpus())
        self._pool: list[_Worker] = []
        self._queue: list = []
        self._next = 0

    def _spawn(self) -> _Worker:
        parent_end, child_end = self._context.Pipe()
        process = self._context.Process(target=_worker_main, args=(child_end, os.getpid(), self._threads),
                                        daemon=True, name="mldsl-trial-worker")
        # Started with SIGINT blocked, so a Ctrl-C meant for the search never reaches a starting worker
        # (it ignores SIGINT once running); the search's own Ctrl-C stays pending until unblocked here.
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        child_end.close()
        worker = _Worker(process, parent_end)
        self._pool.append(worker)
        return worker

    def _dispatch(self) -> None:
        while self._queue:
            worker = next((w for w in self._pool if w.job is None), None)
            if worker is None:
                if len(self._pool) >= self.workers:
                    return
                worker = self._spawn()
            handle, task = self._queue.pop(0)
            try:
                worker.conn.send((handle, task))
            except (pickle.PicklingError, AttributeError, TypeError) as exc:
                raise SearchError(f"trial {task.number} cannot be sent to a worker process ({exc}); with "
                                  "--executor local the evaluate function must be importable (defined at "
                                  "the top level of a module)") from None
            worker.job = (handle, task)

    def submit(self, task, on_history=None):
        handle = self._next
        self._next += 1
        self._queue.append((handle, task))
        self._dispatch()
        return handle

    def _retire(self, worker: _Worker) -> None:
        self._pool.remove(worker)
        worker.conn.close()
        worker.process.join(timeout=1.0)

    def wait(self, timeout=None):
        from multiprocessing.connection import wait as wait_for

        self._dispatch()
        busy = [w for w in self._pool if w.job is not None]
        if not busy:
            return []
        by_object = {}
        for worker in busy:
            by_object[worker.conn] = worker
            by_object[worker.process.sentinel] = worker
        out = []
        for worker in {by_object[o] for o in wait_for(list(by_object), timeout)}:
            handle, task = worker.job
            worker.job = None
            try:
                if worker.conn.poll():
                    got, result = worker.conn.recv()
                    out.append((got, result))
                    continue
            except (EOFError, OSError):
                pass
            worker.process.join(timeout=1.0)
            code = worker.process.exitcode
            how = (f"killed by signal {-code}" if code is not None and code < 0
                   else f"exit code {code}" if code is not None else "no exit code")
            out.append((handle, WorkerDied(f"the worker process running trial {task.number} died ({how})")))
            self._retire(worker)
        self._dispatch()
        return out

    def close(self, abort=False):
        for worker in list(self._pool):
            if abort or worker.job is not None:
                worker.process.terminate()
            else:
                try:
                    worker.conn.send(None)
                except OSError:
                    worker.process.terminate()
        for worker in list(self._pool):
            worker.process.join(timeout=5.0)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._pool.clear()
        self._queue.clear()


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

    def wait(self, timeout=None):
        if not self._refs:
            return []
        ray = self._ray
        ready, _ = ray.wait(list(self._refs.values()), num_returns=1, timeout=timeout)
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
           "WorkerDied"]
