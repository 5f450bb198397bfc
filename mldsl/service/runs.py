"""Running one experiment, and the run records as the front ends show them.

:func:`run` opens the store (:mod:`mldsl.service.stores`), calls the engine's
:func:`~mldsl.engine.runner.run_experiment` and closes it; :func:`load_rerun` reads a recorded run back
as an experiment. The rest turns records into what ``mldsl run``, ``mldsl runs`` and the REPL's ``:run``
print: rows of tables, lines, the ``--json`` payload and the message after Ctrl-C.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence

from mldsl.backends.base import PER_CLASS_KEY
from mldsl.errors import MldslError
from mldsl.service.output import metric_text


def require_experiment(name: str, value: Any, defined: Sequence[str] = ()) -> None:
    """An :class:`MldslError` unless ``value`` is an experiment (an ``mldsl.components.ExperimentBase``)."""
    from mldsl.components import ExperimentBase

    if not isinstance(value, ExperimentBase):
        hint = f" (experiments: {', '.join(defined)})" if defined else ""
        raise MldslError(f"{name} is not an experiment; a run needs one{hint}")


def run(experiment: Any, *, name: str, store: Optional[Path], source: Optional[str] = None,
        patches: Sequence[str] = (), backend: Optional[str] = None, seed: Optional[int] = None,
        on_epoch: Optional[Callable[[int, dict], None]] = None, done: Optional[list] = None):
    """Trains and evaluates ``experiment``, recording the run in the store at ``store`` (None: not
    recorded). Returns the engine's ``RunOutcome``, also appended to ``done`` when given, so that a caller
    interrupted after the run finished can still say how it ended (:func:`interrupted_message`)."""
    from mldsl.engine.runner import run_experiment
    from mldsl.engine.store import Store

    opened = Store(store) if store is not None else None
    try:
        outcome = run_experiment(experiment, name=name, store=opened, source=source, patches=list(patches),
                                 backend=backend, seed=seed, on_epoch=on_epoch)
    finally:
        if opened is not None:
            opened.close()
    if done is not None:
        done.append(outcome)
    return outcome


@dataclass
class Rerun:
    """A recorded run read back: what :func:`run` needs to run it again exactly as it was."""

    name: str
    experiment: Any
    source: Optional[str]
    backend: Optional[str]
    seed: Optional[int]
    patches: List[str]


def epoch_progress(output: Any, experiment: Any, *, plain_lines: bool = False) -> Any:
    """The progress display of a run of ``experiment`` on ``output`` (an :class:`~mldsl.service.output.Output`):
    over ``training.num_epochs`` epochs, a line every ``training.report_every`` epochs."""
    training = experiment.training
    return output.epoch_progress(training["num_epochs"], every=training.get("report_every", 1),
                                 plain_lines=plain_lines)


def load_rerun(store: Path, run_id: str) -> Rerun:
    """The experiment, seed and backend recorded for ``run_id`` in the store at ``store``."""
    from mldsl.dsl.api import parse
    from mldsl.service.stores import open_store

    with open_store(store, create=False) as opened:
        old = opened.get_run(run_id)
    module = parse(old.experiment_mlx, filename=f"run {old.id}")
    experiment = module[old.name] if old.name in module else next(iter(module.values()))
    return Rerun(name=old.name, experiment=experiment, source=old.source, backend=old.backend, seed=old.seed,
                 patches=[f"rerun of {old.id}"])


def interrupted_message(exc: KeyboardInterrupt, done: Sequence[Any]) -> str:
    """What Ctrl-C left behind: the engine's message once the run was recorded, else what ``done``
    (the outcome of :func:`run`, if it returned) says."""
    from mldsl.engine.runner import RunInterrupted

    if isinstance(exc, RunInterrupted):
        return str(exc)
    if done and done[0].record is not None:
        return f"interrupted after the run finished: run {done[0].record.id} is recorded as completed"
    if done:
        return "interrupted after the run finished; nothing was recorded"
    return "interrupted before the run was recorded; nothing was stored"


# ------------------------------------------------------------------------------------------ reports
def run_json(outcome: Any, name: str) -> dict:
    """The ``mldsl run --json`` record of a finished run."""
    result, record = outcome.result, outcome.record
    return {
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


#: The headers of a metrics table (:func:`metric_rows`).
METRIC_HEADERS = ("metric", "value")


def metric_rows(metrics: dict) -> List[List[str]]:
    """The rows of a table of final metrics (the numbers; the per-class evaluation has its own table)."""
    return [[key, metric_text(value)] for key, value in metrics.items() if key != PER_CLASS_KEY]


#: The headers of the per-class table (:func:`per_class_rows`): the class, its test examples, how many
#: of them the model classified right, that fraction, and the class it mistook them for most often.
PER_CLASS_HEADERS = ("class", "examples", "correct", "accuracy", "most confused with")


def per_class_rows(metrics: dict) -> List[List[str]]:
    """The rows of the per-class table of a run's metrics (none without ``evaluation.per_class``)."""
    per_class = metrics.get(PER_CLASS_KEY)
    if not isinstance(per_class, dict):
        return []
    rows = []
    classes = per_class.get("classes", [])
    for i, (cls, accuracy, row) in enumerate(zip(classes, per_class.get("accuracy", []),
                                                  per_class.get("confusion", []))):
        wrong = [(count, j) for j, count in enumerate(row) if j != i and count]
        most = max(wrong)[1] if wrong else None
        confused = f"{classes[most] if most < len(classes) else most} ({max(wrong)[0]})" if wrong else "-"
        rows.append([str(cls), str(sum(row)), str(row[i] if i < len(row) else 0), metric_text(accuracy), confused])
    return rows


