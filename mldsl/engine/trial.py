"""One search trial, as a worker runs it: evaluate a concrete experiment, report the objective per
epoch, apply the early-stopping rule, and turn whatever happens into a :class:`TrialResult`.

This module is what executors ship to other processes (a process pool, Ray workers), so it is small,
imports nothing heavy at import time, and everything in a :class:`TrialTask` is picklable.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

#: ``evaluate(experiment, report) -> metrics``: trains/evaluates ``experiment`` and returns a dict of
#: metrics holding the objective. ``report(epoch, logs)`` (1-based epoch, a dict of that epoch's metrics)
#: returns ``False`` when the trial should stop (early stopping or a NaN loss); call it once per epoch.
Evaluate = Callable[[Any, Callable[[int, dict], bool]], dict]


class TrialStopped(Exception):
    """Raised by ``report`` when an evaluate function keeps going after being told to stop."""


@dataclass
class TrialTask:
    """Everything a worker needs to run one trial (picklable)."""

    number: int
    attempt: int
    experiment: Any                    # the concrete experiment, or its encoded form (see ``encoding``)
    objective: str
    direction: str
    evaluate: Optional[Evaluate] = None  # None: run on the experiment's backend
    encoding: str = "raw"              # "raw" or "json" (a symbolic object sent as JSON)
    rule: Any = None                   # an EarlyStoppingRule or None
    reference: Sequence[Sequence[Optional[float]]] = ()
    history_store: Optional[str] = None  # a worker writes per-epoch history there (local pool only)
    study_id: Optional[int] = None


@dataclass
class TrialResult:
    """How a trial ended, as the worker saw it."""

    number: int
    status: str                        # completed | failed | stopped
    reward: Optional[float] = None     # the objective (raw, not sign-adjusted)
    metrics: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    error: Optional[str] = None
    seconds: float = 0.0


def epoch_value(logs: dict, objective: str) -> Optional[float]:
    """The objective in one epoch's logs: ``val_<objective>`` when there is a validation split, else
    ``<objective>``; None when neither is there."""
    for key in (f"val_{objective}", objective):
        if key in logs and logs[key] is not None:
            try:
                return float(logs[key])
            except (TypeError, ValueError):
                return None
    return None


def curve_of(history: Sequence[dict], objective: str) -> list:
    """The objective per epoch (index 0 = epoch 1) from a stored history."""
    out: list = []
    for i, row in enumerate(history):
        epoch = int(row.get("epoch", i + 1)) if isinstance(row, dict) else i + 1
        while len(out) < epoch:
            out.append(None)
        value = epoch_value(row, objective) if isinstance(row, dict) else None
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        out[epoch - 1] = value
    return out


def _is_nan(value: Any) -> bool:
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return isinstance(value, str) and value.lower() == "nan"


def decode_experiment(task: TrialTask) -> Any:
    if task.encoding == "json":
        from mldsl import symbolic as sym
        from mldsl.registry import get_registry

        return sym.from_json(task.experiment, resolver=get_registry().json_resolver)
    return task.experiment


def backend_evaluate(experiment: Any, report: Callable[[int, dict], bool]) -> dict:
    """The default ``evaluate``: trains ``experiment`` on its backend (``auto`` picks) and returns its
    test metrics; ``report`` is the backend's ``on_epoch`` so early stopping stops training."""
    from mldsl.backends.base import choose_backend
    from mldsl.registry import get_registry

    backend, _reason = choose_backend(getattr(experiment, "backend", "auto") or "auto", experiment, get_registry())
    result = backend.run(experiment, on_epoch=report)
    return dict(result.metrics)


_history_stores: dict = {}


def _history_writer(task: TrialTask) -> Optional[Callable[[list], None]]:
    if not task.history_store or task.study_id is None:
        return None
    from mldsl.engine.records import StudyRecord
    from mldsl.engine.store import Store

    store = _history_stores.get(task.history_store)
    if store is None:
        store = _history_stores[task.history_store] = Store(task.history_store)
    study = StudyRecord(id=task.study_id, name="", space="", algorithm={}, objective=task.objective,
                        direction=task.direction, seed=None, created=0.0)
    return lambda history: store.update_trial_history(study, task.number, history, attempt=task.attempt)


