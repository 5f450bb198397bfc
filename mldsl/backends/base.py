"""The backend protocol: what the engine asks of a backend, and how ``backend="auto"`` picks one.

A backend *lowers* a backend-neutral symbolic experiment to something it can execute (our Cython
kernels, Keras layers, ...) and trains and evaluates it. Backends are contributed by plugins through the
``mldsl_backends`` hook, so the engine never imports one by name; this module imports no backend.
"""
from __future__ import annotations

import glob
import importlib.util
import inspect
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Protocol, Sequence, Tuple, runtime_checkable

from mldsl.errors import BackendError, suggestion_text

#: ``on_epoch(epoch, logs)``: called after each epoch with 1-based ``epoch`` and that epoch's logs
#: (``loss``, the metric, ``val_*``, ``seconds``). Returning ``False`` asks the backend to stop early.
EpochCallback = Callable[[int, dict], Optional[bool]]

#: Environment variables that bound how many threads a backend trains on, first found wins. A search gives
#: each worker process its share of the cores this way (Ray sets ``OMP_NUM_THREADS`` to a task's CPUs; the
#: local pool sets ``MLDSL_NUM_THREADS``).
THREADS_ENV = ("MLDSL_NUM_THREADS", "OMP_NUM_THREADS")


def requested_threads(environ=os.environ) -> Optional[int]:
    """The thread count :data:`THREADS_ENV` asks for (a positive integer), or None when none does."""
    for var in THREADS_ENV:
        value = environ.get(var, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def affinity_cpus() -> int:
    """The CPUs this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


#: The key of :attr:`RunResult.metrics` holding the per-class evaluation of the test split, when the
#: experiment asks for it (``evaluation.per_class``): ``{"classes", "accuracy", "confusion"}``, computed by
#: :func:`mldsl.data.per_class.per_class_metrics` from the predictions of whichever backend ran it.
PER_CLASS_KEY = "per_class"


@dataclass
class RunResult:
    """What every backend returns, so the engine, the store and the CLI treat all backends alike.

    ``metrics`` holds the evaluation on the test split (``loss`` and the metric's name, e.g.
    ``accuracy``, numbers; and :data:`PER_CLASS_KEY` when asked for); ``history`` one dict per epoch (``epoch``, ``loss``, the metric, ``val_*`` when there
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

    # Optional: ``unsupported(experiment) -> list[str]``, one sentence per component (with its path) the
    # backend cannot run, computed without importing a framework; ``backend="auto"`` asks it of ``native``.


def takes_context(fn: Callable) -> bool:
    """Whether a lowering takes ``(component, ctx)``: every backend's lowering context passes itself to
    such a lowering; a plugin may also give ``fn(component)``."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)


def gpu_visible() -> bool:
    """Whether an NVIDIA GPU is visible to this process, checked without importing TensorFlow."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return False
    return bool(glob.glob("/dev/nvidia[0-9]*"))


def tensorflow_installed() -> bool:
    """Whether TensorFlow can be imported (checked without importing it)."""
    return importlib.util.find_spec("tensorflow") is not None


#: Component kinds a backend lowers (datasets are loaded, experiments are read field by field).
LOWERED_KINDS = ("model", "layer", "activation", "optimizer", "loss", "metric", "regularizer", "callback")

#: The extra that installs the Keras backend, named by errors that need it.
KERAS_EXTRA = 'pip install "mldsl[keras]"'


def type_name_of(component: Any) -> str:
    """The DSL name of a component (its class's ``type_name``, else the class name)."""
    cls = type(component)
    return str(getattr(cls, "type_name", None) or cls.__name__)


def path_of(component: Any) -> str:
    """The symbolic path of a component (``model.layers[1]``), or ``""`` when it has none."""
    return str(getattr(component, "sym_path", None) or "")


def missing_lowerings(value: Any, backend: str, registry: Any) -> List[Tuple[str, str]]:
    """``[(path, component name), ...]`` for every component inside ``value`` (an experiment or a search
    space: the candidates of ``oneof``/``manyof`` included) that ``registry`` has no lowering for on
    ``backend``; paths as the symbolic tree gives them (``model.layers[1].candidates[0]``)."""
    found: List[Tuple[str, str]] = []
    seen: set = set()

    def walk(node: Any) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, (list, tuple)):
            for item in node:
                walk(item)
            return
        if isinstance(node, dict):
            for item in node.values():
                walk(item)
            return
        args = getattr(node, "sym_init_args", None)
        if args is None:
            return
        if getattr(type(node), "kind", None) in LOWERED_KINDS and registry.lowering(backend, type(node)) is None:
            found.append((str(getattr(node, "sym_path", "") or ""), type_name_of(node)))
        for item in dict(args).values():
            walk(item)

    walk(value)
    return found


def uses_images(component: Any) -> bool:
    """Whether a symbolic model contains an image layer (a component whose name ends with ``2D``): the
    Keras backend then gives images shaped (height, width) a channel axis, (height, width, 1)."""
    seen = set()

    def walk(value: Any) -> bool:
        if id(value) in seen:
            return False
        seen.add(id(value))
        if isinstance(value, (list, tuple)):
            return any(walk(v) for v in value)
        if isinstance(value, dict):
            return any(walk(v) for v in value.values())
        args = getattr(value, "sym_init_args", None)
        if args is None:
            return False
        if type_name_of(value).endswith("2D"):
            return True
        return any(walk(v) for v in dict(args).values())

    return walk(component)


def unsupported_reasons(value: Any, backend: str, registry: Any) -> List[str]:
    """One sentence per component of ``value`` that ``backend`` cannot run (see :func:`missing_lowerings`)."""
    return [f"{backend} cannot run {name}" + (f" at {path}" if path else "")
            for path, name in missing_lowerings(value, backend, registry)]


def backend_notes(value: Any, registry: Any, concrete: bool) -> Tuple[List[str], bool]:
    """What ``mldsl check`` and ``mldsl search`` say, before anything runs, about the backend of ``value``
    (an experiment, or a search space when not ``concrete``): ``(sentences, errors)``.

    With an explicit ``backend`` (``"native"``), each component it cannot run is an error (the experiment or
    the trials choosing it would fail). With ``auto``, each component native cannot run is a note saying that
    it (or the trials choosing it) will run on keras, or will fail when TensorFlow is not installed; nothing
    when a GPU makes auto pick keras anyway. For a concrete experiment native's full check is used
    (``unsupported``: components, and the model's meaning; a setting wrong on any backend is an error);
    for a space, the components of every choice.
    """
    name = getattr(value, "backend", "auto")
    name = name if isinstance(name, str) else "auto"          # a choice among backends: decided per trial
    if name != "auto":
        try:
            backend = registry.backend(name)
        except Exception as exc:  # noqa: BLE001 - an unknown backend (a RegistryError) is reported as is
            return [str(exc)], True
        check = getattr(backend, "unsupported", None)
        try:
            reasons = check(value) if concrete and check is not None else unsupported_reasons(value, name, registry)
        except BackendError as exc:                            # a setting wrong on any backend
            return [str(exc)], True
        return [f"backend {name}: {r}" for r in reasons], True
    tf = tensorflow_installed()
    if tf and gpu_visible():
        return [], False
    try:
        native = registry.backend("native")
    except Exception:  # noqa: BLE001 - no native backend: auto always means keras
        return [], False
    runs = "will run on keras" if tf else f"will fail: TensorFlow is not installed ({KERAS_EXTRA})"
    if concrete:
        try:
            reasons = native.unsupported(value)
        except BackendError as exc:                            # a setting wrong on any backend
            return [str(exc)], True
        return ([f"backend auto: this experiment {runs}, because {'; '.join(reasons)}"] if reasons else []), False
    notes = []
    for path, name in missing_lowerings(value, "native", registry):
        if ".candidates[" in path:
            notes.append(f"backend auto: the trials that choose {name} (at {path}) {runs}; native cannot run it")
        else:
            notes.append(f"backend auto: every trial {runs}; native cannot run {name} (at {path})")
    return notes, False


def choose_backend(name: str, experiment: Any, registry: Any) -> Tuple[Backend, str]:
    """The backend that runs ``experiment`` and why, as a sentence for the run record.

    ``name`` is the experiment's ``backend`` field (or ``--backend``). An explicit name is taken as is.
    ``auto`` (the documented rule): keras when TensorFlow is installed and a GPU is visible; otherwise
    native when it can run every component of the experiment (asked with its ``unsupported`` method,
    which imports no framework); otherwise keras when TensorFlow is installed; otherwise a
    :class:`BackendError` naming what native cannot run and the ``mldsl[keras]`` extra.
    """
    if name != "auto":
        return _ready(name, registry), f"{name} (requested)"
    tf = tensorflow_installed()
    if tf and gpu_visible():
        return _ready("keras", registry), "auto: keras (a GPU is visible and TensorFlow is installed)"
    problems = _native_problems(experiment, registry)
    if not problems:
        return _ready("native", registry), "auto: native (no GPU visible; native runs every component)"
    why = "; ".join(problems)
    if tf:
        return _ready("keras", registry), f"auto: keras (no GPU visible, but {why})"
    raise BackendError(f"backend auto cannot run this experiment: {why}; the keras backend would run it, "
                       f"install it with `{KERAS_EXTRA}`")


def _native_problems(experiment: Any, registry: Any) -> List[str]:
    """Why native cannot run ``experiment`` here (empty: it can)."""
    try:
        native = registry.backend("native")
    except Exception as exc:  # noqa: BLE001 - not registered (a RegistryError): say so
        return [f"the native backend is not available ({exc})"]
    missing = native.available()
    if missing:
        return [f"the native backend cannot run here ({missing})"]
    check = getattr(native, "unsupported", None)
    return list(check(experiment)) if check is not None and experiment is not None else []


def _ready(name: str, registry: Any) -> Backend:
    backend = registry.backend(name)
    problem = backend.available()
    if problem:
        raise BackendError(f"backend {name!r} cannot run here: {problem}")
    return backend


def resolve_backend(name: str, registry: Any, experiment: Any = None) -> Backend:
    """The backend called ``name`` ready to run (``auto``: :func:`choose_backend` for ``experiment``);
    raises :class:`BackendError` naming the backend and what is missing (e.g. the ``mldsl[keras]`` extra)."""
    return choose_backend(name, experiment, registry)[0]


def monitor_problem(monitor: str, metric: Optional[str], validation_split: float, where: str = "") -> Optional[str]:
    """Why an EarlyStopping callback cannot monitor ``monitor`` (``where``: `` (at PATH)`` or ""), or None.
    Every backend logs per epoch ``loss`` and the evaluation ``metric``, and their ``val_`` forms with a
    validation split; the ``test_`` quantities of ``eval_every`` are the test split's, not monitored."""
    if monitor.startswith("val_") and validation_split == 0.0:
        return (f"EarlyStopping monitors {monitor!r}{where} but there is no validation data: "
                f"set validation_split > 0 or monitor {monitor[4:]!r}")
    known = ["loss"] + ([metric] if metric else [])
    known += ["val_" + k for k in known]
    if monitor in known:
        return None
    if monitor.startswith("test_"):
        return (f"EarlyStopping monitors {monitor!r}{where}, a quantity of the test split (eval_every), which "
                f"early stopping does not read; hold out training data with validation_split and monitor "
                f"{'val_' + monitor[5:]!r}")
    hint = suggestion_text(monitor, known)
    return (f"EarlyStopping monitors {monitor!r}{where}, which this run does not log"
            + (f"; {hint}" if hint else "") + f" (logged: {', '.join(known)})")


def history_columns(metrics: Sequence[str], validation: bool, eval_every: bool) -> List[str]:
    """The columns of a run's per-epoch history in order, as every backend logs them: ``epoch``, ``loss``
    and each metric of ``metrics``, their ``val_`` forms with a validation split, their ``test_`` forms
    with ``eval_every`` > 0, and ``seconds``. A run of 0 epochs has no rows but these columns."""
    quantities = ["loss"] + [m for m in metrics if m != "loss"]
    return (["epoch", *quantities] + (["val_" + q for q in quantities] if validation else [])
            + (["test_" + q for q in quantities] if eval_every else []) + ["seconds"])


def check_outputs_fit_classes(outputs: int, num_classes: int, encoding: str, where: str) -> None:
    """Raises a :class:`BackendError` when a model with ``outputs`` values per example cannot be trained
    on a dataset of ``num_classes`` classes with targets encoded as ``encoding`` ("sparse" class indices:
    at least one output per class; "one_hot": exactly one; "raw", the label as a number: any)."""
    if (encoding == "sparse" and outputs < num_classes) or (encoding == "one_hot" and outputs != num_classes):
        raise BackendError(f"the model outputs {outputs} values per example but the dataset has {num_classes} "
                           f"classes; make the last layer of {where or 'model'} Dense({num_classes}, ...)")


def lower_learning_rate(learning_rate: Optional[float], name: str = "the learning rate") -> str:
    """The advice to lower a learning rate, as a sentence start: "Lower the learning rate (now 0.5, try
    0.05)"; for a rate that is not a finite number, it says to give a finite one."""
    if learning_rate is None:
        return f"Lower {name}"
    if not math.isfinite(learning_rate):
        return f"Give {name} a finite value (now {learning_rate:g}; e.g. 0.001)"
    return f"Lower {name} (now {learning_rate:g}, try {learning_rate / 10:g})"


#: A run whose final training loss exceeds this many times the loss of the best constant prediction has
#: diverged (see :func:`divergence_warning`).
DIVERGENCE_FACTOR = 10.0


def constant_prediction_loss(loss: str, targets: Any, outputs: int) -> Optional[float]:
    """The loss of the best prediction that ignores the inputs, from the encoded training targets:
    for cross-entropy the entropy of the class frequencies (at most ln C), for mean squared error the
    variance of the targets. None for a loss it does not know."""
    import numpy as np  # noqa: PLC0415 - only backends that have data call this

    y = np.asarray(targets)
    if loss in ("sparse_categorical_crossentropy", "categorical_crossentropy"):
        if y.ndim == 1:
            freq = np.bincount(y.astype(np.int64), minlength=outputs).astype(np.float64)
        else:
            freq = y.astype(np.float64).sum(axis=0)
        p = freq[freq > 0] / freq.sum()
        return float(-(p * np.log(p)).sum())
    if loss == "mse":
        y = y.astype(np.float64).reshape(len(y), -1)
        return float(((y - y.mean(axis=0)) ** 2).mean())
    return None


def divergence_warning(history: List[dict], baseline: Optional[float], learning_rate: Optional[float] = None,
                       name: str = "the learning rate") -> Optional[str]:
    """A sentence when training diverged without the loss becoming NaN, else None.

    The rule: the last epoch's training loss is more than :data:`DIVERGENCE_FACTOR` times ``baseline``, the
    loss of the best constant prediction (:func:`constant_prediction_loss`). A model with zero weights and
    fitted biases reaches that loss (an L2 penalty is then 0 too), so ending ten times above it means the
    updates overshoot instead of descending; healthy runs end below it.
    """
    if not history or baseline is None or baseline <= 0:
        return None
    last = history[-1].get("loss")
    if last is None or not math.isfinite(last) or last <= DIVERGENCE_FACTOR * baseline:
        return None
    return (f"training diverged: the final training loss {last:.6g} is more than {DIVERGENCE_FACTOR:g} times the "
            f"loss of a constant prediction ({baseline:.4g}, what a model that ignores its inputs reaches), so the "
            f"metrics describe a model that learned nothing useful. {lower_learning_rate(learning_rate, name)}.")
