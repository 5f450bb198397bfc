"""CLI verb ``bench``: the benchmarks, each comparing against a reference in the same run (ratios)."""
from __future__ import annotations

import argparse
import importlib

#: benchmark name -> (module with ``main(argv) -> int``, one-line summary)
BENCHMARKS = {
    "mlp": ("mldsl.bench.mlp", "native kernels vs Keras vs NumPy vs the sgemm floor, MLP epoch time"),
    "search": ("mldsl.bench.search_overhead", "search framework overhead per trial vs Optuna"),
    "search-quality": ("mldsl.bench.search_quality",
                       "trials random, evolution and tpe need to come near the best of the digits space"),
    "check": ("mldsl.bench.check", "`mldsl check` wall time, and its growth with the file (--lines 3000 30000)"),
    "keras": ("mldsl.backends.keras.bench", "mldsl's Keras backend vs the same model written in Keras"),
}


def add_parsers(subparsers) -> None:
    """Adds ``bench NAME [ARGS...]`` (``mldsl bench mlp --help`` shows a benchmark's own options)."""
    p = subparsers.add_parser(
        "bench", help="run a benchmark (mlp, search, search-quality, check, keras)",
        description="Run a benchmark. " + "; ".join(f"{k}: {v[1]}" for k, v in BENCHMARKS.items()) + ".")
    p.add_argument("benchmark", choices=sorted(BENCHMARKS))
    p.add_argument("args", nargs=argparse.REMAINDER, help="options of that benchmark (e.g. --json)")
    p.set_defaults(handler=cmd_bench)


def cmd_bench(args) -> int:
    module = importlib.import_module(BENCHMARKS[args.benchmark][0])
    return int(module.main(list(args.args)) or 0)
