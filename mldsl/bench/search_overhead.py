"""Framework overhead of a search, per trial, side by side with Optuna, in one run.

    python -m mldsl.bench.search_overhead [--json] [--memory-trials N [N ...]] [--sqlite-trials N [N ...]]
                                          [--repeat R] [--optuna-sqlite-max-trials N]

The objective is trivial (it returns a constant), so the time per trial is the framework's own cost:
proposing, building the trial's configuration, bookkeeping and, with a store, durable records. Compared:

- mldsl ``run_search`` with the random algorithm, in memory (``store=None``) and with the SQLite store
  (WAL, ``synchronous=FULL``: every trial's start and end committed durably), over
  * ``raw``: a bare DNA spec (3 decisions; a trial gets ``{decision: value}``, like Optuna's params), and
  * ``experiment``: a symbolic ``Experiment`` with 3 hyper primitives (each trial materialises and
    validates a whole experiment and records it as ``.mlx`` text), when the DSL and std plugin load;
- Optuna with ``RandomSampler`` and the same 3 parameters, with its in-memory storage and its SQLite
  (RDB) storage.

Each figure is the best of ``--repeat`` runs. Store files go to a temporary folder. Given several sizes
(``--memory-trials 2000 20000``), every row is timed at each, and ``growth`` is the per-trial time at the
largest size over the smallest (1.0: flat in the number of trials). ``--optuna-sqlite-max-trials N`` times
Optuna's SQLite storage only up to N trials (it takes tens of milliseconds per trial, growing with the
study: 20,000 trials would take many minutes), noted in the record.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable, List, Optional, Union

SPACE_MLX = """
experiment base = Experiment(
    model = Sequential([Dense(32, activation="relu"), Dense(10, activation="softmax")]),
    data = Digits(),
    training = { batch_size = 32, num_epochs = 1, optimizer = Adam(learning_rate=0.001) },
)
experiment space = base with {
    model.layers[0].units = oneof([16, 32, 64])
    training.optimizer.learning_rate = floatv(0.0001, 0.1, scale="log")
    training.batch_size = intv(16, 256)
}
"""


def _trivial(experiment: Any, report: Callable) -> dict:
    return {"accuracy": 0.5}


def raw_space():
    """3 decision points, like the Optuna objective: a 3-way choice, a log float, an int."""
    from mldsl.hyper.geno import Choices, FloatDecision, IntDecision, Space

    return Space([Choices(1, [Space(), Space(), Space()], ["16", "32", "64"], location="units"),
                  FloatDecision(1e-4, 1e-1, scale="log", location="learning_rate"),
                  IntDecision(16, 256, location="batch_size")])


def experiment_space() -> tuple[Optional[Any], Optional[str]]:
    """The symbolic experiment space (or None and the reason it cannot be built here)."""
    try:
        import mldsl

        return mldsl.parse(SPACE_MLX, "<bench>")["space"], None
    except Exception as exc:  # the DSL or std plugin is not usable in this checkout
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _time_mldsl(space: Any, trials: int, store_path: Optional[Path]) -> float:
    from mldsl.engine.search import run_search
    from mldsl.hyper.random_search import Random

    if store_path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(str(store_path) + suffix).unlink(missing_ok=True)
    started = time.perf_counter()
    result = run_search(space, name="bench", algorithm=Random(seed=0), trials=trials, objective="accuracy",
                        store=str(store_path) if store_path else None, evaluate=_trivial, seed=0)
    elapsed = time.perf_counter() - started
    if len(result.trials) != trials or result.best is None:
        raise RuntimeError(f"the mldsl search did not run {trials} trials: {result.counts()}")
    return elapsed


def _time_optuna(trials: int, store_path: Optional[Path]) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = None
    if store_path is not None:
        Path(store_path).unlink(missing_ok=True)
        storage = f"sqlite:///{store_path}"

    def objective(trial):
        trial.suggest_categorical("units", [16, 32, 64])
        trial.suggest_float("learning_rate", 1e-4, 1e-1, log=True)
        trial.suggest_int("batch_size", 16, 256)
        return 0.5

    started = time.perf_counter()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), storage=storage,
                                direction="maximize", study_name="bench")
    study.optimize(objective, n_trials=trials)
    elapsed = time.perf_counter() - started
    if len(study.trials) != trials:
        raise RuntimeError("the Optuna study did not run every trial")
    return elapsed


def _best(fn: Callable[[], float], repeat: int) -> float:
    return min(fn() for _ in range(repeat))


def _sizes(trials: Union[int, Iterable[int]]) -> List[int]:
    return sorted({int(trials)} if isinstance(trials, int) else {int(t) for t in trials})


def run(memory_trials: Union[int, Iterable[int]] = 2000, sqlite_trials: Union[int, Iterable[int]] = 200,
        repeat: int = 3, folder: Optional[Path] = None, log: Callable[[str], None] = lambda s: None,
        optuna_sqlite_max_trials: Optional[int] = None) -> dict:
    """Runs every measurement and returns the figures (seconds per trial) as a dict: ``rows`` (one per
    framework, space, storage and size), ``optuna_speedup`` (Optuna's per-trial time over mldsl's, keyed
    ``space/storage/trials``) and ``growth`` (per-trial time at the largest size over the smallest, keyed
    ``framework/space/storage``)."""
    rows: list[dict] = []
    notes: list[str] = []
    spaces = [("raw", raw_space())]
    exp_space, why = experiment_space()
    if exp_space is not None:
        spaces.append(("experiment", exp_space))
    else:
        notes.append(f"experiment space skipped ({why})")
    try:
        import optuna
        optuna_version = optuna.__version__
    except ImportError:
        optuna_version = None
        notes.append('Optuna is not installed (pip install "mldsl[bench]"); its rows are skipped')

    with tempfile.TemporaryDirectory(prefix="mldsl-bench-", dir=folder) as tmp:
        tmp_path = Path(tmp)
        # warm-up: imports, plugin loading, first-use caches
        for _, space in spaces:
            _time_mldsl(space, 5, tmp_path / "warm.db")
        if optuna_version:
            _time_optuna(5, None)
        for storage, sizes in (("memory", _sizes(memory_trials)), ("sqlite", _sizes(sqlite_trials))):
            for trials in sizes:
                for label, space in spaces:
                    path = tmp_path / f"mldsl-{label}.db" if storage == "sqlite" else None
                    seconds = _best(lambda: _time_mldsl(space, trials, path), repeat)
                    rows.append({"framework": "mldsl", "space": label, "storage": storage, "trials": trials,
                                 "seconds": seconds, "per_trial_ms": seconds / trials * 1e3})
                    log(f"mldsl  {label:<10} {storage:<6} {trials:>6} {seconds / trials * 1e3:9.3f} ms/trial")
                if not optuna_version:
                    continue
                if storage == "sqlite" and optuna_sqlite_max_trials is not None and trials > optuna_sqlite_max_trials:
                    notes.append(f"Optuna's SQLite storage skipped at {trials} trials: above "
                                 f"--optuna-sqlite-max-trials {optuna_sqlite_max_trials}")
                    continue
                path = tmp_path / "optuna.db" if storage == "sqlite" else None
                seconds = _best(lambda: _time_optuna(trials, path), repeat)
                rows.append({"framework": "optuna", "space": "params", "storage": storage, "trials": trials,
                             "seconds": seconds, "per_trial_ms": seconds / trials * 1e3})
                log(f"optuna {'params':<10} {storage:<6} {trials:>6} {seconds / trials * 1e3:9.3f} ms/trial")
    speedups = {}
    for row in rows:
        if row["framework"] != "mldsl":
            continue
        ref = next((r for r in rows if r["framework"] == "optuna" and r["storage"] == row["storage"]
                    and r["trials"] == row["trials"]), None)
        if ref:
            speedups[f"{row['space']}/{row['storage']}/{row['trials']}"] = ref["per_trial_ms"] / row["per_trial_ms"]
    growth = {}
    for key in dict.fromkeys((r["framework"], r["space"], r["storage"]) for r in rows):
        same = sorted((r for r in rows if (r["framework"], r["space"], r["storage"]) == key),
                      key=lambda r: r["trials"])
        if len(same) > 1:
            growth["/".join(key)] = same[-1]["per_trial_ms"] / same[0]["per_trial_ms"]
    return {"benchmark": "search_overhead", "rows": rows, "optuna_speedup": speedups, "growth": growth,
            "notes": notes, "repeat": repeat, "python": platform.python_version(), "optuna": optuna_version,
            "platform": platform.platform(), "cpus": os.cpu_count()}


def format_table(result: dict) -> str:
    lines = ["framework  space       storage  trials   per trial      vs Optuna (same storage)",
             "---------  ----------  -------  ------  -----------  -------------------------"]
    for row in result["rows"]:
        ratio = result["optuna_speedup"].get(f"{row['space']}/{row['storage']}/{row['trials']}")
        verdict = "" if ratio is None else (f"{ratio:.1f}x less overhead" if ratio >= 1
                                            else f"{1 / ratio:.1f}x MORE overhead")
        lines.append(f"{row['framework']:<9}  {row['space']:<10}  {row['storage']:<7}  {row['trials']:>6}  "
                     f"{row['per_trial_ms']:8.3f} ms  {verdict}")
    for key, ratio in result.get("growth", {}).items():
        lines.append(f"growth {key}: {ratio:.2f}x per trial from the smallest size to the largest")
    for note in result["notes"]:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of trials") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} trials: give at least 1")
    return value


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mldsl.bench.search_overhead", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--memory-trials", type=_positive, nargs="+", default=[2000], metavar="N",
                        help="trials per in-memory run; several sizes measure the growth (default 2000)")
    parser.add_argument("--sqlite-trials", type=_positive, nargs="+", default=[200], metavar="N",
                        help="trials per SQLite run; several sizes measure the growth (default 200)")
    parser.add_argument("--optuna-sqlite-max-trials", type=_positive, default=None, metavar="N",
                        help="time Optuna's SQLite storage only up to N trials (default: at every size)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best is kept (default 3)")
    parser.add_argument("--tmp", default=None, help="folder for the temporary store files (default: system temp)")
    args = parser.parse_args(argv)
    result = run(args.memory_trials, args.sqlite_trials, args.repeat, Path(args.tmp) if args.tmp else None,
                 log=(lambda s: None) if args.json else (lambda s: print(s, file=sys.stderr, flush=True)),
                 optuna_sqlite_max_trials=args.optuna_sqlite_max_trials)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