def run_trial(task: TrialTask, on_history: Optional[Callable[[list], None]] = None) -> TrialResult:
    """Runs one trial and never raises for the trial's own failures: an exception, a NaN loss or a
    missing/NaN objective gives a ``failed`` result with the reason; an early stop gives ``stopped``.

    ``on_history(history)`` is called after every epoch (the in-process executor saves it to the store);
    without it, a task with ``history_store`` writes there itself.
    """
    started = time.perf_counter()
    history: list = []
    state = {"stop": None, "nan": None}
    if on_history is None:
        try:
            on_history = _history_writer(task)
        except Exception:  # per-epoch history is a convenience; the final record carries it anyway
            on_history = None

    def report(epoch: int, logs: dict) -> bool:
        if state["stop"] or state["nan"]:
            raise TrialStopped(state["stop"] or state["nan"])
        row = {"epoch": int(epoch), **{k: (v.item() if hasattr(v, "item") else v) for k, v in logs.items()
                                        if k != "epoch"}}
        history.append(row)
        if on_history is not None:
            try:
                on_history(history)
            except Exception:
                pass
        if "loss" in row and _is_nan(row["loss"]):
            state["nan"] = f"NaN loss at epoch {epoch}"
            return False
        value = epoch_value(row, task.objective)
        if value is not None and not math.isfinite(value):
            state["nan"] = f"objective {task.objective!r} is {value} at epoch {epoch}"
            return False
        if task.rule is not None and value is not None:
            reason = task.rule.should_stop(int(epoch), value, task.reference, task.direction)
            if reason:
                state["stop"] = reason
                return False
        return True

    def done(status, reward=None, metrics=None, error=None) -> TrialResult:
        return TrialResult(number=task.number, status=status, reward=reward, metrics=dict(metrics or {}),
                           history=history, error=error, seconds=time.perf_counter() - started)

    metrics: dict = {}
    try:
        experiment = decode_experiment(task)
        evaluate = task.evaluate or backend_evaluate
        metrics = evaluate(experiment, report)
    except TrialStopped:
        pass
    except Exception as exc:  # the trial's own failure: recorded, the search goes on
        if state["nan"]:
            return done("failed", error=state["nan"])
        return done("failed", error=f"{type(exc).__name__}: {exc}".strip())
    if state["nan"]:
        return done("failed", metrics=metrics if isinstance(metrics, dict) else {}, error=state["nan"])
    if state["stop"]:
        last = None
        for row in reversed(history):
            last = epoch_value(row, task.objective)
            if last is not None:
                break
        return done("stopped", reward=last, metrics=metrics if isinstance(metrics, dict) else {},
                    error=state["stop"])
    if not isinstance(metrics, dict):
        if isinstance(metrics, (int, float)):
            metrics = {task.objective: float(metrics)}
        else:
            return done("failed", error=f"evaluate returned {type(metrics).__name__}, expected a dict of metrics")
    metrics = {k: (v.item() if hasattr(v, "item") else v) for k, v in metrics.items()}
    if "loss" in metrics and _is_nan(metrics["loss"]):
        return done("failed", metrics=metrics, error="NaN loss")
    if task.objective not in metrics:
        return done("failed", metrics=metrics,
                    error=f"objective {task.objective!r} not in the metrics ({', '.join(sorted(metrics)) or 'none'})")
    try:
        reward = float(metrics[task.objective])
    except (TypeError, ValueError):
        return done("failed", metrics=metrics, error=f"objective {task.objective!r} is not a number: "
                                                      f"{metrics[task.objective]!r}")
    if not math.isfinite(reward):
        return done("failed", metrics=metrics, error=f"objective {task.objective!r} is {reward} (a NaN or infinite reward)")
    return done("completed", reward=reward, metrics=metrics)
