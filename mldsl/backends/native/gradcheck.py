"""Checking a plan's gradients: the trainer's analytic gradient of the training loss (regularisers
included) against float64 central differences, parameter by parameter (``mldsl gradcheck``).

The plan is rebuilt in float64 with its Dropout layers removed (a dropout mask drawn anew on every
forward pass would make the loss a different function at each evaluation); every other layer, the
plugins' NumPy layers included, runs as it trains. For a sample of coordinates ``k`` of each parameter
``p``, the numerical derivative is ``(L(p + eps e_k) - L(p - eps e_k)) / (2 eps)`` and the relative error
``|analytic - numerical| / max(|analytic|, |numerical|, FLOOR)``. The floor (1e-3) is there because the
numerical derivative carries rounding noise of about ``1e-16 * loss / eps``, some 1e-11 to 1e-10: divided
by a tiny gradient (a nearly dead unit, a pixel almost always 0) it would look like a large relative
error. So a gradient under 1e-3 is judged by its absolute error, which must stay under
``THRESHOLD * FLOOR`` = 1e-9 (ten times the noise, and far below what a wrong term gives).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional

import numpy as np

from mldsl.backends.native.layers import DenseLayer, NumpyLayer
from mldsl.backends.native.plan import DropoutSpec, Plan
from mldsl.errors import BackendError

#: The relative error above which a parameter fails the check (float64, central differences, eps 1e-5:
#: correct gradients stay near 1e-8 and below; a wrong term in a backward pass gives 1e-2 and more).
THRESHOLD = 1e-6
#: The finite-difference step.
EPS = 1e-5
#: The smallest denominator of a relative error (see the module's docstring).
FLOOR = 1e-3

DROPOUT_NOTE = "Dropout layers are disabled during the check (their random masks would change the loss)"


@dataclass
class ParamCheck:
    """One parameter's result: the layer's path and type, the parameter, how many coordinates were
    compared, the largest relative error among them and where it was."""

    layer: str
    type: str
    param: str
    size: int
    checked: int
    max_rel_error: float
    worst_index: int
    analytic: float
    numerical: float
    passed: bool

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class GradcheckReport:
    """The check of every parameter of a model (:func:`gradcheck`); ``passed`` when each is at or below
    ``threshold``."""

    rows: List[ParamCheck]
    threshold: float
    eps: float
    batch: int
    samples: int
    seed: int
    loss: float
    notes: List[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    @property
    def worst(self) -> Optional[ParamCheck]:
        """The parameter with the largest relative error (None for a model without parameters)."""
        return max(self.rows, key=lambda r: r.max_rel_error, default=None)

    def to_dict(self) -> dict:
        worst = self.worst
        return {"passed": self.passed, "threshold": self.threshold, "eps": self.eps, "batch": self.batch,
                "samples": self.samples, "seed": self.seed, "loss": self.loss, "dtype": "float64",
                "worst": None if worst is None else worst.to_dict(), "notes": list(self.notes),
                "params": [r.to_dict() for r in self.rows]}


def checked_plan(plan: Plan, batch: int) -> Plan:
    """``plan`` as the check runs it: float64, Dropout removed, one batch of ``batch`` rows."""
    layers = [s for s in plan.layers if not isinstance(s, DropoutSpec)]
    return replace(plan, layers=layers, dtype="float64", batch_size=batch, eval_batch_size=batch, epochs=1,
                   early_stopping=None, validation_split=0.0)


def _layer_name(layer: Any) -> tuple:
    spec = layer.spec
    path = spec.path or f"layers[{layer.index}]"
    if isinstance(layer, DenseLayer):
        return path, "Dense"
    return path, spec.name + (f" (plugin {spec.plugin})" if spec.plugin else "")


def gradcheck(plan: Plan, x: Any, y: Any, *, samples: int = 10, eps: float = EPS, threshold: float = THRESHOLD,
              seed: int = 0, kernels: Any = "cython") -> GradcheckReport:
    """Compares the gradient of ``plan``'s training loss on the batch ``x``/``y`` with central differences.

    ``samples``: coordinates compared per parameter (all of them when it has fewer), drawn with ``seed``;
    the weights are the plan's initial ones. Raises BackendError for bad settings, and the trainer's errors
    (a plugin layer's wrong shapes or NaN, naming the layer and the plugin)."""
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        raise BackendError(f"samples must be an integer >= 1, got {samples!r}")
    if not eps > 0:
        raise BackendError(f"eps must be > 0, got {eps!r}")
    if not threshold > 0:
        raise BackendError(f"threshold must be > 0, got {threshold!r}")
    x = np.asarray(x)
    from mldsl.backends.native.trainer import MLPTrainer  # noqa: PLC0415 - the trainer imports the kernels

    notes = [DROPOUT_NOTE] if any(isinstance(s, DropoutSpec) and s.rate > 0 for s in plan.layers) else []
    trainer = MLPTrainer(checked_plan(plan, len(x)), x.shape[1:], kernels=kernels)
    loss, analytic = trainer.gradients(x, y)
    params = trainer.params
    rng = np.random.default_rng(seed)
    rows: List[ParamCheck] = []
    for layer in trainer.weighted_layers:
        path, kind = _layer_name(layer)
        for name, (lo, hi) in layer.param_slices().items():
            size = hi - lo
            picked = np.sort(rng.choice(size, size=min(samples, size), replace=False)) + lo
            worst: Dict[str, Any] = {"err": -1.0}
            for k in picked:
                old = params[k]
                params[k] = old + eps
                plus = trainer.training_loss(x, y)
                params[k] = old - eps
                minus = trainer.training_loss(x, y)
                params[k] = old
                num = (plus - minus) / (2 * eps)
                ana = float(analytic[k])
                err = abs(ana - num) / max(abs(ana), abs(num), FLOOR)
                if not np.isfinite(err):
                    err = float("inf")
                if err > worst["err"]:
                    worst = {"err": err, "k": int(k - lo), "ana": ana, "num": float(num)}
            rows.append(ParamCheck(path, kind, name, size, len(picked), worst["err"], worst["k"], worst["ana"],
                                   worst["num"], worst["err"] <= threshold))
    return GradcheckReport(rows, threshold, eps, len(x), samples, seed, float(loss), notes)


__all__ = ["DROPOUT_NOTE", "EPS", "FLOOR", "GradcheckReport", "ParamCheck", "THRESHOLD", "checked_plan", "gradcheck"]
