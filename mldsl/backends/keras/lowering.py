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

A component's lowering is the plugin registry's ``lowering("keras", cls)``: what plugins return from their
``mldsl_lowerings(backend)`` hook for ``backend == "keras"`` (the standard library's are in
:mod:`mldsl_std.keras_lowerings`); this module knows no component by name. A lowering registered for a
class also serves its subclasses (the registry's rule). A component without one is a
:class:`BackendError` naming it, its path and listing what Keras can run.

Data conventions the backend applies around the lowerings: ``(n, h, w)`` images get a channel axis
when the model has an image layer (a component whose name ends in ``2D``); the model's output must be a
vector per example (else: "put a Flatten() layer before the first Dense"), as on the native backend.

Only call this module's functions after :func:`mldsl.backends.keras._runtime.import_keras` (they use
``ctx.keras``); importing the module itself does not import TensorFlow.
"""
from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence, Tuple

from mldsl.backends.base import path_of, takes_context, type_name_of
from mldsl.components import ACTIVATION_NAMES
from mldsl.errors import BackendError
from mldsl.symbolic import MISSING as _MISSING  # absent fields read as their default

LowerFn = Callable[[Any, "LoweringContext"], Any]

BACKEND_NAME = "keras"

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
      registry: the plugin registry, which gives every component's lowering.
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
        """The lowering function of ``component``, from the registry."""
        fn = _registry_lowering(self.registry, type(component)) if self.registry is not None else None
        if fn is None:
            raise unsupported_error(component, self.registry)
        return fn

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

        A string (``"relu"``, one of :data:`mldsl.components.ACTIVATION_NAMES`, which are Keras' names) is
        passed to Keras as is; a component (``ELU(alpha=0.5)``) becomes an activation layer placed after the
        layer, so its hyperparameters and weights (PReLU) are kept.
        """
        if value is None:
            return None, []
        if isinstance(value, str):
            if value not in ACTIVATION_NAMES:
                raise BackendError(f"unknown activation {value!r}{where}; Keras runs "
                                   + ", ".join(repr(a) for a in ACTIVATION_NAMES))
            return value, []
        return None, self.layers(value)

    def regularizer(self, value: Any) -> Any:
        """Lowers an optional regularizer component."""
        return None if value is None else self.lower(value)


def _registry_lowering(registry: Any, cls: type) -> Optional[LowerFn]:
    lookup = getattr(registry, "lowering", None)
    if lookup is None:
        return None
    try:
        return lookup(BACKEND_NAME, cls)
    except (LookupError, BackendError):
        return None
    except Exception as exc:  # a RegistryError ("no lowering") or similar: no lowering
        if type(exc).__name__ in ("RegistryError", "UnknownComponentError"):
            return None
        raise


def keras_component_names(registry: Any = None) -> List[str]:
    """DSL names of every component the Keras backend can run (those plugins registered lowerings for)."""
    names: set = set()
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
