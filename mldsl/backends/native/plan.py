"""The native trainer's input: a plain, backend-specific description of an MLP training run.

A :class:`Plan` is what the symbolic experiment is lowered to (see :mod:`.lowering`); it can also be
written by hand or built from a plain dict with :meth:`Plan.from_dict`::

    Plan(layers=[FlattenSpec(), DenseSpec(500, "relu"), DropoutSpec(0.2), DenseSpec(10, "softmax")],
         loss="sparse_categorical_crossentropy",
         optimizer=OptimizerSpec("adam", learning_rate=1e-3),
         batch_size=100, epochs=2, validation_split=0.1, seed=0, order="shuffle",
         early_stopping=EarlyStoppingSpec(monitor="val_loss", patience=2))

Defaults follow Keras (glorot_uniform kernels, zero biases, Adam(1e-3, 0.9, 0.999, 1e-7), ...).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable, List, Mapping, Optional, Union

from mldsl.backends.base import monitor_problem
from mldsl.backends.native.initializers import NAMES as INITIALIZERS
from mldsl.data.order import ORDERS
from mldsl.errors import BackendError, suggestion_text
from mldsl.kernels import catalogue

#: Every activation the native backend runs (the kernels' names; ``gelu_tanh`` is GELU(approximate=True)).
ACTIVATIONS = tuple(catalogue.ACTIVATIONS)
LOSSES = tuple(catalogue.LOSSES)
_LOSS_ALIASES = {"mean_squared_error": "mse", **{l.keras.lower(): l.name for l in catalogue.LOSSES.values()}}


class NativeUnsupported(BackendError):
    """What the native backend cannot run: a component without a native lowering, or a model whose meaning
    in Keras it cannot reproduce exactly. ``backend="auto"`` then picks keras; other errors (a setting that
    is wrong on any backend) are reported as they are."""


def _choice(what: str, value: Any, choices, where: str = "") -> str:
    if value not in choices:
        hint = suggestion_text(str(value), choices)
        raise BackendError(f"unknown {what} {value!r}{where}" + (f"; {hint}" if hint else "")
                           + f" (the native backend knows: {', '.join(choices)})")
    return value


def _at(spec: Any) -> str:
    """`` (at model.layers[2])`` for a spec lowered from a component with a path, else ``""``."""
    path = getattr(spec, "path", "")
    return f" (at {path})" if path else ""


def _path_field() -> Any:
    """The symbolic path of the component a spec was lowered from (for messages; not part of equality)."""
    return field(default="", compare=False, repr=False, kw_only=True)


@dataclass
class DenseSpec:
    """A fully connected layer ``activation(x @ W + b)``; ``l1`` and ``l2`` are the factors of its kernel's
    penalty (``mldsl.kernels.catalogue.PENALTY``: ``l1 * sum(|W|) + l2 * sum(W**2)`` added to the loss)."""

    units: int
    activation: str = "linear"
    l2: float = 0.0
    use_bias: bool = True
    kernel_initializer: str = "glorot_uniform"
    alpha: Optional[float] = None   # leaky_relu slope (default 0.2) / elu alpha (default 1.0)
    l1: float = 0.0
    path: str = _path_field()

    def __post_init__(self):
        if self.activation is None:
            self.activation = "linear"
        if isinstance(self.units, bool) or not isinstance(self.units, int) or self.units < 1:
            raise BackendError(f"Dense units must be an integer >= 1, got {self.units!r}{_at(self)}")
        _choice("activation", self.activation, ACTIVATIONS, _at(self))
        _choice("kernel initializer", self.kernel_initializer, INITIALIZERS, _at(self))
        for factor in ("l1", "l2"):
            value = getattr(self, factor)
            if not 0 <= value < math.inf:
                raise BackendError(f"Dense {factor} must be a finite number >= 0, got {value}{_at(self)}")


@dataclass
class DropoutSpec:
    """Inverted dropout at training time (identity at evaluation); ``seed`` None derives one from the plan's."""

    rate: float
    seed: Optional[int] = None
    path: str = _path_field()

    def __post_init__(self):
        if not 0.0 <= self.rate < 1.0:
            raise BackendError(f"Dropout rate must be in [0, 1), got {self.rate}{_at(self)}")


