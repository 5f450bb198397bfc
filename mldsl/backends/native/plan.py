"""The native trainer's input: a plain, backend-specific description of an MLP training run.

A :class:`Plan` is what the symbolic experiment is lowered to (see :mod:`.lowering`); it can also be
written by hand or built from a plain dict with :meth:`Plan.from_dict`::

    Plan(layers=[FlattenSpec(), DenseSpec(500, "relu"), DropoutSpec(0.2), DenseSpec(10, "softmax")],
         loss="sparse_categorical_crossentropy",
         optimizer=OptimizerSpec("adam", learning_rate=1e-3),
         batch_size=100, epochs=2, validation_split=0.1, seed=0,
         early_stopping=EarlyStoppingSpec(monitor="val_loss", patience=2))

Defaults follow Keras (glorot_uniform kernels, zero biases, Adam(1e-3, 0.9, 0.999, 1e-7), ...).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional, Union

from mldsl.errors import BackendError, suggestion_text

ACTIVATIONS = ("linear", "relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "gelu", "gelu_tanh", "swish")
INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
                "zeros", "ones")
LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy", "mse")
#: optimizer name -> its hyperparameters with Keras' defaults
OPTIMIZERS = {
    "sgd": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    "adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "rmsprop": {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7},
    "adagrad": {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
}
_LOSS_ALIASES = {"mean_squared_error": "mse", "sparsecategoricalcrossentropy": "sparse_categorical_crossentropy",
                 "categoricalcrossentropy": "categorical_crossentropy", "meansquarederror": "mse"}


def _choice(what: str, value: Any, choices) -> str:
    if value not in choices:
        hint = suggestion_text(str(value), choices)
        raise BackendError(f"unknown {what} {value!r}" + (f"; {hint}" if hint else "")
                           + f" (the native backend knows: {', '.join(choices)})")
    return value


@dataclass
class DenseSpec:
    """A fully connected layer ``activation(x @ W + b)``; ``l2`` adds ``l2 * sum(W**2)`` to the loss."""

    units: int
    activation: str = "linear"
    l2: float = 0.0
    use_bias: bool = True
    kernel_initializer: str = "glorot_uniform"
    alpha: Optional[float] = None   # leaky_relu slope (default 0.2) / elu alpha (default 1.0)

    def __post_init__(self):
        if self.activation is None:
            self.activation = "linear"
        if not isinstance(self.units, int) or self.units < 1:
            raise BackendError(f"Dense units must be an integer >= 1, got {self.units!r}")
        _choice("activation", self.activation, ACTIVATIONS)
        _choice("kernel initializer", self.kernel_initializer, INITIALIZERS)
        if self.l2 < 0:
            raise BackendError(f"Dense l2 must be >= 0, got {self.l2}")


@dataclass
class DropoutSpec:
    """Inverted dropout at training time (identity at evaluation); ``seed`` None derives one from the plan's."""

    rate: float
    seed: Optional[int] = None

    def __post_init__(self):
        if not 0.0 <= self.rate < 1.0:
            raise BackendError(f"Dropout rate must be in [0, 1), got {self.rate}")


@dataclass
class FlattenSpec:
    """Flattens each example to one axis (a reshape; no copy)."""


@dataclass
class ActivationSpec:
    """A standalone activation layer."""

    activation: str
    alpha: Optional[float] = None

    def __post_init__(self):
        _choice("activation", self.activation, ACTIVATIONS)


LayerSpec = Union[DenseSpec, DropoutSpec, FlattenSpec, ActivationSpec]


@dataclass
class OptimizerSpec:
    """An optimizer by name with Keras' hyperparameter names; missing ones take Keras' defaults."""

    name: str = "adam"
    hyper: dict = field(default_factory=dict)

    def __init__(self, name: str = "adam", **hyper: Any):
        self.name = _choice("optimizer", str(name).lower(), tuple(OPTIMIZERS))
        known = OPTIMIZERS[self.name]
        for key in hyper:
            if key not in known:
                hint = suggestion_text(key, known)
                raise BackendError(f"optimizer {self.name!r} has no hyperparameter {key!r}"
                                   + (f"; {hint}" if hint else "") + f" (it takes: {', '.join(known)})")
        self.hyper = {**known, **hyper}
        if self.hyper["learning_rate"] <= 0:
            raise BackendError(f"learning_rate must be > 0, got {self.hyper['learning_rate']}")

    def __getitem__(self, key: str) -> Any:
        return self.hyper[key]


@dataclass
class EarlyStoppingSpec:
    """Keras' EarlyStopping: stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    monitor: str = "val_loss"
    patience: int = 0
    min_delta: float = 0.0
    mode: str = "auto"
    restore_best_weights: bool = False

    def __post_init__(self):
        _choice("early-stopping mode", self.mode, ("auto", "min", "max"))
        if self.patience < 0:
            raise BackendError(f"EarlyStopping patience must be >= 0, got {self.patience}")

    @property
    def direction(self) -> str:
        """'min' or 'max' (``auto``: max for accuracy-like monitors, like Keras)."""
        if self.mode != "auto":
            return self.mode
        return "max" if ("acc" in self.monitor or self.monitor.endswith("auc")) else "min"


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
    seed: int = 0
    early_stopping: Optional[EarlyStoppingSpec] = None
    eval_batch_size: int = 256
    metric: Optional[str] = "accuracy"     # name under which accuracy is logged (None: no metric)
    dtype: str = "float32"
    threads: Optional[int] = None          # BLAS/OpenMP threads while training (None: leave as configured)

    def __post_init__(self):
        self.loss = _LOSS_ALIASES.get(str(self.loss).lower(), str(self.loss).lower())
        _choice("loss", self.loss, LOSSES)
        _choice("dtype", self.dtype, ("float32", "float64"))
        if not self.layers or not any(isinstance(s, DenseSpec) for s in self.layers):
            raise BackendError("the plan needs at least one Dense layer")
        for spec in self.layers:
            if not isinstance(spec, (DenseSpec, DropoutSpec, FlattenSpec, ActivationSpec)):
                raise BackendError(f"the native trainer cannot run layer {spec!r} "
                                   "(it runs Dense, Dropout, Flatten and Activation)")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise BackendError(f"batch_size must be an integer >= 1, got {self.batch_size!r}")
        if not isinstance(self.eval_batch_size, int) or self.eval_batch_size < 1:
            raise BackendError(f"eval batch_size must be an integer >= 1, got {self.eval_batch_size!r}")
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise BackendError(f"threads must be an integer >= 1 or None, got {self.threads!r}")
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise BackendError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if not 0.0 <= self.validation_split < 1.0:
            raise BackendError(f"validation_split must be in [0, 1), got {self.validation_split}")
        if self.metric is not None and not str(self.metric).isidentifier():
            raise BackendError(f"metric name must be an identifier, got {self.metric!r}")
        es = self.early_stopping
        if es is not None and es.monitor.startswith("val_") and self.validation_split == 0.0:
            raise BackendError(f"EarlyStopping monitors {es.monitor!r} but there is no validation data: "
                               f"set validation_split > 0 or monitor {es.monitor[4:]!r}")
        if es is not None:
            known = ["loss"] + ([self.metric] if self.metric else [])
            known += ["val_" + k for k in known]
            if es.monitor not in known:
                hint = suggestion_text(es.monitor, known)
                raise BackendError(f"EarlyStopping monitors {es.monitor!r}, which this run does not log"
                                   + (f"; {hint}" if hint else "") + f" (logged: {', '.join(known)})")

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
