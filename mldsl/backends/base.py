"""The backend protocol: what the engine asks of a backend, and how ``backend="auto"`` picks one.

A backend *lowers* a backend-neutral symbolic experiment to something it can execute (our Cython
kernels, Keras layers, ...) and trains and evaluates it. Backends are contributed by plugins through the
``mldsl_backends`` hook, so the engine never imports one by name; this module imports no backend.
"""
from __future__ import annotations

import glob
import importlib.util
import os
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Protocol, Tuple, runtime_checkable

from mldsl.errors import BackendError

#: ``on_epoch(epoch, logs)``: called after each epoch with 1-based ``epoch`` and that epoch's logs
#: (``loss``, the metric, ``val_*``, ``seconds``). Returning ``False`` asks the backend to stop early.
EpochCallback = Callable[[int, dict], Optional[bool]]


@dataclass
class RunResult:
    """What every backend returns, so the engine, the store and the CLI treat all backends alike.

    ``metrics`` holds the evaluation on the test split (``loss`` and the metric's name, e.g.
    ``accuracy``); ``history`` one dict per epoch (``epoch``, ``loss``, the metric, ``val_*`` when there
    is a validation split, ``seconds``). ``backend_reason`` says why that backend ran it (see
    :func:`choose_backend`); ``warnings`` are sentences a person should read about the run (training that
    diverged without a NaN, an option the backend ignored as Keras does).
    """

    metrics: dict
    history: list = field(default_factory=list)
    backend: str = ""
    stopped_early: bool = False
    model: Any = None  # the backend's trained model (for saving); not serialised
    backend_reason: str = ""
    warnings: List[str] = field(default_factory=list)


@runtime_checkable
class Backend(Protocol):
    """A way to train an experiment. Implementations are registered through ``mldsl_backends``."""

    #: The name users write: ``backend = "native"``, ``--backend keras``.
    name: str

    def available(self) -> Optional[str]:
        """None when the backend can run here, else a sentence saying what is missing and how to get it."""

    def run(self, experiment: Any, *, on_epoch: Optional[EpochCallback] = None) -> RunResult:
        """Trains ``experiment`` (a concrete symbolic Experiment) and evaluates it on its test split."""


def gpu_visible() -> bool:
    """Whether an NVIDIA GPU is visible to this process, checked without importing TensorFlow."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return False
    return bool(glob.glob("/dev/nvidia[0-9]*"))


def tensorflow_installed() -> bool:
    """Whether TensorFlow can be imported (checked without importing it)."""
    return importlib.util.find_spec("tensorflow") is not None


def auto_backend_name() -> str:
    """``keras`` when TensorFlow is installed and a GPU is visible, ``native`` otherwise."""
    return "keras" if tensorflow_installed() and gpu_visible() else "native"


def resolve_backend(name: str, registry: Any) -> Backend:
    """The backend called ``name`` (``auto`` picks, see :func:`auto_backend_name`), ready to run.

    Raises :class:`BackendError` naming the backend and what is missing (e.g. the ``mldsl[keras]`` extra).
    """
    chosen = auto_backend_name() if name == "auto" else name
    backend = registry.backend(chosen)
    problem = backend.available()
    if problem:
        raise BackendError(f"backend {chosen!r} cannot run here: {problem}")
    return backend