def outcome_lines(outcome: Any, store: Optional[Path], elapsed: Optional[float] = None) -> List[str]:
    """What follows the metrics of a finished run: where it is recorded, and why that backend ran it."""
    result, record = outcome.result, outcome.record
    seconds = record.duration if record is not None and elapsed is None else elapsed
    took = f", {seconds:.1f} s" if seconds is not None else ""
    if record is not None:
        lines = [f"run {record.id} ({result.backend}{took}) recorded in {store}; artifacts in {outcome.artifacts}"]
    else:
        lines = [f"run not recorded ({result.backend}{took})"]
    if result.backend_reason:
        lines.append(f"backend: {result.backend_reason}")
    return lines


#: The headers of the ``mldsl runs`` table (:func:`run_rows`).
RUN_HEADERS = ("id", "name", "status", "backend", "seed", "duration", "metrics", "started")


def run_rows(runs: Sequence[Any]) -> List[List[str]]:
    """The rows of the ``mldsl runs`` table."""
    rows = []
    for r in runs:
        metrics = ", ".join(f"{k}={metric_text(v)}" for k, v in r.metrics.items() if k != PER_CLASS_KEY)
        rows.append([r.id, r.name, r.status, r.backend or "-", "-" if r.seed is None else str(r.seed),
                     f"{r.duration:.1f}s" if r.duration is not None else "-", metrics or "-",
                     time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started))])
    return rows


def run_header_lines(run: Any) -> List[str]:
    """``mldsl runs show ID``: the lines before the metrics table."""
    lines = [f"run {run.id}: {run.name} [{run.status}] backend={run.backend} seed={run.seed}"]
    if run.backend_reason:
        lines.append(f"backend chosen: {run.backend_reason}")
    if run.pid is not None:
        lines.append(f"process: pid {run.pid} on {run.host}")
    if run.patches:
        lines.append("patches: " + ", ".join(run.patches))
    if run.damaged:
        lines.append(f"damaged: {run.damaged}")
    if run.error:
        lines.append(f"error: {run.error}")
    lines += [f"warning: {warning}" for warning in run.warnings]
    return lines


def diff_runs(a: Any, b: Any) -> str:
    """Where run ``b`` differs from run ``a``: metrics, seed, backend, then the experiments as a diff."""
    import difflib

    lines = [f"--- run {a.id} ({a.name})", f"+++ run {b.id} ({b.name})"]
    for key in sorted(set(a.metrics) | set(b.metrics)):
        left, right = a.metrics.get(key), b.metrics.get(key)
        if key == PER_CLASS_KEY:
            left, right = ((value or {}).get("accuracy") for value in (left, right))
            key = f"{PER_CLASS_KEY} accuracy"
        if left != right:
            lines.append(f"metric {key}: {left} -> {right}")
    for attr in ("seed", "backend"):
        if getattr(a, attr) != getattr(b, attr):
            lines.append(f"{attr}: {getattr(a, attr)} -> {getattr(b, attr)}")
    diff = list(difflib.unified_diff(a.experiment_mlx.splitlines(), b.experiment_mlx.splitlines(),
                                     lineterm="", n=1))
    lines.extend(diff[2:] if diff else ["experiments are identical"])
    return "\n".join(lines)
