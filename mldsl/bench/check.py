"""Benchmark (not a test): whole-process wall time of ``mldsl check`` on generated files, and how it grows
with the file.

    mldsl bench check [--runs N] [--lines 300 [3000 30000 ...]] [--json]   (or: python -m mldsl.bench.check)

For each size, a file of that many lines (experiments, patches, search spaces and searches, repeated) is
checked ``N`` times by ``python -m mldsl check FILE`` (after one untimed run that fills the bytecode
cache); the sizes take turns, so a busy moment on a shared machine hits every size. Each is timed twice:
with Python's bytecode cache (what an installed mldsl gets; the cache goes to a temporary
PYTHONPYCACHEPREFIX, not into the source tree) and with the environment as it is
(``PYTHONDONTWRITEBYTECODE=1`` recompiles every module on every run). ``growth`` compares each size with
the first one (median times, bytecode cached): ``time_ratio`` against ``lines_ratio``.
Goals: a 300-line file in under 0.3 s; ten times the lines in under ten times the time.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional

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

GOALS = {"seconds_300_lines": 0.3, "time_ratio_per_10x_lines": 10.0}


def make_file(lines: int) -> str:
    """A valid ``.mlx`` file of about ``lines`` lines (whole blocks of :data:`BLOCK`)."""
    block_lines = BLOCK.count("\n")
    text = "".join(BLOCK.format(i=i, w=32 * (i % 8 + 1), w2=16 * (i % 4 + 1))
                   for i in range(lines // block_lines + 1))
    return "\n".join(text.split("\n")[:lines]).rsplit("\n# experiment", 1)[0] + "\n"


def _timed(cmd: List[str], env: Dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, capture_output=True, env=env, check=True)
    return time.perf_counter() - t0


def _summary(times: List[float]) -> Dict[str, float]:
    return {"best_s": round(min(times), 4), "median_s": round(statistics.median(times), 4), "runs": len(times)}


def run(sizes: List[int], runs: int = 10, log: Callable[[str], None] = lambda s: None) -> Dict:
    """Times ``mldsl check`` on a generated file of each size (see the module docstring); the record."""
    with tempfile.TemporaryDirectory() as tmp:
        cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached.update(PYTHONWARNINGS="ignore", PYTHONPYCACHEPREFIX=os.path.join(tmp, "pycache"))
        envs = {"bytecode_cached": cached, "environment_as_is": dict(os.environ, PYTHONWARNINGS="ignore")}
        files, entries = {}, []
        for n in sizes:
            text = make_file(n)
            path = files[n] = os.path.join(tmp, f"bench-{n}.mlx")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            entries.append({"lines": text.count("\n"), "experiment_statements": text.count("experiment ")})
            for env in envs.values():  # the untimed first run: bytecode cache, and the file must check
                first = subprocess.run([sys.executable, "-m", "mldsl", "check", path], capture_output=True,
                                       text=True, env=env)
                if first.returncode != 0:
                    raise RuntimeError(f"mldsl check failed on the generated file:\n{first.stdout}{first.stderr}")
        times = {(n, label): [] for n in sizes for label in envs}
        for r in range(runs):          # sizes and environments take turns
            for n in sizes:
                for label, env in envs.items():
                    log(f"{n} lines, {label} (run {r + 1}/{runs}) ...")
                    times[(n, label)].append(_timed([sys.executable, "-m", "mldsl", "check", files[n]], env))
        startup = [_timed([sys.executable, "-c", "pass"], cached) for _ in range(runs)]
    for n, entry in zip(sizes, entries):
        entry.update({label: _summary(times[(n, label)]) for label in envs})
    growth = []
    base = entries[0]
    for entry in entries[1:]:
        growth.append({"from_lines": base["lines"], "to_lines": entry["lines"],
                       "lines_ratio": round(entry["lines"] / base["lines"], 2),
                       "time_ratio": round(entry["bytecode_cached"]["median_s"]
                                           / base["bytecode_cached"]["median_s"], 2)})
    return {"benchmark": "check", "python": sys.version.split()[0], "cpus": os.cpu_count(), "sizes": entries,
            "growth": growth, "interpreter_startup_best_s": round(min(startup), 4), "goals": GOALS}


def format_record(r: Dict) -> str:
    """The record as a few lines of text."""
    lines = []
    for e in r["sizes"]:
        lines.append(f"mldsl check on a {e['lines']}-line file ({e['experiment_statements']} experiment statements)")
        for label in ("bytecode_cached", "environment_as_is"):
            s = e[label]
            lines.append(f"  {label.replace('_', ' '):18s} best {s['best_s']:.3f} s, median {s['median_s']:.3f} s "
                         f"over {s['runs']} runs")
    for g in r["growth"]:
        lines.append(f"{g['from_lines']} -> {g['to_lines']} lines ({g['lines_ratio']}x): {g['time_ratio']}x the time "
                     "(medians, bytecode cached)")
    lines.append(f"python -c pass: best {r['interpreter_startup_best_s']:.3f} s (interpreter start-up, for scale)")
    return "\n".join(lines)


def main(argv: Optional[list] = None) -> int:
    """Runs the benchmark and prints the figures; returns the exit code."""
    ap = argparse.ArgumentParser(prog="mldsl bench check", description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10, help="timed runs per size and environment (default 10)")
    ap.add_argument("--lines", type=int, nargs="+", default=[300], metavar="N",
                    help="file sizes in lines (default 300); growth compares each with the first")
    ap.add_argument("--json", action="store_true", help="print the record as JSON")
    args = ap.parse_args(argv)
    if args.runs < 1 or any(n < 20 for n in args.lines):
        ap.error("--runs must be at least 1 and each --lines at least 20")
    log = (lambda s: None) if args.json else (lambda s: print(s, file=sys.stderr, flush=True))
    try:
        record = run(args.lines, args.runs, log)
    except RuntimeError as exc:
        print(f"mldsl bench check: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(record, indent=2) if args.json else format_record(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