@dataclass
class FlattenSpec:
    """Flattens each example to one axis (a reshape; no copy)."""

    path: str = _path_field()


@dataclass
class ActivationSpec:
    """A standalone activation layer."""

    activation: str
    alpha: Optional[float] = None
    path: str = _path_field()

    def __post_init__(self):
        if self.activation is None:
            self.activation = "linear"
        _choice("activation", self.activation, ACTIVATIONS, _at(self))


@dataclass
class NumpyLayerSpec:
    """A layer whose math is a plugin's own NumPy code: the native backend's slower path for what its
    kernels do not have (the kernels' layers are the fast one). It takes flat features ``(n, in_units)``.

    * ``forward(params, x, training) -> (y, cache)``: ``y`` of shape ``(n, units)``; ``cache`` is anything
      the backward pass needs (it is handed back unchanged); ``training`` is False when evaluating.
    * ``backward(params, cache, dy) -> (dx, grads)``: ``dx`` = dLoss/dx, shaped as ``x``; ``grads`` =
      ``{name: dLoss/dparams[name]}``, one array per parameter, shaped as it.
    * ``params``: ``{name: initial value}``, each an array (or number), or a function
      ``init(in_units, rng) -> array`` (``rng`` a ``numpy.random.Generator`` seeded from the plan's seed).
      ``params`` handed to ``forward``/``backward`` are read-only float arrays; the optimizer updates them.
    * ``units``: the output width (None: the same as the input's).

    The trainer checks every result's shape and finiteness and names the layer's path and the plugin when
    one is wrong; ``mldsl gradcheck`` checks ``backward`` against finite differences of ``forward``."""

    forward: Callable[..., Any]
    backward: Callable[..., Any]
    params: Mapping[str, Any] = field(default_factory=dict)
    units: Optional[int] = None
    name: str = "NumPy layer"        # what the layer is called in messages and in gradcheck's table
    path: str = _path_field()
    plugin: str = field(default="", compare=False, repr=False, kw_only=True)   # stamped by the lowering

    def __post_init__(self):
        for what in ("forward", "backward"):
            if not callable(getattr(self, what)):
                raise BackendError(f"{self.name}{_at(self)}: {what} must be a function, got "
                                   f"{getattr(self, what)!r}")
        if self.units is not None and (isinstance(self.units, bool) or not isinstance(self.units, int)
                                       or self.units < 1):
            raise BackendError(f"{self.name}{_at(self)}: units must be an integer >= 1 or None, got {self.units!r}")
        if not isinstance(self.params, Mapping) or not all(isinstance(k, str) and k.isidentifier()
                                                           for k in self.params):
            raise BackendError(f"{self.name}{_at(self)}: params must be a dict {{name: initial value}} with "
                               f"identifier names, got {self.params!r}")

    @property
    def where(self) -> str:
        """``' (at PATH, plugin NAME)'``: where a message about this layer points."""
        parts = [f"at {self.path}"] if self.path else []
        parts += [f"plugin {self.plugin}"] if self.plugin else []
        return f" ({', '.join(parts)})" if parts else ""


LayerSpec = Union[DenseSpec, DropoutSpec, FlattenSpec, ActivationSpec, NumpyLayerSpec]


