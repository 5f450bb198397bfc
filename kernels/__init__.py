"""Compiled kernels (Cython). Each kernel has a plain NumPy twin of the same name and signature
in :mod:`mldsl.backends.reference`.

Modules: ``dense``, ``activations``, ``losses``, ``regularizers``, ``dropout``, ``optimizers``,
``batching``. Every public kernel is also reachable flat from this package
(``mldsl.kernels.dense_forward``), loaded lazily on first access.

Threading: by default kernels run on the calling thread and BLAS threads itself. ``set_num_threads(n)``
makes large kernels split over an OpenMP team of n threads instead (BLAS then must be single-threaded;
see the function). Mixing the two (BLAS worker threads spinning while OpenMP threads work) made
training steps several times slower in our measurements, so do one or the other.

``MLDSL_KERNELS_PATH``: when set, compiled modules are looked up first in
``$MLDSL_KERNELS_PATH/mldsl/kernels`` (the ``--build-lib`` of a debug build, see ``.ci/kernels-debug``),
leaving the installed optimised modules untouched.
"""
from __future__ import annotations

import importlib
import os

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


def set_num_threads(n: int) -> int:
    """Lets every kernel module split large work over ``n`` OpenMP threads (1: serial, the default,
    with BLAS threading itself). With n > 1, BLAS must be limited to one thread (kernels call it from
    each thread); the native trainer does both. Returns the previous setting."""
    old = 1
    for name in MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        setter = getattr(module, "set_num_threads", None)
        if setter is not None:
            old = setter(n)
    return old


def get_num_threads() -> int:
    """The kernels' thread setting (see :func:`set_num_threads`)."""
    return importlib.import_module(f"{__name__}.dense").get_num_threads()
