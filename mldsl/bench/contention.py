"""Native training on a busy machine: ``mldsl bench mlp --contention [--json]``.

Per model size, from the digits example (64-30-10) to the benchmark MLP (784-500-300-10), one native epoch
on synthetic data (the mean over enough epochs to last 0.25 s) with the default threads and with one thread, first on the machine as it is ("quiet")
and then beside one busy process per core ("busy": a pure-Python loop each). Best of ``--repeat`` runs,
the models interleaved. The record has, per model, the seconds and the ratios ``busy_vs_quiet`` (default
threads; goal at most 2) and ``default_vs_one_thread`` (quiet and busy; goal: a tiny model is never slower
with the default threads than with one).
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional

import numpy as np

#: name -> (layer widths, batch size, samples)
MODELS = {
    "digits 64-30-10": ((64, 30, 10), 32, 1437),
    "784-128-10": ((784, 128, 10), 32, 6000),
    "784-500-300-10": ((784, 500, 300, 10), 100, 6000),
}
#: each timing runs enough epochs to last at least this long (the mean per epoch is reported)
MIN_TIMING_SECONDS = 0.25
GOALS = {"busy_vs_quiet_at_most": 2.0, "tiny_default_vs_one_thread_at_most": 1.0}


#: what each busy process runs: pure Python that holds a core until it is killed
SPIN = "while True:\n    pass\n"


class BusyCores:
    """Context manager: ``n`` processes (default one per usable core) that keep a core busy each."""

    def __init__(self, n: Optional[int] = None):
        from mldsl.backends.base import affinity_cpus
        self.n = n or affinity_cpus()
        self._procs: List[subprocess.Popen] = []

    def __enter__(self):
        self._procs = [subprocess.Popen([sys.executable, "-c", SPIN], stdin=subprocess.DEVNULL)
                       for _ in range(self.n)]
        time.sleep(0.5)                       # let them start spinning
        return self

    def running(self) -> int:
        """How many of them are still spinning."""
        return sum(p.poll() is None for p in self._procs)

    def __exit__(self, *exc):
        for p in self._procs:
            p.kill()
        for p in self._procs:
            p.wait()
        return False


def _trainer(widths, batch: int, samples: int):
    """A warmed-up native trainer and ``epoch(threads)`` training one epoch on synthetic data."""
    from mldsl.backends.native.plan import DenseSpec, OptimizerSpec, Plan
    from mldsl.backends.native.trainer import MLPTrainer
    layers = [DenseSpec(w, "relu") for w in widths[1:-1]] + [DenseSpec(widths[-1], "softmax")]
    plan = Plan(layers, optimizer=OptimizerSpec("adam", learning_rate=1e-3), batch_size=batch, epochs=1, seed=0,
                eval_batch_size=batch)
    tr = MLPTrainer(plan, (widths[0],))
    rng = np.random.default_rng(0)
    x = rng.random((samples, widths[0]), dtype=np.float32)
    y = rng.integers(0, widths[-1], samples)
    tr.fit(x[: 5 * batch], y[: 5 * batch])
    t = time.perf_counter()
    tr.fit(x, y)
    # a timing spans at least MIN_TIMING_SECONDS: one scheduler slice must not decide a 2 ms epoch's figure
    epochs = max(1, math.ceil(MIN_TIMING_SECONDS / max(time.perf_counter() - t, 1e-6)))

    def seconds_per_epoch(threads: Optional[int]) -> float:
        with tr.threads(threads):
            t = time.perf_counter()
            for _ in range(epochs):
                tr._fit(x, y, None, None, False)
            return (time.perf_counter() - t) / epochs
    return tr, seconds_per_epoch


def run(repeat: int = 3, log: Callable[[str], None] = lambda s: None) -> Dict[str, Any]:
    """Times every model quiet and busy (see the module docstring) and returns the record."""
    import mldsl.kernels as K
    runners = {}
    for name, (widths, batch, samples) in MODELS.items():
        tr, epoch = _trainer(widths, batch, samples)
        runners[name] = (tr.default_threads, epoch)
    seconds = {name: {"quiet": {}, "busy": {}} for name in MODELS}

    def measure(phase: str) -> None:
        for r in range(max(1, repeat)):
            for name, (default, epoch) in runners.items():
                log(f"{phase}: {name} (run {r + 1}/{max(1, repeat)}) ...")
                for label, threads in (("default_threads", None), ("one_thread", 1)):
                    best = seconds[name][phase].get(label, math.inf)
                    seconds[name][phase][label] = min(best, epoch(threads))

    measure("quiet")
    with BusyCores() as busy:
        measure("busy")
        spinning = busy.running()
    if spinning != busy.n:
        raise RuntimeError(f"only {spinning} of {busy.n} busy processes were still running: no busy figures")
    models = {}
    for name, (widths, batch, samples) in MODELS.items():
        s = seconds[name]
        models[name] = {
            "widths": list(widths), "batch_size": batch, "samples": samples,
            "default_threads": runners[name][0],
            "seconds_per_epoch": {p: {k: round(v, 6) for k, v in s[p].items()} for p in s},
            "busy_vs_quiet": round(s["busy"]["default_threads"] / s["quiet"]["default_threads"], 3),
            "busy_vs_quiet_one_thread": round(s["busy"]["one_thread"] / s["quiet"]["one_thread"], 3),
            "default_vs_one_thread": {p: round(s[p]["default_threads"] / s[p]["one_thread"], 3) for p in s},
        }
    info = K.build_info()
    return {"benchmark": "mlp-contention", "busy_processes": busy.n, "repeat": max(1, repeat),
            "machine": {"cpus": os.cpu_count(), "loadavg_at_end": list(os.getloadavg())},
            "kernels": {"isa": info["isa"], "sgemm": info["sgemm"], "openmp_wait": info["openmp_wait"]},
            "goals": GOALS, "models": models}


def format_record(r: Dict[str, Any]) -> str:
    """A human-readable table of :func:`run`'s record."""
    lines = [f"native epoch on a busy machine: {r['busy_processes']} busy processes beside it, best of "
             f"{r['repeat']}; kernels {r['kernels']}",
             f"{'model':18s} {'threads':>7s} {'quiet':>9s} {'quiet 1t':>9s} {'busy':>9s} {'busy 1t':>9s} "
             f"{'busy/quiet':>10s}"]
    for name, m in r["models"].items():
        s = m["seconds_per_epoch"]
        lines.append(f"{name:18s} {m['default_threads']:7d} {s['quiet']['default_threads']:9.4f} "
                     f"{s['quiet']['one_thread']:9.4f} {s['busy']['default_threads']:9.4f} "
                     f"{s['busy']['one_thread']:9.4f} {m['busy_vs_quiet']:10.2f}")
    return "\n".join(lines)