@dataclass
class OptimizerSpec:
    """An optimizer by name (a key of ``mldsl.kernels.catalogue.OPTIMIZERS``: "sgd", "adam", "rmsprop",
    "adagrad") with Keras' hyperparameter names; missing ones take Keras' defaults (the catalogue's).

    It is what the kernels take (``DenseTrainStep(..., optimizer=spec)``, ``optimizer_update(spec, ...)``):
    the catalogue turns it into an update rule (:attr:`update`) and its state buffers (:attr:`states`)."""

    name: str = "adam"
    hyper: dict = field(default_factory=dict)
    path: str = _path_field()

    def __init__(self, name: str = "adam", *, path: str = "", **hyper: Any):
        self.path = path
        self.name = _choice("optimizer", str(name).lower(), tuple(catalogue.OPTIMIZERS), _at(self))
        known = catalogue.OPTIMIZERS[self.name].defaults
        for key in hyper:
            if key not in known:
                hint = suggestion_text(key, known)
                raise BackendError(f"optimizer {self.name!r}{_at(self)} has no hyperparameter {key!r}"
                                   + (f"; {hint}" if hint else "") + f" (it takes: {', '.join(known)})")
        self.hyper = {**known, **hyper}
        if not self.hyper["learning_rate"] > 0:
            raise BackendError(f"learning_rate must be > 0, got {self.hyper['learning_rate']}{_at(self)}")

    def __getitem__(self, key: str) -> Any:
        return self.hyper[key]

    @property
    def learning_rate(self) -> float:
        return float(self.hyper["learning_rate"])

    @property
    def update(self) -> "catalogue.Update":
        """The kernels' update rule these settings select (e.g. SGD with momentum: ``momentum``)."""
        return catalogue.update_of(self)

    @property
    def states(self) -> tuple:
        """``((state buffer name, initial value), ...)`` of the update, in the kernels' order."""
        return catalogue.state_buffers(self)


