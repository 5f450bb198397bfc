"""CLI verbs ``run`` (train and evaluate one experiment) and ``runs`` (list, show and diff recorded runs)."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Optional, TextIO

from mldsl.commands._target import load_target
from mldsl.errors import MldslError


def add_parsers(subparsers) -> None:
    """Adds ``run`` and ``runs``."""
    run = subparsers.add_parser("run", help="train and evaluate an experiment, recording the run",
                                description="Train and evaluate FILE[:NAME] (the file's first experiment "
                                            "without NAME) and record the run in the store.")
    run.add_argument("target", nargs="?", metavar="FILE[:NAME]")
    run.add_argument("--patch", action="append", default=[], metavar="'name?k=v'",
                     help="apply a patch of FILE or a patcher (repeatable, applied in order)")
    run.add_argument("--set", action="append", default=[], dest="sets", metavar="PATH=VALUE",
                     help="set a value by path, e.g. training.batch_size=64 (repeatable)")
    run.add_argument("--backend", choices=["native", "keras", "auto"], help="override the experiment's backend")
    run.add_argument("--seed", type=int, help="override the experiment's seed")
    run.add_argument("--store", help="results store (default: mldsl.db next to FILE, or $MLDSL_STORE)")
    run.add_argument("--rerun", metavar="ID", help="run a recorded run again, exactly as it was")
    run.add_argument("--no-store", action="store_true", help="do not record the run")
    run.add_argument("--json", action="store_true", help="print one machine-readable record")
    run.set_defaults(handler=cmd_run)

    runs = subparsers.add_parser("runs", help="list recorded runs, show one, or diff two",
                                 description="`mldsl runs` lists runs; `mldsl runs show ID [--diff OTHER]`.")
    runs.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    runs.add_argument("run_id", nargs="?", metavar="ID")
    runs.add_argument("--diff", metavar="OTHER_ID", help="with show: the differences against another run")
    runs.add_argument("--store", help="results store (default: ./mldsl.db or $MLDSL_STORE)")
    runs.add_argument("--json", action="store_true")
    runs.set_defaults(handler=cmd_runs)


# --- progress ------------------------------------------------------------------------------------------
class Progress:
    """Per-epoch progress lines on a terminal (coloured unless ``NO_COLOR`` is set); silent otherwise."""

    def __init__(self, total_epochs: int, stream: Optional[TextIO] = None, enabled: Optional[bool] = None):
        self.total = total_epochs
        self.stream = stream = stream if stream is not None else sys.stderr
        self.enabled = stream.isatty() if enabled is None else enabled
        self.color = self.enabled and "NO_COLOR" not in os.environ

    def _c(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def __call__(self, epoch: int, logs: dict) -> None:
        if not self.enabled:
            return
        parts = [self._c(f"epoch {epoch}/{self.total}", "1"), format_logs(logs)]
        if "seconds" in logs:
            parts.append(self._c(f"{logs['seconds']:.2f}s", "2"))
        print("  ".join(parts), file=self.stream, flush=True)


def format_value(value) -> str:
    """A metric value as runs show it: floats to 4 decimals."""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def format_logs(logs: dict) -> str:
    """One epoch's logs as ``loss 0.1234  accuracy 0.9000`` (the timing and epoch number left out)."""
    return "  ".join(f"{k} {format_value(v)}" for k, v in logs.items() if k not in ("seconds", "epoch"))


def metrics_table(metrics: dict) -> str:
    """A two-column table of final metrics."""
    width = max((len(k) for k in metrics), default=6)
    lines = [f"{'metric':<{width}}  value", f"{'-' * width}  ------"]
    lines += [f"{key:<{width}}  {format_value(value)}" for key, value in metrics.items()]
    return "\n".join(lines)


# --- run -----------------------------------------------------------------------------------------------
def _store_path(args, source: Optional[Path]) -> Path:
    from mldsl.engine.store import default_store_path

    if args.store:
        return Path(args.store)
    if os.environ.get("MLDSL_STORE"):
        return Path(os.environ["MLDSL_STORE"])
    return default_store_path(source)


def parse_set(assignment: str) -> tuple[str, Any]:
    """``'training.batch_size=64'`` -> ``('training.batch_size', 64)``; the value is any .mlx expression."""
    import mldsl

    path, sep, text = assignment.partition("=")
    if not sep or not path.strip():
        raise MldslError(f"--set expects PATH=VALUE, got {assignment!r} (e.g. --set training.batch_size=64)")
    module = mldsl.parse(f"let value = {text}\n", filename=f"--set {path.strip()}")
    return path.strip(), module["value"]


def cmd_run(args) -> int:
    finished: list = []  # the outcome, once the run is recorded
    try:
        return _run(args, finished)
    except KeyboardInterrupt as exc:  # also while loading the file, opening the store or printing
        return _interrupted(exc, finished)


def _run(args, finished: list) -> int:
    from mldsl.engine.runner import run_experiment
    from mldsl.engine.store import Store

    if args.rerun:
        return _rerun(args, finished)
    if not args.target:
        raise MldslError("mldsl run needs FILE[:NAME] (or --rerun ID)")
    target = load_target(args.target)
    experiment = target.value
    if args.patch:  # names resolve in the file first: its `patch` definitions, then patchers
        from mldsl.patching import patch

        experiment = patch(experiment, list(args.patch), scope=target.module)
    if args.sets:
        experiment = experiment.clone(deep=True)
        experiment.rebind(dict(parse_set(s) for s in args.sets))
    store = None if args.no_store else Store(_store_path(args, target.path))
    progress = Progress(experiment.training["num_epochs"], enabled=False if args.json else None)
    try:
        outcome = run_experiment(experiment, name=target.name, store=store, source=str(target.path),
                                 patches=list(args.patch) + [f"--set {s}" for s in args.sets],
                                 backend=args.backend, seed=args.seed, on_epoch=progress)
        finished.append(outcome)
    finally:
        if store is not None:
            store.close()
    _report(args, outcome, target.name)
    return 0


