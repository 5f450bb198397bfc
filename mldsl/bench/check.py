"""Benchmark (not a test): whole-process wall time of ``mldsl check`` on a generated 300-line file.

    mldsl bench check [--runs N] [--lines 300]      (or: python -m mldsl.bench.check)

Prints the best and median of N runs of ``python -m mldsl check FILE`` (the first, untimed run
fills the bytecode cache), twice: with Python's bytecode cache (what an installed mldsl
gets; the cache goes to a temporary PYTHONPYCACHEPREFIX, not into the source tree) and with the
environment as it is (``PYTHONDONTWRITEBYTECODE=1`` recompiles every module on every run).
Goal: under 0.3 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Optional

BLOCK = '''\
# experiment {i}
let width_{i} = {w}
experiment exp_{i} = Experiment(
    model=Sequential([
        Flatten(),
        Dense(width_{i}, activation="relu"),
        Dropout(0.2),
        Dense(10, activation="softmax"),
    ]),
    data=Digits(),
    training={{ batch_size = 32, num_epochs = 2, optimizer = Adam(learning_rate=1e-3) }},
)
patch faster_{i} {{
    training.batch_size = 256
    training.optimizer.learning_rate = 0.01
}}
experiment exp_{i}_fast = exp_{i} with faster_{i}, {{ model.layers[1].units = {w2} }}
experiment space_{i} = exp_{i} with {{
    model.layers[1].units = oneof([64, 128, 256])
    training.optimizer = oneof([SGD(learning_rate=floatv(1e-3, 1e-1, scale="log")), Adam()])
}}
search tune_{i} over space_{i} {{
    algorithm = evolution(population_size=5, tournament_size=3)
    trials = 20
    objective = maximize("accuracy")
}}

'''


def make_file(lines: int) -> str:
    parts, i = [], 0
    while sum(p.count("\n") for p in parts) < lines:
        parts.append(BLOCK.format(i=i, w=32 * (i % 8 + 1), w2=16 * (i % 4 + 1)))
        i += 1
    text = "".join(parts)
    return "\n".join(text.split("\n")[:lines]).rsplit("\n# experiment", 1)[0] + "\n"


def main(argv: Optional[list] = None) -> int:
    """Runs the benchmark and prints the figures; returns the exit code."""
    ap = argparse.ArgumentParser(prog="mldsl bench check", description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--lines", type=int, default=300)
    args = ap.parse_args(argv)
    text = make_file(args.lines)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.mlx")
        with open(path, "w") as f:
            f.write(text)
        cmd = [sys.executable, "-m", "mldsl", "check", path]
        cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached.update(PYTHONWARNINGS="ignore", PYTHONPYCACHEPREFIX=os.path.join(tmp, "pycache"))
        as_is = dict(os.environ, PYTHONWARNINGS="ignore")
        n = text.count("\n")
        print(f"mldsl check on a {n}-line file ({text.count('experiment ')} experiment statements)")
        for label, env in (("bytecode cached", cached), ("environment as is", as_is)):
            first = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if first.returncode != 0:
                print(first.stdout, first.stderr)
                return 1
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                subprocess.run(cmd, capture_output=True, env=env, check=True)
                times.append(time.perf_counter() - t0)
            print(f"  {label:18s} best {min(times):.3f} s, median {statistics.median(times):.3f} s "
                  f"over {len(times)} runs")
        base = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], env=cached, check=True)
            base.append(time.perf_counter() - t0)
        print(f"  {'python -c pass':18s} best {min(base):.3f} s (interpreter start-up, for scale)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
