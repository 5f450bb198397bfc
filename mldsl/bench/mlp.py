"""MLP training speed, side by side in one run: the native trainer vs a plain NumPy loop vs Keras vs the
sgemm floor.

    python -m mldsl.bench.mlp [--json] [--samples N] [--threads T] [--repeat R] [--no-keras] [--per-layer]
                              [--blas-sgemm] [--mnist PATH]
    python -m mldsl.bench.mlp --contention [--repeat R] [--json]   (see mldsl.bench.contention)

The work (issue 6): a 784-500-300-10 ReLU MLP, softmax cross-entropy, Adam(1e-3), float32, one epoch over
``N`` synthetic samples (default 60,000) at batch 100, and one epoch over ``N/2`` samples at batch 32.

Contenders, each warmed up first, then timed for one epoch (best of ``--repeat`` runs, interleaved so
that a busy moment on a shared machine hits every contender, each after a short pause that lets the
previous one's BLAS threads go idle; the sgemm rate is measured before and after and the better one
kept):

- ``native``: :class:`mldsl.backends.native.MLPTrainer` on the compiled kernels (preallocated buffers,
  fused bias/activation/softmax-CE, the compiled step, the own small-batch sgemm where the CPU has
  AVX-512, the optimizer update fused into the weight gradient's tiles);
- ``native_per_layer`` (``--per-layer``), and ``native_blas_sgemm`` and ``native_own_sgemm``
  (``--blas-sgemm``): the same trainer without its compiled step, or with every product on BLAS, or with
  the own sgemm forced, for A/B figures in the same run (``native`` runs what the kernels chose, recorded
  under ``kernels.sgemm_choice``);
- ``numpy``: a plain NumPy training loop (fancy-indexed batches, ``@``, allocating temporaries);
- ``keras``: Keras 3 on TensorFlow (CPU) ``model.fit``, only if TensorFlow imports (else "unavailable");
- ``floor``: ``6 x parameters x samples / R`` with ``R`` this machine's measured sgemm rate: the best
  over square matrices (1024, 2048) through both SciPy's BLAS and the one the kernels call
  (``mldsl.kernels.blas``), on the same threads;
- ``gemm_floor``: the GEMMs training needs (all but the first layer's input gradient) timed at the model's
  real shapes (batch x 784 @ 784 x 500, ...), which run below the square-matrix peak: the BLAS-only time
  of the epoch (``gemm_floor_ratio``). The own sgemm beats it at these shapes, so it is no floor for
  ``native``; it shows what BLAS alone would need.

The record has seconds per epoch per contender and, per batch size, ``speedup_vs_keras`` (keras / native),
``speedup_vs_numpy`` and ``floor_ratio`` (native / floor); the top-level ``speedup_vs_keras`` and
``floor_ratio`` repeat the batch-100 figures. ``memory`` checks that training steps do not grow memory
(RSS before/after an epoch, tracemalloc net/peak over steps). BLAS (and TensorFlow) run on ``--threads``
threads (default 2).
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import resource
import sys
import time
import tracemalloc
from typing import Any, Callable, Dict, Optional

import numpy as np

LAYERS = (784, 500, 300, 10)
#: pause before each timed contender: BLAS worker threads keep spinning for a while after their last
#: call (OpenBLAS ~0.1 s) and would take a core from whichever contender runs next (measured: native
#: 0.85 s/epoch right after the NumPy loop, 0.75 s after this pause)
SETTLE_SECONDS = 0.3
#: per batch size: the most native may take against the square-sgemm floor, and the least speedup over Keras
GOALS = {"floor_ratio_batch_100": 1.3, "floor_ratio_batch_32": 1.4,
         "speedup_vs_keras_batch_100": 4.0, "speedup_vs_keras_batch_32": 4.0}


def goals_met(record: Dict[str, Any]) -> Dict[str, Optional[bool]]:
    """Each goal of :data:`GOALS` against the record's figures: True, False, or None where the figure is
    missing (Keras unavailable)."""
    met: Dict[str, Optional[bool]] = {}
    for goal, bound in GOALS.items():
        figure, batch = goal.rsplit("_batch_", 1)
        value = record.get(f"batch_{batch}", {}).get(figure)
        met[goal] = None if value is None else (value <= bound if figure == "floor_ratio" else value >= bound)
    return met


def num_params(layers=LAYERS) -> int:
    return sum(i * o + o for i, o in zip(layers[:-1], layers[1:]))


def synthetic(n: int, seed: int = 0):
    """``n`` samples of 784 uniform features in [0, 1) (float32) with random labels 0..9."""
    rng = np.random.default_rng(seed)
    return rng.random((n, LAYERS[0]), dtype=np.float32), rng.integers(0, LAYERS[-1], n).astype(np.int64)


def _best(fn: Callable[[], Any], repeat: int) -> float:
    best = math.inf
    for _ in range(max(1, repeat)):
        gc.collect()
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


# --------------------------------------------------------------------------- floor
def gemm_libraries() -> Dict[str, Callable[[np.ndarray, np.ndarray], Callable[[], Any]]]:
    """The BLAS libraries to measure, name -> ``bind(a, b)`` returning a zero-argument call that computes
    ``a @ b`` into a preallocated output: SciPy's (``scipy.linalg.blas.sgemm``) and, when it is another
    library, the one the compiled kernels call (``mldsl.kernels.matmul``; see :mod:`mldsl.kernels.blas`)."""
    from scipy.linalg.blas import sgemm

    def scipy_bind(a, b):
        a, b = np.asfortranarray(a), np.asfortranarray(b)
        c = np.asfortranarray(np.empty((a.shape[0], b.shape[1]), a.dtype))
        return lambda: sgemm(1.0, a, b, beta=0.0, c=c, overwrite_c=True)

    libs = {"scipy": scipy_bind}
    try:
        import mldsl.kernels as K
        name = K.build_info()["blas"]["name"]
    except ImportError:            # no compiled kernels: SciPy's BLAS is the only one to measure
        return libs
    if name != "scipy":
        def kernels_bind(a, b):
            a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
            c = np.empty((a.shape[0], b.shape[1]), a.dtype)
            return lambda: K.matmul(a, b, c)
        libs[name] = kernels_bind
    return libs


def sgemm_rate(repeat: int = 3) -> Dict[str, Any]:
    """This machine's sgemm FLOP rate: the best over square sizes 1024 and 2048 and over every BLAS of
    :func:`gemm_libraries` (the strictest floor), with the rates by library and size."""
    rng = np.random.default_rng(0)
    by_blas: Dict[str, Dict[str, float]] = {}
    for lib, bind in gemm_libraries().items():
        rates = by_blas[lib] = {}
        for n in (1024, 2048):
            call = bind(rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32))
            call()
            reps = 8 if n == 1024 else 2
            t = _best(lambda: [call() for _ in range(reps)], repeat)
            rates[str(n)] = 2.0 * n ** 3 * reps / t
    best = max(max(r.values()) for r in by_blas.values())
    return {"flops_per_s": best, "by_blas": by_blas}


def epoch_gemm_seconds(batch: int, samples: int, widths=(784, 500, 300, 10), repeat: int = 3) -> float:
    """Seconds the BLAS alone needs for one epoch's GEMMs at this batch size: per step, for each layer
    ``i -> o``, the forward ``(b,i)@(i,o)``, ``dW = (i,b)@(b,o)`` and ``dX = (b,o)@(o,i)``, except the
    first layer's ``dX`` (the gradient of the input, which no trainer computes), timed on the real
    shapes (with the faster of :func:`gemm_libraries`) and scaled to the epoch's steps.

    This is the floor at the shapes the model actually has: small-batch GEMMs run below the peak rate of
    large square ones, so it is looser than :func:`sgemm_rate`'s floor (reported as ``gemm_floor_ratio``).
    """
    rng = np.random.default_rng(0)
    shapes = []
    for layer, (i, o) in enumerate(zip(widths[:-1], widths[1:])):
        shapes += [(batch, i, o), (i, batch, o)] + ([(batch, o, i)] if layer > 0 else [])
    operands = [(rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)) for m, k, n in shapes]
    probe = 50
    best = math.inf
    for bind in gemm_libraries().values():
        calls = [bind(a, b) for a, b in operands]

        def steps():
            for _ in range(probe):
                for call in calls:
                    call()

        steps()
        best = min(best, _best(steps, repeat))
    return best / probe * math.ceil(samples / batch)


# --------------------------------------------------------------------------- native
def _native_plan(batch_size: int):
    from mldsl.backends.native.plan import DenseSpec, OptimizerSpec, Plan
    return Plan([DenseSpec(500, "relu"), DenseSpec(300, "relu"), DenseSpec(10, "softmax")],
                optimizer=OptimizerSpec("adam", learning_rate=1e-3), batch_size=batch_size, epochs=1, seed=0,
                eval_batch_size=batch_size)


def native_epoch(x, y, batch_size: int, compiled_step: bool = True,
                 own_sgemm: Optional[bool] = None) -> Callable[[], Any]:
    """A warmed-up native trainer; returns the callable that trains one epoch on x, y (``compiled_step``:
    False trains through the per-layer path instead of the kernels' ``DenseTrainStep``; ``own_sgemm``:
    True or False sends small-batch products to the kernels' own sgemm or to BLAS for that epoch, None
    leaves the kernels' choice, ``mldsl.kernels.sgemm_choice()``)."""
    import mldsl.kernels as K
    from mldsl.backends.native.trainer import MLPTrainer
    tr = MLPTrainer(_native_plan(batch_size), (LAYERS[0],), compiled_step=compiled_step)

    def fit(xs, ys):
        if own_sgemm is None:        # the kernels' setting as it is
            tr.fit(xs, ys)
            return
        old = K.set_own_sgemm(own_sgemm)
        try:
            tr.fit(xs, ys)
        finally:
            K.set_own_sgemm(old)

    fit(x[: 20 * batch_size], y[: 20 * batch_size])         # warm-up
    return lambda: fit(x, y)


# --------------------------------------------------------------------------- numpy
def numpy_epoch(x, y, batch_size: int, params: list, state: dict, rng) -> float:
    """One epoch of a plain NumPy MLP loop (what one writes without a framework); returns the mean loss."""
    n = len(x)
    order = rng.permutation(n)
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-7
    total = 0.0
    for s in range(0, n, batch_size):
        idx = order[s:s + batch_size]
        xb, yb = x[idx], y[idx]
        m = len(idx)
        (w1, c1, w2, c2, w3, c3) = params
        h1 = np.maximum(xb @ w1 + c1, 0)
        h2 = np.maximum(h1 @ w2 + c2, 0)
        z = h2 @ w3 + c3
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        total += float(-np.log(p[np.arange(m), yb] + 1e-12).sum())
        d3 = p
        d3[np.arange(m), yb] -= 1
        d3 /= m
        g3, gc3 = h2.T @ d3, d3.sum(0)
        d2 = (d3 @ w3.T) * (h2 > 0)
        g2, gc2 = h1.T @ d2, d2.sum(0)
        d1 = (d2 @ w2.T) * (h1 > 0)
        g1, gc1 = xb.T @ d1, d1.sum(0)
        state["t"] += 1
        t = state["t"]
        alpha = np.float32(lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t))
        for k, g in enumerate((g1, gc1, g2, gc2, g3, gc3)):
            mm, vv = state["m"][k], state["v"][k]
            mm += (g - mm) * np.float32(1 - b1)
            vv += (g * g - vv) * np.float32(1 - b2)
            params[k] -= alpha * mm / (np.sqrt(vv) + np.float32(eps))
    return total / n


