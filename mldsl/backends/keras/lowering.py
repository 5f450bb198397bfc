"""Lowering: symbolic components -> Keras 3 objects.

A lowering is a function ``fn(component, ctx) -> keras object`` where ``ctx`` is a :class:`LoweringContext`
(a plugin's lowering may also take the component alone: ``fn(component)``; it then imports Keras itself).
What it returns depends on the component's kind:

=============  =====================================================================================
kind           a lowering returns
=============  =====================================================================================
model          a ``keras.Model`` (built for ``ctx.input_shape``; use ``ctx.layers(...)`` for children)
layer          a ``keras.layers.Layer`` or a list of them (applied in order)
activation     a ``keras.layers.Layer`` applied after the layer that uses it
optimizer      a ``keras.optimizers.Optimizer``
loss           a ``keras.losses.Loss`` (may set ``ctx.target_encoding``: "sparse", "one_hot", "raw")
metric         a ``keras.metrics.Metric`` whose ``name`` is the component's ``name``
regularizer    a ``keras.regularizers.Regularizer``
callback       a ``keras.callbacks.Callback``
=============  =====================================================================================

Lookup order for a component of class ``cls``: the plugin registry's ``lowering("keras", cls)`` first (what
plugins return from their ``mldsl_lowerings(backend)`` hook for ``backend == "keras"``; the standard
plugin returns the table below that way too), then the table below directly (keyed by DSL name, so the
backend also works without a registry). A lowering registered for a class also serves its subclasses
(the registry's rule). A component neither knows is a :class:`BackendError` naming it, its path and
listing what Keras can run.

Data conventions the backend applies around the lowerings: ``(n, h, w)`` images get a channel axis
when the model has an image layer (a component whose name ends in ``2D``); the model's output must be a
vector per example (else: "put a Flatten() layer before the first Dense"), as on the native backend.

Only call this module's functions after :func:`mldsl.backends.keras._runtime.import_keras` (they use
``ctx.keras``); importing the module itself does not import TensorFlow.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from mldsl.errors import BackendError

try:  # the symbolic core's missing-value sentinel (absent fields read as their default)
    from mldsl.symbolic import MISSING as _MISSING
except ImportError:  # pragma: no cover - symbolic core not installed
    _MISSING = object()

LowerFn = Callable[[Any, "LoweringContext"], Any]

BACKEND_NAME = "keras"

#: Activation names a string activation may take (``mldsl.components.ACTIVATION_NAMES``), as Keras spells them.
STRING_ACTIVATIONS = {"linear": "linear", "relu": "relu", "elu": "elu", "leaky_relu": "leaky_relu",
                      "sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax", "gelu": "gelu",
                      "swish": "swish"}

def type_name_of(component: Any) -> str:
    """The DSL name of a component (its class's ``type_name``, else the class name)."""
    cls = type(component)
    return str(getattr(cls, "type_name", None) or cls.__name__)


def path_of(component: Any) -> str:
    """The symbolic path of a component (``model.layers[1]``), or ``""`` when it has none."""
    path = getattr(component, "sym_path", None)
    return str(path) if path is not None else ""


def field(obj: Any, key: str, default: Any = None) -> Any:
    """``obj[key]`` for mappings (``training = {...}``), ``obj.key`` for objects; ``default`` when absent."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        value = obj.get(key, default)
    else:
        value = getattr(obj, key, default)
    if value is None or value is _MISSING:
        return default
    return value


class LoweringContext:
    """What a lowering function may use: Keras, the data's shape, and lowering of child components.

    Attributes:
      keras: the imported ``keras`` module.
      input_shape: shape of one training example as the model sees it (channel axis added for images).
      num_classes: number of classes of the dataset.
      output_units: size of the model's last axis (set after the model is lowered, before the loss).
      target_encoding: how the integer labels are given to the loss: ``"sparse"`` (class indices, the
        default), ``"one_hot"`` (float vectors) or ``"raw"`` (the label as a float, for a one-output
        regression); loss lowerings set it, metric lowerings read it.
      registry: the plugin registry (or None), consulted first for every component.
    """

    def __init__(self, keras: Any, *, input_shape: Sequence[int] = (), num_classes: int = 0,
                 registry: Any = None) -> None:
        self.keras = keras
        self.input_shape = tuple(int(d) for d in input_shape)
        self.num_classes = int(num_classes)
        self.output_units = 0
        self.target_encoding = "sparse"
        self.registry = registry

    # -- lookup ----------------------------------------------------------------------------------
    def lowering_for(self, component: Any) -> LowerFn:
        """The lowering function of ``component`` (registry first, then the standard table)."""
        cls = type(component)
        if self.registry is not None:
            fn = _registry_lowering(self.registry, cls)
            if fn is not None:
                return fn
        name = type_name_of(component)
        entry = STD_LOWERINGS.get(name)
        if entry is not None:
            return entry[1]
        raise unsupported_error(component, self.registry)

    def lower(self, component: Any) -> Any:
        """Lowers one component with its lowering function."""
        fn = self.lowering_for(component)
        try:
            return fn(component, self) if takes_context(fn) else fn(component)
        except BackendError:
            raise
        except (TypeError, ValueError) as exc:
            where = f" at {path_of(component)}" if path_of(component) else ""
            raise BackendError(f"could not lower {type_name_of(component)}{where} to Keras: {exc}") from exc

    # -- helpers for lowering functions ------------------------------------------------------------
    def layers(self, component: Any) -> List[Any]:
        """Lowers a layer component to a flat list of Keras layers."""
        out = self.lower(component)
        if out is None:
            return []
        if isinstance(out, (list, tuple)):
            flat: List[Any] = []
            for item in out:
                flat.extend(item if isinstance(item, (list, tuple)) else [item])
            return flat
        return [out]

    def activation(self, value: Any, where: str = "") -> Tuple[Optional[str], List[Any]]:
        """``(keras activation argument, extra layers)`` for a layer's ``activation`` field.

        A string (``"relu"``) is passed to Keras as is; a component (``ELU(alpha=0.5)``) becomes an
        activation layer placed after the layer, so its hyperparameters and weights (PReLU) are kept.
        """
        if value is None:
            return None, []
        if isinstance(value, str):
            if value not in STRING_ACTIVATIONS:
                raise BackendError(f"unknown activation {value!r}{where}; Keras runs "
                                   + ", ".join(repr(a) for a in STRING_ACTIVATIONS))
            return STRING_ACTIVATIONS[value], []
        return None, self.layers(value)

    def regularizer(self, value: Any) -> Any:
        """Lowers an optional regularizer component."""
        return None if value is None else self.lower(value)


def takes_context(fn: Callable) -> bool:
    """Whether a lowering takes ``(component, ctx)``; plugins may also give ``fn(component)``."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)


def _registry_lowering(registry: Any, cls: type) -> Optional[LowerFn]:
    lookup = getattr(registry, "lowering", None)
    if lookup is None:
        return None
    try:
        return lookup(BACKEND_NAME, cls)
    except (LookupError, BackendError):
        return None
    except Exception as exc:  # a RegistryError ("no lowering") or similar: fall back to the std table
        if type(exc).__name__ in ("RegistryError", "UnknownComponentError"):
            return None
        raise


def keras_component_names(registry: Any = None) -> List[str]:
    """DSL names of every component the Keras backend can run (standard + registered by plugins)."""
    names = set(STD_LOWERINGS)
    lister = getattr(registry, "lowerings", None) if registry is not None else None
    if callable(lister):
        try:
            for key in lister(BACKEND_NAME):
                names.add(key if isinstance(key, str) else str(getattr(key, "type_name", key)))
        except Exception:  # noqa: BLE001 - listing is best effort, for the error message only
            pass
    return sorted(names)


def unsupported_error(component: Any, registry: Any = None) -> BackendError:
    """The error for a component with no Keras lowering: names it, its path, and what Keras can run."""
    name = type_name_of(component)
    where = f" (at {path_of(component)})" if path_of(component) else ""
    kind = getattr(type(component), "kind", None)
    return BackendError(f"the keras backend cannot run {kind + ' ' if kind else ''}{name}{where}: no Keras "
                        f"lowering is known for it. Keras can run: {', '.join(keras_component_names(registry))} "
                        "(a plugin adds Keras lowerings for its components through its mldsl_lowerings hook)")


# ---------------------------------------------------------------------------------------------------
# The standard library's lowerings (plugins/mldsl_std components, Keras argument names).
# ---------------------------------------------------------------------------------------------------

def _ints(value: Any) -> Any:
    """An int stays an int; a list of ints becomes a tuple (Keras' kernel_size/strides/pool_size)."""
    if isinstance(value, (list, tuple)):
        return tuple(int(v) for v in value)
    return None if value is None else int(value)


def _sequential(c: Any, ctx: LoweringContext) -> Any:
    keras = ctx.keras
    layers: List[Any] = []
    for child in field(c, "layers", []):
        layers.extend(ctx.layers(child))
    return keras.Sequential([keras.Input(shape=ctx.input_shape)] + layers, name="sequential")


def _dense(c: Any, ctx: LoweringContext) -> List[Any]:
    keras = ctx.keras
    act, extra = ctx.activation(field(c, "activation"), f" at {path_of(c)}.activation" if path_of(c) else "")
    layer = keras.layers.Dense(
        int(c.units), activation=act, use_bias=bool(field(c, "use_bias", True)),
        kernel_initializer=field(c, "kernel_initializer", "glorot_uniform"),
        kernel_regularizer=ctx.regularizer(field(c, "kernel_regularizer")))
    return [layer] + extra


def _dropout(c: Any, ctx: LoweringContext) -> Any:
    seed = field(c, "seed")
    return ctx.keras.layers.Dropout(float(c.rate), seed=None if seed is None else int(seed))


def _flatten(c: Any, ctx: LoweringContext) -> Any:
    return ctx.keras.layers.Flatten()


def _activation_layer(c: Any, ctx: LoweringContext) -> List[Any]:
    act, extra = ctx.activation(field(c, "activation"))
    return [ctx.keras.layers.Activation(act)] if act is not None else extra


def _conv(keras_cls_name: str) -> LowerFn:
    def lower(c: Any, ctx: LoweringContext) -> List[Any]:
        act, extra = ctx.activation(field(c, "activation"))
        cls = getattr(ctx.keras.layers, keras_cls_name)
        layer = cls(int(c.filters), _ints(c.kernel_size), strides=_ints(field(c, "strides", 1)),
                    padding=field(c, "padding", "valid"), activation=act)
        return [layer] + extra
    return lower


def _max_pooling(c: Any, ctx: LoweringContext) -> Any:
    return ctx.keras.layers.MaxPooling2D(pool_size=_ints(field(c, "pool_size", 2)),
                                         strides=_ints(field(c, "strides")),
                                         padding=field(c, "padding", "valid"))


def _batch_norm(c: Any, ctx: LoweringContext) -> Any:
    return ctx.keras.layers.BatchNormalization(momentum=float(field(c, "momentum", 0.99)),
                                               epsilon=float(field(c, "epsilon", 1e-3)))


def _gelu(c: Any, ctx: LoweringContext) -> Any:
    if bool(field(c, "approximate", False)):
        from mldsl.backends.keras import _layers  # noqa: PLC0415 - imports keras

        return _layers.ApproximateGELU()
    return ctx.keras.layers.Activation("gelu")


def _named_activation(name: str) -> LowerFn:
    return lambda c, ctx: ctx.keras.layers.Activation(name)


def _sgd(c: Any, ctx: LoweringContext) -> Any:
    return ctx.keras.optimizers.SGD(learning_rate=float(c.learning_rate),
                                    momentum=float(field(c, "momentum", 0.0)),
                                    nesterov=bool(field(c, "nesterov", False)))


def _adam(c: Any, ctx: LoweringContext) -> Any:
    return ctx.keras.optimizers.Adam(learning_rate=float(c.learning_rate), beta_1=float(field(c, "beta_1", 0.9)),
                                     beta_2=float(field(c, "beta_2", 0.999)),
                                     epsilon=float(field(c, "epsilon", 1e-7)))


def _rmsprop(c: Any, ctx: LoweringContext) -> Any:
    return ctx.keras.optimizers.RMSprop(learning_rate=float(c.learning_rate), rho=float(field(c, "rho", 0.9)),
                                        momentum=float(field(c, "momentum", 0.0)),
                                        epsilon=float(field(c, "epsilon", 1e-7)))


def _adagrad(c: Any, ctx: LoweringContext) -> Any:
    return ctx.keras.optimizers.Adagrad(
        learning_rate=float(c.learning_rate),
        initial_accumulator_value=float(field(c, "initial_accumulator_value", 0.1)),
        epsilon=float(field(c, "epsilon", 1e-7)))


def _sparse_cce(c: Any, ctx: LoweringContext) -> Any:
    ctx.target_encoding = "sparse"
    return ctx.keras.losses.SparseCategoricalCrossentropy(from_logits=bool(field(c, "from_logits", False)))


def _cce(c: Any, ctx: LoweringContext) -> Any:
    ctx.target_encoding = "one_hot"
    return ctx.keras.losses.CategoricalCrossentropy(from_logits=bool(field(c, "from_logits", False)))


def _mse(c: Any, ctx: LoweringContext) -> Any:
    # several outputs: compared with one-hot labels; one output: with the label itself (as the native
    # backend does)
    ctx.target_encoding = "raw" if ctx.output_units == 1 else "one_hot"
    return ctx.keras.losses.MeanSquaredError()


def _accuracy_metric(c: Any, ctx: LoweringContext) -> Any:
    """Both std accuracy metrics, matched to the targets as the native backend counts hits.

    Class-index or one-hot targets: the arg-max of the output is the label (Keras'
    ``SparseCategoricalAccuracy``/``CategoricalAccuracy``; ``Accuracy`` then means what the string
    ``"accuracy"`` means in Keras). A one-output regression (``"raw"`` targets): exact matches
    (Keras' ``Accuracy``).
    """
    name = str(field(c, "name", "accuracy"))
    metrics = ctx.keras.metrics
    if ctx.target_encoding == "one_hot":
        return metrics.CategoricalAccuracy(name=name)
    if ctx.target_encoding == "raw":
        return metrics.Accuracy(name=name)
    return metrics.SparseCategoricalAccuracy(name=name)


def _l2(c: Any, ctx: LoweringContext) -> Any:
    return ctx.keras.regularizers.L2(float(field(c, "l2", 0.01)))


def _early_stopping(c: Any, ctx: LoweringContext) -> Any:
    return ctx.keras.callbacks.EarlyStopping(
        monitor=str(field(c, "monitor", "val_loss")), patience=int(field(c, "patience", 0)),
        min_delta=float(field(c, "min_delta", 0.0)), mode=str(field(c, "mode", "auto")),
        restore_best_weights=bool(field(c, "restore_best_weights", False)))


#: DSL name -> (kind, lowering) for every standard component the Keras backend runs.
STD_LOWERINGS: Dict[str, Tuple[str, LowerFn]] = {
    "Sequential": ("model", _sequential),
    "Dense": ("layer", _dense),
    "Dropout": ("layer", _dropout),
    "Flatten": ("layer", _flatten),
    "Activation": ("layer", _activation_layer),
    "Conv2D": ("layer", _conv("Conv2D")),
    "SeparableConv2D": ("layer", _conv("SeparableConv2D")),
    "MaxPooling2D": ("layer", _max_pooling),
    "BatchNormalization": ("layer", _batch_norm),
    "ReLU": ("activation", lambda c, ctx: ctx.keras.layers.ReLU()),
    "ELU": ("activation", lambda c, ctx: ctx.keras.layers.ELU(alpha=float(field(c, "alpha", 1.0)))),
    "LeakyReLU": ("activation",
                  lambda c, ctx: ctx.keras.layers.LeakyReLU(negative_slope=float(field(c, "negative_slope", 0.3)))),
    "PReLU": ("activation", lambda c, ctx: ctx.keras.layers.PReLU()),
    "Sigmoid": ("activation", _named_activation("sigmoid")),
    "Tanh": ("activation", _named_activation("tanh")),
    "Softmax": ("activation", lambda c, ctx: ctx.keras.layers.Softmax()),
    "GELU": ("activation", _gelu),
    "Swish": ("activation", _named_activation("swish")),
    "SGD": ("optimizer", _sgd),
    "Adam": ("optimizer", _adam),
    "RMSprop": ("optimizer", _rmsprop),
    "Adagrad": ("optimizer", _adagrad),
    "SparseCategoricalCrossentropy": ("loss", _sparse_cce),
    "CategoricalCrossentropy": ("loss", _cce),
    "MeanSquaredError": ("loss", _mse),
    "SparseCategoricalAccuracy": ("metric", _accuracy_metric),
    "Accuracy": ("metric", _accuracy_metric),
    "L2": ("regularizer", _l2),
    "EarlyStopping": ("callback", _early_stopping),
}

#: The standard datasets: not lowered (the backend calls their ``load()``), listed for completeness.
STD_DATASETS = ("Digits", "Mnist", "Cifar10", "Cifar100", "Synthetic", "Npz", "Csv")
