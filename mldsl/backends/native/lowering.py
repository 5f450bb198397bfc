"""Lowering a symbolic experiment (the standard components) to a native :class:`~.plan.Plan`.

Components are recognised by their DSL name (``type_name``), so this module imports no plugin. A
component the native backend cannot run (e.g. ``Conv2D``) is a :class:`BackendError` naming it, its
path, and listing what the backend runs. Plugins may teach the native backend a new layer or
activation through the ``mldsl_lowerings`` hook for backend ``"native"``: the lowering is a callable
``fn(component) -> LayerSpec | list[LayerSpec]`` (for an activation: ``-> (name, alpha)``).
"""
from __future__ import annotations

from typing import Any, List, Optional, Tuple

from mldsl.backends.native.plan import (ACTIVATIONS, ActivationSpec, DenseSpec, DropoutSpec, EarlyStoppingSpec,
                                        FlattenSpec, OptimizerSpec, Plan)
from mldsl.errors import BackendError

#: What the native backend runs, by DSL name (listed in errors).
SUPPORTED = {
    "model": ("Sequential",),
    "layer": ("Dense", "Dropout", "Flatten", "Activation"),
    "activation": ("ReLU", "ELU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "GELU", "Swish"),
    "optimizer": ("SGD", "Adam", "RMSprop", "Adagrad"),
    "loss": ("SparseCategoricalCrossentropy", "CategoricalCrossentropy", "MeanSquaredError"),
    "metric": ("SparseCategoricalAccuracy", "Accuracy"),
    "regularizer": ("L2",),
    "callback": ("EarlyStopping",),
}
_OPTIMIZER_FIELDS = {
    "SGD": ("sgd", ("learning_rate", "momentum", "nesterov")),
    "Adam": ("adam", ("learning_rate", "beta_1", "beta_2", "epsilon")),
    "RMSprop": ("rmsprop", ("learning_rate", "rho", "momentum", "epsilon")),
    "Adagrad": ("adagrad", ("learning_rate", "initial_accumulator_value", "epsilon")),
}
_LOSSES = {"SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
           "CategoricalCrossentropy": "categorical_crossentropy", "MeanSquaredError": "mse"}


def type_name_of(component: Any) -> str:
    """The DSL name of a component (its class's ``type_name``, else the class name)."""
    cls = type(component)
    return str(getattr(cls, "type_name", None) or cls.__name__)


def field(obj: Any, key: str, default: Any = None) -> Any:
    """``obj[key]`` for mappings, ``obj.key`` for objects; ``default`` when absent, None or MISSING."""
    if obj is None:
        return default
    value = obj.get(key, default) if isinstance(obj, dict) else getattr(obj, key, default)
    if value is None:
        return default
    if type(value).__name__ in ("MissingValue", "_Missing") or repr(value) == "MISSING":
        return default
    return value


def _where(component: Any) -> str:
    path = str(getattr(component, "sym_path", "") or "")
    return f" (at {path})" if path else ""


def _unsupported(kind: str, component: Any) -> BackendError:
    name = type_name_of(component)
    return BackendError(f"the native backend cannot run {kind} {name}{_where(component)}; it runs "
                        f"{', '.join(SUPPORTED[kind])}. Use --backend keras for {name}, or a plugin that adds a "
                        f"native lowering for it")


class _Lowerer:
    def __init__(self, registry: Any = None):
        self.registry = registry

    def _plugin(self, component: Any) -> Optional[Any]:
        if self.registry is None or not hasattr(self.registry, "lowering"):
            return None
        try:
            return self.registry.lowering("native", type(component))
        except Exception:  # noqa: BLE001 - a broken plugin reads as "no lowering"
            return None

    # -- activations ----------------------------------------------------------------------------------
    def activation(self, value: Any) -> Tuple[str, Optional[float]]:
        if value is None:
            return "linear", None
        if isinstance(value, str):
            if value not in ACTIVATIONS:
                raise BackendError(f"unknown activation {value!r}; the native backend runs {', '.join(ACTIVATIONS)}")
            return value, None
        name = type_name_of(value)
        if name == "ELU":
            return "elu", float(field(value, "alpha", 1.0))
        if name == "LeakyReLU":
            return "leaky_relu", float(field(value, "negative_slope", 0.3))
        if name == "GELU":
            return ("gelu_tanh" if field(value, "approximate", False) else "gelu"), None
        fname = getattr(type(value), "function_name", None)
        if fname in ACTIVATIONS and name in SUPPORTED["activation"]:
            return fname, None
        fn = self._plugin(value)
        if fn is not None:
            act, alpha = fn(value)
            return act, alpha
        raise _unsupported("activation", value)

    # -- layers ---------------------------------------------------------------------------------------
    def layer(self, comp: Any) -> List[Any]:
        name = type_name_of(comp)
        if name == "Dense":
            act, alpha = self.activation(field(comp, "activation"))
            reg = field(comp, "kernel_regularizer")
            l2 = 0.0
            if reg is not None:
                if type_name_of(reg) != "L2":
                    raise _unsupported("regularizer", reg)
                l2 = float(field(reg, "l2", 0.01))
            return [DenseSpec(int(field(comp, "units")), act, l2, bool(field(comp, "use_bias", True)),
                              str(field(comp, "kernel_initializer", "glorot_uniform")), alpha)]
        if name == "Dropout":
            seed = field(comp, "seed")
            return [DropoutSpec(float(field(comp, "rate")), None if seed is None else int(seed))]
        if name == "Flatten":
            return [FlattenSpec()]
        if name == "Activation":
            act, alpha = self.activation(field(comp, "activation"))
            return [ActivationSpec(act, alpha)]
        fn = self._plugin(comp)
        if fn is not None:
            out = fn(comp)
            return list(out) if isinstance(out, (list, tuple)) else [out]
        raise _unsupported("layer", comp)

    def model(self, comp: Any) -> List[Any]:
        if type_name_of(comp) != "Sequential":
            fn = self._plugin(comp)
            if fn is not None:
                return list(fn(comp))
            raise _unsupported("model", comp)
        specs: List[Any] = []
        for layer in field(comp, "layers", []) or []:
            specs.extend(self.layer(layer))
        return specs

    def optimizer(self, comp: Any) -> OptimizerSpec:
        if comp is None:
            return OptimizerSpec("adam")
        name = type_name_of(comp)
        if name not in _OPTIMIZER_FIELDS:
            raise _unsupported("optimizer", comp)
        key, names = _OPTIMIZER_FIELDS[name]
        hyper = {}
        for n in names:
            v = field(comp, n)
            if v is not None:
                hyper[n] = bool(v) if n == "nesterov" else float(v)
        return OptimizerSpec(key, **hyper)


def lower_experiment(experiment: Any, registry: Any = None) -> Plan:
    """The :class:`Plan` of a symbolic ``Experiment`` (model, training and evaluation settings, seed).

    Raises :class:`BackendError` naming any component the native backend cannot run."""
    lw = _Lowerer(registry)
    model = field(experiment, "model")
    if model is None:
        raise BackendError("the experiment has no model (field 'model')")
    layers = lw.model(model)
    training = field(experiment, "training", {})
    evaluation = field(experiment, "evaluation", {})
    loss_c = field(training, "loss")
    loss, from_logits = "sparse_categorical_crossentropy", False
    if loss_c is not None:
        lname = type_name_of(loss_c)
        if lname not in _LOSSES:
            raise _unsupported("loss", loss_c)
        loss, from_logits = _LOSSES[lname], bool(field(loss_c, "from_logits", False))
    metric_c = field(evaluation, "metric")
    metric = "accuracy"
    if metric_c is not None:
        if type_name_of(metric_c) not in SUPPORTED["metric"]:
            raise _unsupported("metric", metric_c)
        metric = str(field(metric_c, "name", "accuracy"))
    early = None
    for cb in field(training, "callbacks", []) or []:
        if type_name_of(cb) != "EarlyStopping":
            raise _unsupported("callback", cb)
        early = EarlyStoppingSpec(str(field(cb, "monitor", "val_loss")), int(field(cb, "patience", 0)),
                                  float(field(cb, "min_delta", 0.0)), str(field(cb, "mode", "auto")),
                                  bool(field(cb, "restore_best_weights", False)))
    return Plan(layers=layers, loss=loss, from_logits=from_logits,
                optimizer=lw.optimizer(field(training, "optimizer")),
                batch_size=int(field(training, "batch_size", 32)), epochs=int(field(training, "num_epochs", 1)),
                validation_split=float(field(training, "validation_split", 0.0)),
                seed=int(field(experiment, "seed", 0)), early_stopping=early,
                eval_batch_size=int(field(evaluation, "batch_size", 256)), metric=metric)
