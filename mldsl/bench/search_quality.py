"""Search quality: how many trials each algorithm needs to come near the best of a fixed space.

    mldsl bench search-quality [--json] [--seeds N] [--budget N] [--target-points P] [--file FILE:SPACE]

The space is the digits example's (``examples/digits.mlx:digits_space``: 162 discrete points, 30 epochs
each). Every point is trained once, in process, which gives the table of accuracies and the space's best.
Then each algorithm searches that table (a proposal's accuracy is looked up, so seeds cost nothing and no
training noise enters): the figure is the number of trials until a trial comes within ``--target-points``
(default 0.5) accuracy points of the space's best, the median over ``--seeds`` seeds (default 5); a seed
that does not get there within ``--budget`` trials (default: the space's size) counts as budget + 1.
Results are fed back at once (a window of 1, as a lone search runs).

Algorithms: ``random()``, ``evolution(population_size=10, tournament_size=3)`` (the default population of
100 would be random search for the whole budget of this small space) and ``tpe(n_startup_trials=10)``
(Optuna; "unavailable" without it). Goal: evolution and tpe need fewer trials than random.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

DEFAULT_FILE = "examples/digits.mlx:digits_space"

#: name -> (how the algorithm is made, given a seed; its description)
ALGORITHMS: Dict[str, tuple] = {
    "random": (lambda seed: _hyper().Random(seed=seed), "random()"),
    "evolution": (lambda seed: _hyper().Evolution(population_size=10, tournament_size=3, seed=seed),
                  "evolution(population_size=10, tournament_size=3)"),
    "tpe": (lambda seed: _hyper().TPE(n_startup_trials=10, seed=seed), "tpe(n_startup_trials=10)"),
}


def _hyper():
    import mldsl.hyper as H  # noqa: PLC0415
    return H


def load_space(target: str) -> Any:
    """The experiment space ``FILE:NAME`` (a relative FILE is looked up in the current folder, then in the
    source tree's root, where ``examples/`` lives)."""
    import mldsl  # noqa: PLC0415
    file, _, name = target.rpartition(":")
    path = Path(file)
    if not path.exists() and not path.is_absolute():
        path = Path(__file__).resolve().parents[2] / file
    if not path.exists():
        raise SystemExit(f"search-quality: {file} not found; pass --file FILE:SPACE")
    return mldsl.load_mlx(path)[name]


def accuracy_table(space: Any, log: Callable[[str], None] = lambda s: None) -> Dict[str, float]:
    """Every point of ``space`` trained once (a grid search in process, in memory): ``{DNA as JSON:
    accuracy}``."""
    from mldsl.engine.search import run_search  # noqa: PLC0415
    from mldsl.hyper import Grid, dna_spec  # noqa: PLC0415

    size = int(dna_spec(space).space_size)
    log(f"training all {size} points of the space ...")
    result = run_search(space, name="table", algorithm=Grid(shuffle=False), trials=size, objective="accuracy")
    return {json.dumps(t.dna): float(t.metrics["accuracy"]) for t in result.trials if t.status == "completed"}


def trials_to_target(algorithm: Any, spec: Any, table: Dict[str, float], target: float, budget: int) -> int:
    """Trials ``algorithm`` proposes over ``spec`` until one scores at least ``target`` in ``table``
    (feedback after every trial); ``budget + 1`` when none does within ``budget``."""
    algorithm.setup(spec)
    for k in range(1, budget + 1):
        try:
            dna = algorithm.propose()
        except StopIteration:
            break
        score = table.get(json.dumps(dna.to_numbers()))
        algorithm.feedback(dna, score)
        if score is not None and score >= target:
            return k
    return budget + 1


def run(table: Dict[str, float], spec: Any, seeds: int = 5, budget: Optional[int] = None,
        target_points: float = 0.5, log: Callable[[str], None] = lambda s: None) -> Dict[str, Any]:
    """The record: per algorithm the trials to the target for each seed and their median."""
    best = max(table.values())
    target = best - target_points / 100.0
    budget = budget or len(table)
    record: Dict[str, Any] = {
        "benchmark": "search-quality", "points": len(table), "best_accuracy": round(best, 6),
        "target_accuracy": round(target, 6), "target_points": target_points,
        "points_at_target": sum(v >= target for v in table.values()), "budget": budget, "seeds": seeds,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "algorithms": {},
    }
    for name, (make, description) in ALGORITHMS.items():
        try:
            counts = []
            for seed in range(seeds):
                log(f"{name}, seed {seed} ...")
                counts.append(trials_to_target(make(seed), spec, table, target, budget))
            record["algorithms"][name] = {"algorithm": description, "trials_to_target": counts,
                                          "median": statistics.median(counts)}
        except Exception as exc:  # noqa: BLE001 - e.g. tpe without Optuna: say so, measure the rest
            record["algorithms"][name] = {"algorithm": description, "unavailable": f"{type(exc).__name__}: {exc}"}
    medians = {k: v.get("median") for k, v in record["algorithms"].items()}
    record["fewer_trials_than_random"] = {k: (None if m is None or medians["random"] is None else m < medians["random"])
                                          for k, m in medians.items() if k != "random"}
    return record


def format_record(r: Dict[str, Any]) -> str:
    """A human-readable table of :func:`run`'s record."""
    lines = [f"search quality: {r['points']} points, best accuracy {r['best_accuracy']:.4f}; target "
             f"{r['target_accuracy']:.4f} (within {r['target_points']} points, {r['points_at_target']} points "
             f"reach it); budget {r['budget']}, {r['seeds']} seeds"]
    for name, a in r["algorithms"].items():
        if "unavailable" in a:
            lines.append(f"  {name:10s} unavailable: {a['unavailable']}")
        else:
            lines.append(f"  {name:10s} median {a['median']:6.1f} trials  {a['trials_to_target']}  ({a['algorithm']})")
    return "\n".join(lines)


def main(argv: Optional[list] = None) -> int:
    p = argparse.ArgumentParser(prog="mldsl bench search-quality", description=__doc__.split("\n\n")[0])
    p.add_argument("--json", action="store_true", help="print the record as JSON")
    p.add_argument("--seeds", type=int, default=5, help="seeds per algorithm (default 5)")
    p.add_argument("--budget", type=int, default=None, help="trials per search at most (default: the space's size)")
    p.add_argument("--target-points", type=float, default=0.5,
                   help="how close to the space's best, in accuracy points (default 0.5)")
    p.add_argument("--file", default=DEFAULT_FILE, help=f"the space, FILE:NAME (default {DEFAULT_FILE})")
    args = p.parse_args(argv)
    if args.seeds < 1 or (args.budget is not None and args.budget < 1) or args.target_points < 0:
        p.error("--seeds and --budget must be at least 1, --target-points at least 0")
    log = (lambda s: None) if args.json else (lambda s: print(s, file=sys.stderr, flush=True))
    from mldsl.hyper import dna_spec  # noqa: PLC0415
    space = load_space(args.file)
    started = time.perf_counter()
    table = accuracy_table(space, log)
    record = run(table, dna_spec(space), args.seeds, args.budget, args.target_points, log)
    record["space"] = args.file
    record["table_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(record, indent=2) if args.json else format_record(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
