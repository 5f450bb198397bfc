"""The native backend: MLP training on mldsl's compiled CPU kernels (or their NumPy twins).

* :class:`Plan` and the layer specs (:class:`DenseSpec`, :class:`DropoutSpec`, :class:`FlattenSpec`,
  :class:`ActivationSpec`; :class:`NumpyLayerSpec` for a plugin's own NumPy math), :class:`OptimizerSpec`,
  :class:`LossSpec`, :class:`MetricSpec`, :class:`RegularizerSpec`, :class:`EarlyStoppingSpec`: what to train
  (what native lowerings return, see ``mldsl_lowerings``).
* :class:`NativeUnsupported`: the error for what the native backend cannot run as Keras would.
* :class:`MLPTrainer` / :func:`train`: preallocated, seeded, Keras-semantics training and evaluation.
* :mod:`.gradcheck` (:class:`GradcheckReport`): a plan's gradients against float64 central differences.
* :class:`NativeBackend` (``name = "native"``): runs symbolic experiments built from the standard
  components by lowering them to a :class:`Plan`.
"""
from __future__ import annotations

from mldsl._lazy import lazy_exports

_EXPORTS = {
    "Plan": "mldsl.backends.native.plan",
    "DenseSpec": "mldsl.backends.native.plan",
    "DropoutSpec": "mldsl.backends.native.plan",
    "FlattenSpec": "mldsl.backends.native.plan",
    "ActivationSpec": "mldsl.backends.native.plan",
    "OptimizerSpec": "mldsl.backends.native.plan",
    "LossSpec": "mldsl.backends.native.plan",
    "MetricSpec": "mldsl.backends.native.plan",
    "NumpyLayerSpec": "mldsl.backends.native.plan",
    "RegularizerSpec": "mldsl.backends.native.plan",
    "NativeUnsupported": "mldsl.backends.native.plan",
    "EarlyStoppingSpec": "mldsl.backends.native.plan",
    "MLPTrainer": "mldsl.backends.native.trainer",
    "train": "mldsl.backends.native.trainer",
    "load_kernels": "mldsl.backends.native.trainer",
    "NativeBackend": "mldsl.backends.native.backend",
    "GradcheckReport": "mldsl.backends.native.gradcheck",
    "lower_experiment": "mldsl.backends.native.lowering",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports("mldsl.backends.native", _EXPORTS, globals())
