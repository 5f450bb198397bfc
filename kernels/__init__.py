"""Compiled kernels (Cython). Each kernel has a plain NumPy twin of the same name and signature
in :mod:`mldsl.backends.reference`.

Modules: ``dense``, ``activations``, ``losses``, ``regularizers``, ``dropout``, ``optimizers``,
``batching``. Every public kernel is also reachable flat from this package
(``mldsl.kernels.dense_forward``), loaded lazily on first access.

The optimizer updates run on OpenMP threads. Unless ``OMP_WAIT_POLICY`` is already set, importing this
package sets it to ``PASSIVE``: OpenMP threads that spin-wait after a parallel region steal the cores
the BLAS threads need for the next GEMM, which made training steps several times slower in our
measurements (and much worse on a busy machine).

``MLDSL_KERNELS_PATH``: when set, compiled modules are looked up first in
``$MLDSL_KERNELS_PATH/mldsl/kernels`` (the ``--build-lib`` of a debug build, see ``.ci/kernels-debug``),
leaving the installed optimised modules untouched.
"""
from __future__ import annotations

import importlib
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")   # before any kernel module loads libgomp

_override = os.environ.get("MLDSL_KERNELS_PATH")
if _override:
    __path__.insert(0, os.path.join(os.path.abspath(_override), "mldsl", "kernels"))  # noqa: F821

MODULES = ("dense", "activations", "losses", "regularizers", "dropout", "optimizers", "batching")

_ACTIVATIONS = ("linear", "relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "gelu", "gelu_tanh", "swish")

# public kernel name -> module
KERNELS: dict[str, str] = {
    "dense_forward": "dense",
    "dense_backward": "dense",
    "activation_forward": "activations",
    "activation_backward": "activations",
    **{f"{a}_{d}": "activations" for a in _ACTIVATIONS for d in ("forward", "backward")},
    "softmax_cross_entropy": "losses",
    "mse": "losses",
    "count_correct": "losses",
    "l2_penalty": "regularizers",
    "l2_grad": "regularizers",
    "dropout_forward": "dropout",
    "dropout_backward": "dropout",
    "sgd_update": "optimizers",
    "momentum_update": "optimizers",
    "nesterov_update": "optimizers",
    "adam_update": "optimizers",
    "rmsprop_update": "optimizers",
    "adagrad_update": "optimizers",
    "gather_rows": "batching",
}

__all__ = sorted(KERNELS)


def __getattr__(name: str):
    module = KERNELS.get(name)
    if module is None:
        raise AttributeError(f"module 'mldsl.kernels' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