def _rerun(args, finished: list) -> int:
    import mldsl
    from mldsl.engine.runner import run_experiment
    from mldsl.engine.store import Store

    path = _store_path(args, None)
    with Store(path) as store:
        old = store.get_run(args.rerun)
        module = mldsl.parse(old.experiment_mlx, filename=f"run {old.id}")
        experiment = module[old.name] if old.name in module else next(iter(module.values()))
        progress = Progress(experiment.training["num_epochs"], enabled=False if args.json else None)
        outcome = run_experiment(experiment, name=old.name, store=store, source=old.source,
                                 patches=[f"rerun of {old.id}"], backend=args.backend or old.backend,
                                 seed=old.seed, on_epoch=progress)
        finished.append(outcome)
    _report(args, outcome, old.name)
    return 0


def _interrupted(exc: KeyboardInterrupt, finished: list) -> int:
    """Ctrl-C: says how the run is recorded (the engine's message), exit code 130."""
    from mldsl.engine.runner import RunInterrupted

    if isinstance(exc, RunInterrupted):
        message = str(exc)
    elif finished and finished[0].record is not None:
        message = f"interrupted after the run finished: run {finished[0].record.id} is recorded as completed"
    elif finished:
        message = "interrupted after the run finished; nothing was recorded (--no-store)"
    else:
        message = "interrupted before the run was recorded; nothing was stored"
    print(message, file=sys.stderr)
    return 130


def _report(args, outcome, name: str) -> None:
    result, record = outcome.result, outcome.record
    if args.json:
        payload = {
            "run_id": record.id if record else None,
            "name": name,
            "backend": result.backend,
            "seed": record.seed if record else None,
            "metrics": result.metrics,
            "history": result.history,
            "duration": record.duration if record else None,
            "artifacts": str(outcome.artifacts) if outcome.artifacts else None,
            "backend_reason": result.backend_reason,
            "warnings": result.warnings,
        }
        print(json.dumps(payload, indent=2, default=float))
        return
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(metrics_table(result.metrics))
    if record is not None:
        print(f"\nrun {record.id} ({result.backend}, {record.duration:.1f} s) recorded; artifacts in "
              f"{outcome.artifacts}")
    if result.backend_reason:
        print(f"backend: {result.backend_reason}")


# --- runs ----------------------------------------------------------------------------------------------
def cmd_runs(args) -> int:
    from mldsl.engine.store import Store

    path = Path(args.store or os.environ.get("MLDSL_STORE") or "mldsl.db")
    if not path.exists():
        raise MldslError(f"no results store at {path}; runs are recorded in mldsl.db next to the experiment's "
                         "file: pass it with --store PATH")
    with Store(path) as store:
        if args.action == "list":
            runs = store.list_runs()
            for r in runs:
                if r.damaged:
                    print(f"warning: {r.damaged}", file=sys.stderr)
            if args.json:
                print(json.dumps([r.to_dict() for r in runs], indent=2, default=float))
                return 0
            print(f"{'id':<12}  {'name':<16}  {'status':<11}  {'backend':<7}  {'seed':>4}  "
                  f"{'duration':>8}  metrics")
            for r in runs:
                metrics = ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                                    for k, v in r.metrics.items())
                duration = f"{r.duration:.1f}s" if r.duration is not None else "-"
                started = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started))
                print(f"{r.id:<12}  {r.name[:16]:<16}  {r.status:<11}  {r.backend or '-':<7}  "
                      f"{r.seed if r.seed is not None else '-':>4}  {duration:>8}  {metrics}  ({started})")
            return 0
        if not args.run_id:
            raise MldslError("mldsl runs show needs a run ID (see `mldsl runs`)")
        run = store.get_run(args.run_id)
        if args.diff:
            other = store.get_run(args.diff)
            print(_diff_runs(run, other))
            return 0
        if args.json:
            print(json.dumps(run.to_dict(), indent=2, default=float))
            return 0
        print(f"run {run.id}: {run.name} [{run.status}] backend={run.backend} seed={run.seed}")
        if run.backend_reason:
            print(f"backend chosen: {run.backend_reason}")
        if run.pid is not None:
            print(f"process: pid {run.pid} on {run.host}")
        if run.patches:
            print("patches: " + ", ".join(run.patches))
        if run.damaged:
            print(f"damaged: {run.damaged}")
        if run.error:
            print(f"error: {run.error}")
        for warning in run.warnings:
            print(f"warning: {warning}")
        print(metrics_table(run.metrics) if run.metrics else "no metrics")
        print(f"\nartifacts: {run.artifacts}\n")
        print(run.experiment_mlx)
    return 0


def _diff_runs(a, b) -> str:
    import difflib

    lines = [f"--- run {a.id} ({a.name})", f"+++ run {b.id} ({b.name})"]
    for key in sorted(set(a.metrics) | set(b.metrics)):
        left, right = a.metrics.get(key), b.metrics.get(key)
        if left != right:
            lines.append(f"metric {key}: {left} -> {right}")
    for attr in ("seed", "backend"):
        if getattr(a, attr) != getattr(b, attr):
            lines.append(f"{attr}: {getattr(a, attr)} -> {getattr(b, attr)}")
    diff = list(difflib.unified_diff(a.experiment_mlx.splitlines(), b.experiment_mlx.splitlines(),
                                     lineterm="", n=1))
    lines.extend(diff[2:] if diff else ["experiments are identical"])
    return "\n".join(lines)
