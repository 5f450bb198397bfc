"""How many threads native training uses: the cores this process may use, and the share of them a
model's work is worth.

A training step is a chain of short kernels, each ending at a barrier of the OpenMP team. On a tiny model
each kernel lasts microseconds, so a team only adds the cost of waking threads and of waiting for the
slowest one; on a busy machine that wait is a whole scheduler time slice of another process (measured on
2 cores with one busy process per core: the digits model 0.002 s/epoch on one thread, 0.08-0.4 s on two).
So a model gets one thread per :data:`WORK_PER_THREAD` multiply-adds of a step's forward pass, at least
one and at most the usable cores.
"""
from __future__ import annotations

from typing import Iterable, Tuple

from mldsl.backends.base import affinity_cpus, requested_threads

#: Forward-pass multiply-adds per training step that make one more thread worth its synchronisation
#: (2**22: the 784-500-300-10 MLP at batch 32 (17M) may use 4 threads, a 784-128-10 one at batch 32 (3.2M)
#: and the digits example (72k) use one).
WORK_PER_THREAD = 1 << 22


def usable_cores() -> int:
    """Threads to train with at most: what :data:`~mldsl.backends.base.THREADS_ENV` asks for, else the CPUs
    this process may run on (its affinity mask)."""
    return requested_threads() or affinity_cpus()


def step_work(batch_size: int, dense_shapes: Iterable[Tuple[int, int]]) -> int:
    """Multiply-adds of one step's forward pass: ``batch_size`` x the sum of ``fan_in x units`` over the
    Dense layers (``dense_shapes``); the backward pass is twice that, so this measures the whole step."""
    return int(batch_size) * sum(int(i) * int(o) for i, o in dense_shapes)


def choose_threads(work: int, cores: int) -> int:
    """Threads for a step of ``work`` multiply-adds (see :func:`step_work`) on ``cores`` usable cores: one per
    :data:`WORK_PER_THREAD`, at least 1, at most ``cores``."""
    return max(1, min(int(cores), int(work) // WORK_PER_THREAD))
