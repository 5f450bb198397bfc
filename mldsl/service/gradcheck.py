"""Checking an experiment's gradients (``mldsl gradcheck``, the REPL's ``:gradcheck``, ``mldsl.gradcheck``):
the native backend lowers the experiment and compares, in float64, the analytic gradient of the training
loss (regularisers included) with central differences, parameter by parameter, on a small batch of the
training data (Dropout disabled). This module asks the backend for the check and turns its report into
the table, the lines and the JSON the front ends print.
"""
from __future__ import annotations

from typing import Any, List, Optional, Sequence

from mldsl.errors import MldslError

#: The columns of the table a front end prints.
HEADERS = ("layer", "type", "parameter", "checked", "max rel. error", "result")


def gradcheck(experiment: Any, *, batch: int = 16, samples: int = 10, seed: Optional[int] = None,
              eps: Optional[float] = None, threshold: Optional[float] = None, registry: Any = None) -> Any:
    """Checks the gradients of ``experiment`` on the native backend, in float64, against central differences.

    ``batch`` rows of the training data and ``samples`` coordinates of each parameter, drawn with the
    experiment's seed (``seed`` overrides it, and with it the initial weights); ``eps`` is the step
    (default 1e-5) and ``threshold`` the largest relative error that passes (default 1e-6). Dropout is
    disabled during the check. Returns the report (``passed``, ``worst``, ``rows``, ``to_dict()``); an
    :class:`MldslError` when ``experiment`` is not one experiment or the native backend cannot run it."""
    from mldsl.components import ExperimentBase
    from mldsl.hyper import is_deterministic

    if not isinstance(experiment, ExperimentBase):
        raise MldslError(f"gradcheck needs an experiment, got {type(experiment).__name__}")
    if not is_deterministic(experiment):
        raise MldslError("gradcheck needs one experiment, not a search space (it holds oneof, floatv, ...): "
                         "pick a point, e.g. with --set or by naming an experiment without choices")
    if seed is not None:
        experiment = experiment.clone(deep=True, override={"seed": int(seed)})
    if registry is None:
        from mldsl.registry import get_registry

        registry = get_registry()
    native = registry.backend("native")
    refused = native.unsupported(experiment) if hasattr(native, "unsupported") else []
    if refused:
        raise MldslError(f"gradcheck differentiates with the native backend, which cannot check this model: "
                         f"{'; '.join(refused)}. It checks what native runs: Dense, activations, Flatten, Dropout, "
                         "regularisers, and plugin layers with a native lowering")
    return native.gradcheck(experiment, batch=batch, samples=samples, eps=eps, threshold=threshold)


def _error(value: float) -> str:
    return f"{value:.2e}"


def rows(report: Any) -> List[List[str]]:
    """The table's rows, one per parameter (columns: :data:`HEADERS`)."""
    return [[r.layer, r.type, r.param, f"{r.checked}/{r.size}", _error(r.max_rel_error),
             "pass" if r.passed else "FAIL"] for r in report.rows]


def summary_lines(report: Any, name: str) -> List[str]:
    """What follows the table: the notes, the worst relative error and the verdict."""
    lines = [f"note: {note}" for note in report.notes]
    lines.append(f"float64, central differences with eps {report.eps:g}, on {report.batch} training examples; "
                 f"pass at relative error <= {report.threshold:g}")
    worst = report.worst
    if worst is not None:
        lines.append(f"worst relative error: {_error(worst.max_rel_error)} ({worst.layer} {worst.param}"
                     f"[{worst.worst_index}]: analytic {worst.analytic:.6g}, numerical {worst.numerical:.6g})")
    failed = [f"{r.layer} {r.param}" for r in report.rows if not r.passed]
    lines.append(f"{name}: gradients OK" if not failed else
                 f"{name}: gradients WRONG for {', '.join(failed)}")
    return lines


def report_json(report: Any, name: str) -> dict:
    """The ``--json`` payload: the experiment's name and the report."""
    return {"experiment": name, **report.to_dict()}


__all__: Sequence[str] = ("HEADERS", "gradcheck", "report_json", "rows", "summary_lines")