def numpy_loop(x, y, batch_size: int) -> Callable[[], Any]:
    """A warmed-up plain NumPy loop; returns the callable that trains one epoch on x, y."""
    rng = np.random.default_rng(0)
    params = []
    for i, o in zip(LAYERS[:-1], LAYERS[1:]):
        lim = math.sqrt(6 / (i + o))
        params += [rng.uniform(-lim, lim, (i, o)).astype(np.float32), np.zeros(o, np.float32)]
    state = {"t": 0, "m": [np.zeros_like(p) for p in params], "v": [np.zeros_like(p) for p in params]}
    numpy_epoch(x[: 20 * batch_size], y[: 20 * batch_size], batch_size, params, state, rng)
    return lambda: numpy_epoch(x, y, batch_size, params, state, rng)


# --------------------------------------------------------------------------- keras
def keras_status() -> Optional[str]:
    """None when TensorFlow can be imported, else why not."""
    import importlib.util
    if importlib.util.find_spec("tensorflow") is None:
        return "unavailable: tensorflow is not installed (pip install 'mldsl[keras]')"
    return None


def _keras(threads: int):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # already initialised in this process
        pass
    import keras
    return keras


def _keras_model(keras, seed: int = 0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((LAYERS[0],)), keras.layers.Dense(500, activation="relu"),
                              keras.layers.Dense(300, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def keras_fit(x, y, batch_size: int, threads: int) -> Callable[[], Any]:
    """A compiled, traced Keras model; returns the callable that fits one epoch on x, y."""
    keras = _keras(threads)
    model = _keras_model(keras)
    model.fit(x[: 20 * batch_size], y[: 20 * batch_size], batch_size=batch_size, epochs=1, verbose=0)  # trace
    return lambda: model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=True, verbose=0)


# --------------------------------------------------------------------------- memory
def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except OSError:  # pragma: no cover - not Linux
        return float("nan")


def memory_check(x, y, batch_size: int = 100, steps: int = 200, epochs: int = 3) -> Dict[str, float]:
    """Memory over native training: RSS after a warm-up epoch and after ``epochs`` more, and tracemalloc's
    net and peak traced bytes over ``steps`` steps (an array allocated per step would show up there)."""
    from mldsl.backends.native.trainer import MLPTrainer
    tr = MLPTrainer(_native_plan(batch_size), (LAYERS[0],))
    xs, ys = tr._prepare_x(x), tr._prepare_y(y, len(x))
    idx = np.arange(len(xs), dtype=np.int64)
    batches = [idx[s:s + batch_size] for s in range(0, len(xs) - batch_size + 1, batch_size)]
    traced = [batches[k % len(batches)] for k in range(steps)]
    for b in traced:        # warm-up on the very index arrays traced below (NumPy caches buffer info per array)
        tr.train_step(b, xs, ys)
    tr.fit(x, y)                                   # warm-up epoch
    gc.collect()
    rss0 = _rss_mb()
    for _ in range(epochs):
        tr.fit(x, y)
    gc.collect()
    rss1 = _rss_mb()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    for b in traced:
        tr.train_step(b, xs, ys)
    cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"rss_after_warmup_mb": round(rss0, 2), "rss_after_epochs_mb": round(rss1, 2), "epochs": epochs,
            "rss_growth_mb": round(rss1 - rss0, 2), "traced_net_bytes": int(cur - base),
            "traced_peak_bytes": int(peak - base), "steps_traced": steps,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


# --------------------------------------------------------------------------- MNIST accuracy (optional)
def mnist_accuracy(path: str, threads: int, use_keras: bool) -> Dict[str, Any]:
    """Issue 6's accuracy check: first 8,000 images train, last 2,000 test, 10 epochs, Adam 1e-3, batch 100."""
    from mldsl.backends.native.trainer import train
    from mldsl.data.mnist import load_mnist
    s = load_mnist(path)
    x = np.concatenate([s.x_train, s.x_test]).reshape(-1, 784).astype(np.float32)
    y = np.concatenate([s.y_train, s.y_test]).astype(np.int64)
    xtr, ytr, xte, yte = x[:8000], y[:8000], x[-2000:], y[-2000:]
    plan = _native_plan(100)
    plan.epochs = 10
    t = time.perf_counter()
    res = train(plan, xtr, ytr, xte, yte)
    out: Dict[str, Any] = {"native_accuracy": res["metrics"]["accuracy"], "native_seconds": time.perf_counter() - t}
    if use_keras and keras_status() is None:
        keras = _keras(threads)
        model = _keras_model(keras)
        t = time.perf_counter()
        model.fit(xtr, ytr, batch_size=100, epochs=10, verbose=0)
        out["keras_accuracy"] = float(model.evaluate(xte, yte, batch_size=256, verbose=0, return_dict=True)["accuracy"])
        out["keras_seconds"] = time.perf_counter() - t
        out["difference_points"] = round(100 * (out["native_accuracy"] - out["keras_accuracy"]), 2)
    return out


# --------------------------------------------------------------------------- driver
def _kernels_info() -> Dict[str, Any]:
    """The compiled kernels' build (instruction set) and BLAS, as :func:`mldsl.kernels.build_info` gives."""
    import mldsl.kernels as K
    info = K.build_info()
    return {"isa": info["isa"], "blas": f"{info['blas']['name']} {info['blas']['version']}",
            "sgemm": info["sgemm"], "sgemm_choice": info["sgemm_choice"]}


def run(samples: int = 60_000, threads: int = 2, repeat: int = 1, keras: bool = True,
        mnist: Optional[str] = None, log: Callable[[str], None] = lambda s: None,
        per_layer: bool = False, blas_sgemm: bool = False) -> Dict[str, Any]:
    """Runs the whole comparison and returns the record (see the module docstring). ``per_layer`` adds the
    contender ``native_per_layer``: the native trainer without its compiled step; ``blas_sgemm`` adds
    ``native_blas_sgemm`` and ``native_own_sgemm``: the native trainer with every product on BLAS, and with
    the own sgemm (where the CPU has it), whichever the kernels chose for ``native``."""
    from threadpoolctl import threadpool_info, threadpool_limits

    import mldsl.kernels as K
    own_available = K.own_sgemm_available()
    x, y = synthetic(samples)
    params = num_params()
    status = keras_status() if keras else "skipped (--no-keras)"
    record: Dict[str, Any] = {
        "benchmark": "mlp", "model": "784-500-300-10 ReLU, softmax cross-entropy, Adam(1e-3), float32",
        "params": params, "threads": threads, "keras": status or "available",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "numpy": np.__version__},
        "kernels": _kernels_info(),
        "goals": GOALS,
    }
    with threadpool_limits(threads, user_api="blas"):
        record["blas"] = [{k: d.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
                          for d in threadpool_info() if d.get("user_api") == "blas"]
        log("measuring the sgemm rate ...")
        rate = sgemm_rate(max(3, repeat))
        log("memory check ...")
        record["memory"] = memory_check(x[: min(samples, 20_000)], y[: min(samples, 20_000)])
        results = {}
        for batch, n in ((100, samples), (32, samples // 2)):
            xs, ys = x[:n], y[:n]
            log(f"batch {batch}: preparing contenders ...")
            runners = {"native": native_epoch(xs, ys, batch), "numpy": numpy_loop(xs, ys, batch)}
            if per_layer:
                runners["native_per_layer"] = native_epoch(xs, ys, batch, compiled_step=False)
            if blas_sgemm:
                runners["native_blas_sgemm"] = native_epoch(xs, ys, batch, own_sgemm=False)
                if own_available:
                    runners["native_own_sgemm"] = native_epoch(xs, ys, batch, own_sgemm=True)
            if status is None:
                runners["keras"] = keras_fit(xs, ys, batch, threads)
            best = {k: math.inf for k in runners}
            for r in range(max(1, repeat)):       # interleaved, so a busy moment hits every contender
                for name, fn in runners.items():
                    log(f"batch {batch}: {name} (run {r + 1}/{max(1, repeat)}) ...")
                    time.sleep(SETTLE_SECONDS)
                    best[name] = min(best[name], _best(fn, 1))
            results[batch] = (n, best)
        log("measuring the sgemm rate again ...")
        rate2 = sgemm_rate(max(3, repeat))          # the machine's best, in case it was busy at first
        if rate2["flops_per_s"] > rate["flops_per_s"]:
            rate = rate2
        record["sgemm_gflops"] = round(rate["flops_per_s"] / 1e9, 1)
        record["sgemm_gflops_by_blas"] = {lib: {k: round(v / 1e9, 1) for k, v in by_size.items()}
                                          for lib, by_size in rate["by_blas"].items()}
        for batch, (n, best) in results.items():
            log(f"batch {batch}: timing the epoch's GEMMs at their real shapes ...")
            gemm_floor = epoch_gemm_seconds(batch, n, repeat=max(3, repeat))
            secs: Dict[str, Optional[float]] = {"floor": 6.0 * params * n / rate["flops_per_s"],
                                                "gemm_floor": gemm_floor}
            secs.update(best)
            secs.setdefault("keras", None)
            entry = {"samples": n, "batch_size": batch, "steps": math.ceil(n / batch),
                     "seconds_per_epoch": {k: (None if v is None else round(v, 6)) for k, v in secs.items()},
                     "floor_ratio": round(secs["native"] / secs["floor"], 3),
                     "gemm_floor_ratio": round(secs["native"] / secs["gemm_floor"], 3),
                     "numpy_floor_ratio": round(secs["numpy"] / secs["floor"], 3),
                     "speedup_vs_numpy": round(secs["numpy"] / secs["native"], 2),
                     "speedup_vs_keras": None if secs["keras"] is None else round(secs["keras"] / secs["native"], 2)}
            if secs["keras"] is not None:
                entry["keras_floor_ratio"] = round(secs["keras"] / secs["floor"], 3)
            record[f"batch_{batch}"] = entry
        if mnist:
            log("MNIST accuracy ...")
            record["mnist"] = mnist_accuracy(mnist, threads, keras and status is None)
    record["speedup_vs_keras"] = record["batch_100"]["speedup_vs_keras"]
    record["floor_ratio"] = record["batch_100"]["floor_ratio"]
    record["goals_met"] = goals_met(record)
    return record


def format_record(r: Dict[str, Any]) -> str:
    """A human-readable table of :func:`run`'s record."""
    lines = [f"mlp benchmark: {r['model']}, {r['params']:,} parameters, {r['threads']} BLAS threads",
             f"sgemm rate: {r['sgemm_gflops']} GFLOP/s (by BLAS and size {r['sgemm_gflops_by_blas']}); "
             f"keras: {r['keras']}", f"kernels: {r['kernels']}"]
    for key in ("batch_100", "batch_32"):
        e = r[key]
        s = e["seconds_per_epoch"]
        lines.append(f"\n{key}: {e['samples']:,} samples, {e['steps']} steps")
        for name in ("native", "native_per_layer", "native_blas_sgemm", "native_own_sgemm", "numpy", "keras", "floor",
                     "gemm_floor"):
            if name not in s:
                continue
            v = s[name]
            ratio = "" if v is None else f"  ({v / s['floor']:.2f}x floor)"
            lines.append(f"  {name:17s} {'unavailable' if v is None else f'{v:8.3f} s/epoch'}{ratio}")
        lines.append(f"  floor_ratio {e['floor_ratio']}  gemm_floor_ratio {e['gemm_floor_ratio']}  "
                     f"speedup_vs_numpy {e['speedup_vs_numpy']}  "
                     f"speedup_vs_keras {e['speedup_vs_keras']}")
    m = r["memory"]
    lines.append(f"\nmemory: RSS {m['rss_after_warmup_mb']} -> {m['rss_after_epochs_mb']} MB over {m['epochs']} epochs "
                 f"(growth {m['rss_growth_mb']} MB); tracemalloc over {m['steps_traced']} steps: net "
                 f"{m['traced_net_bytes']} B, peak {m['traced_peak_bytes']} B; peak RSS {m['peak_rss_mb']} MB")
    if "mnist" in r:
        lines.append(f"mnist (8k train / 2k test, 10 epochs): {r['mnist']}")
    verdict = {True: "met", False: "NOT met", None: "not measured"}
    lines.append("goals: " + ", ".join(f"{goal} {'<=' if goal.startswith('floor') else '>='} {bound}: "
                                       f"{verdict[r['goals_met'][goal]]}" for goal, bound in r["goals"].items()))
    return "\n".join(lines)


def main(argv: Optional[list] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m mldsl.bench.mlp", description=__doc__.split("\n\n")[0])
    p.add_argument("--json", action="store_true", help="print the record as JSON")
    p.add_argument("--samples", type=int, default=60_000, help="samples at batch 100 (batch 32 uses half)")
    p.add_argument("--threads", type=int, default=2, help="BLAS / TensorFlow threads (default 2)")
    p.add_argument("--repeat", type=int, default=1, help="time each contender R times, keep the best")
    p.add_argument("--no-keras", action="store_true", help="skip Keras even if TensorFlow is installed")
    p.add_argument("--per-layer", action="store_true",
                   help="also time the native trainer without its compiled step (native_per_layer)")
    p.add_argument("--blas-sgemm", action="store_true",
                   help="also time the native trainer with every product on BLAS (native_blas_sgemm) and with "
                        "the own sgemm (native_own_sgemm)")
    p.add_argument("--mnist", metavar="PATH", help="also run the MNIST accuracy check on this data")
    p.add_argument("--contention", action="store_true",
                   help="instead: native epochs at several model sizes, quiet and beside one busy process per "
                        "core, default threads and one thread (mldsl.bench.contention)")
    args = p.parse_args(argv)
    if args.contention:
        from mldsl.bench import contention
        log = (lambda s: print(s, file=sys.stderr, flush=True)) if not args.json else (lambda s: None)
        record = contention.run(max(1, args.repeat), log)
        print(json.dumps(record, indent=2) if args.json else contention.format_record(record))
        return 0
    if args.samples < 200:
        p.error("--samples must be at least 200")
    log = (lambda s: print(s, file=sys.stderr, flush=True)) if not args.json else (lambda s: None)
    record = run(args.samples, args.threads, args.repeat, not args.no_keras, args.mnist, log, args.per_layer,
                 args.blas_sgemm)
    print(json.dumps(record, indent=2) if args.json else format_record(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