@dataclass
class EarlyStoppingSpec:
    """Keras' EarlyStopping: stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    monitor: str = "val_loss"
    patience: int = 0
    min_delta: float = 0.0
    mode: str = "auto"
    restore_best_weights: bool = False
    path: str = _path_field()

    def __post_init__(self):
        _choice("early-stopping mode", self.mode, ("auto", "min", "max"), _at(self))
        if self.patience < 0:
            raise BackendError(f"EarlyStopping patience must be >= 0, got {self.patience}{_at(self)}")

    @property
    def direction(self) -> str:
        """'min' or 'max' (``auto``: max for accuracy-like monitors, like Keras)."""
        if self.mode != "auto":
            return self.mode
        return "max" if ("acc" in self.monitor or self.monitor.endswith("auc")) else "min"


@dataclass
class LossSpec:
    """A loss (a name of ``mldsl.kernels.catalogue.LOSSES`` or Keras' class name) and whether the model's
    outputs are logits; :class:`Plan` keeps the two as ``loss`` and ``from_logits``."""

    name: str
    from_logits: bool = False
    path: str = _path_field()


@dataclass
class MetricSpec:
    """The accuracy metric, logged under ``name`` (counted as Keras counts it for the loss's targets)."""

    name: str = "accuracy"
    path: str = _path_field()


@dataclass
class RegularizerSpec:
    """A kernel regularizer as the factors of ``mldsl.kernels.catalogue.PENALTY`` (``l1 * sum(|W|) +
    l2 * sum(W**2)``), which the Dense layer it regularizes adds to the loss (:attr:`DenseSpec.l1`/``l2``)."""

    l1: float = 0.0
    l2: float = 0.0
    path: str = _path_field()


@dataclass
class OutputHead:
    """How the loss reads the model's outputs (see :meth:`Plan.output_head`).

    ``layers``: the layers the trainer runs; ``softmax``: whether a final softmax was fused into the
    cross-entropy (``predict`` applies it to the outputs); ``warnings``: sentences for the run's result."""

    layers: List[LayerSpec]
    softmax: bool = False
    warnings: List[str] = field(default_factory=list)


def _describe(spec: Any) -> str:
    if isinstance(spec, DenseSpec):
        return f"Dense with activation {spec.activation!r}"
    if isinstance(spec, ActivationSpec):
        return f"Activation({spec.activation!r})"
    if isinstance(spec, NumpyLayerSpec):
        return spec.name
    return type(spec).__name__.replace("Spec", "")


def output_head(layers: List[LayerSpec], loss: str, from_logits: bool) -> OutputHead:
    """Keras' reading of the model's outputs by the loss, as the native backend runs it; a
    :class:`BackendError` naming the layer where it cannot be reproduced exactly.

    Cross-entropy in Keras (TensorFlow) takes the *input* of a final softmax or sigmoid as its logits
    (that activation keeps them as ``_keras_logits``), whatever ``from_logits`` says; layers that pass their
    input on unchanged (``Activation("linear")``, a Dropout of rate 0, any Dropout when evaluating) keep
    that link, Flatten breaks it. Otherwise ``from_logits=True`` takes the outputs as logits, and
    ``from_logits=False`` takes them as probabilities, clipped to [1e-7, 1 - 1e-7] before their log.
    The native backend fuses a final softmax into its softmax cross-entropy kernel (so the layers before
    it produce the logits, whatever their activation), takes the outputs as logits with
    ``from_logits=True``, and refuses the rest. Mean squared error reads the outputs as they are.
    """
    if not catalogue.LOSSES[loss].cross_entropy:
        return OutputHead(list(layers))
    end, dropped = len(layers) - 1, False
    while end >= 0:                              # back over the layers that pass their input on unchanged
        spec = layers[end]
        if isinstance(spec, ActivationSpec) and spec.activation == "linear":
            end -= 1
        elif isinstance(spec, DropoutSpec):
            dropped = dropped or spec.rate > 0
            end -= 1
        else:
            break
    source = layers[end]
    act = catalogue.ACTIVATIONS[source.activation] if isinstance(source, (DenseSpec, ActivationSpec)) else None
    where = _at(source)
    if act is not None and act.keras_logits:
        if dropped:
            raise NativeUnsupported(
                f"{loss}: the model's last {act.name}{where} is followed by Dropout: Keras then computes the "
                f"training loss on the dropped-out {act.name} outputs but the evaluation loss on the {act.name}'s "
                f"input, which the native backend does not reproduce; move the Dropout before the {act.name}")
        if act.name != "softmax":
            raise NativeUnsupported(
                f"{loss} on a model that ends in {act.name}{where}: Keras would take the {act.name}'s input as "
                f"the logits of a softmax cross-entropy while its accuracy reads the {act.name} outputs; the "
                f"native backend does not run this mix. End the model with softmax (activation=\"softmax\"), or "
                f"use --backend keras")
        warnings = []
        if from_logits:
            warnings.append(f"{loss} has from_logits=True but the model ends in softmax{where}: Keras ignores "
                            "from_logits there and takes the softmax's input as the logits; so does the native "
                            "backend (drop the softmax, or set from_logits=False, to silence this)")
        last = [replace(source, activation="linear", alpha=None)] if isinstance(source, DenseSpec) else []
        return OutputHead(list(layers[:end]) + last, softmax=True, warnings=warnings)
    if from_logits:
        return OutputHead(list(layers))
    ends = _describe(source) if act is None else f"activation {act.name!r}"
    raise NativeUnsupported(
        f"{loss} with from_logits=False takes the model's outputs as probabilities, but the model ends in "
        f"{ends}{where}, not softmax: Keras would clip those outputs to [1e-7, 1 - 1e-7] and take their log, "
        f"which the native backend does not reproduce. End the model with softmax (activation=\"softmax\" or "
        f"Activation(\"softmax\")), or set from_logits=True if its outputs are logits")


@dataclass
class Plan:
    """Everything the native trainer needs besides the data."""

    layers: List[LayerSpec]
    loss: str = "sparse_categorical_crossentropy"
    from_logits: bool = False
    optimizer: OptimizerSpec = field(default_factory=OptimizerSpec)
    batch_size: int = 32
    epochs: int = 1
    validation_split: float = 0.0
    eval_every: int = 0                    # evaluate the test split every N epochs into the history (0: never)
    seed: int = 0
    order: str = "shuffle"                 # the examples' order in each epoch (mldsl.data.order.ORDERS)
    early_stopping: Optional[EarlyStoppingSpec] = None
    eval_batch_size: int = 256
    metric: Optional[str] = "accuracy"     # name under which accuracy is logged (None: no metric)
    dtype: str = "float32"
    threads: Optional[int] = None          # BLAS/OpenMP threads while training (None: leave as configured)

    def __post_init__(self):
        self.loss = _LOSS_ALIASES.get(str(self.loss).lower(), str(self.loss).lower())
        _choice("loss", self.loss, LOSSES)
        self.from_logits = bool(self.from_logits)
        _choice("dtype", self.dtype, ("float32", "float64"))
        _choice("training order", self.order, ORDERS)
        if not self.layers or not any(isinstance(s, DenseSpec) for s in self.layers):
            raise BackendError("the plan needs at least one Dense layer")
        for spec in self.layers:
            if not isinstance(spec, (DenseSpec, DropoutSpec, FlattenSpec, ActivationSpec, NumpyLayerSpec)):
                raise BackendError(f"the native trainer cannot run layer {spec!r} "
                                   "(it runs Dense, Dropout, Flatten, Activation and NumpyLayerSpec)")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise BackendError(f"batch_size must be an integer >= 1, got {self.batch_size!r}")
        if not isinstance(self.eval_batch_size, int) or self.eval_batch_size < 1:
            raise BackendError(f"eval batch_size must be an integer >= 1, got {self.eval_batch_size!r}")
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise BackendError(f"threads must be an integer >= 1 or None, got {self.threads!r}")
        if not isinstance(self.epochs, int) or self.epochs < 0:
            raise BackendError(f"epochs must be an integer >= 0, got {self.epochs!r}")
        if not isinstance(self.eval_every, int) or self.eval_every < 0:
            raise BackendError(f"eval_every must be an integer >= 0, got {self.eval_every!r}")
        if not 0.0 <= self.validation_split < 1.0:
            raise BackendError(f"validation_split must be in [0, 1), got {self.validation_split}")
        if self.metric is not None and not str(self.metric).isidentifier():
            raise BackendError(f"metric name must be an identifier, got {self.metric!r}")
        es = self.early_stopping
        problem = monitor_problem(es.monitor, self.metric, self.validation_split, _at(es)) if es is not None else None
        if problem:
            raise BackendError(problem)
        self.output_head()

    def output_head(self) -> OutputHead:
        """How the loss reads the outputs: the layers to run, whether a final softmax is fused into the
        loss, and warnings (see :func:`output_head`); a BackendError when Keras' meaning cannot be run."""
        return output_head(self.layers, self.loss, self.from_logits)

    @property
    def warnings(self) -> List[str]:
        """Sentences about how this plan runs that a user should read (e.g. an ignored ``from_logits``)."""
        return self.output_head().warnings

    @classmethod
    def from_dict(cls, d: dict) -> "Plan":
        """A plan from plain data: layers as ``{"type": "dense"|"dropout"|"flatten"|"activation", ...}``,
        ``optimizer`` as ``{"name": ..., hyperparameters...}`` or a name, ``early_stopping`` as a dict."""
        d = dict(d)
        kinds = {"dense": DenseSpec, "dropout": DropoutSpec, "flatten": FlattenSpec, "activation": ActivationSpec}
        layers = []
        for item in d.pop("layers", []):
            if not isinstance(item, dict):
                layers.append(item)
                continue
            item = dict(item)
            kind = str(item.pop("type", "")).lower()
            _choice("layer type", kind, tuple(kinds))
            layers.append(kinds[kind](**item))
        opt = d.pop("optimizer", "adam")
        if isinstance(opt, str):
            opt = OptimizerSpec(opt)
        elif isinstance(opt, dict):
            opt = dict(opt)
            opt = OptimizerSpec(opt.pop("name", "adam"), **opt)
        es = d.pop("early_stopping", None)
        if isinstance(es, dict):
            es = EarlyStoppingSpec(**es)
        unknown = set(d) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise BackendError(f"unknown plan keys: {', '.join(sorted(unknown))}")
        return cls(layers=layers, optimizer=opt, early_stopping=es, **d)
