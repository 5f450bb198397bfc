"""Lowering a symbolic experiment to a native :class:`~.plan.Plan`, through the plugin registry.

This module knows no component by name: every component (the standard library's too) is lowered by
what its plugin returns from ``mldsl_lowerings("native")`` (the contract is documented on that hook in
:mod:`mldsl.hookspecs`). It reads only the experiment's own fields (``model``, ``data``, ``training``,
``evaluation``, ``seed``) and turns what the lowerings return into a :class:`Plan`, which checks that
the native backend runs exactly the model Keras would (a :class:`BackendError` naming the component and
its path otherwise).
"""
from __future__ import annotations

from typing import Any, Callable, List, Optional

from mldsl.backends.base import path_of, takes_context, type_name_of
from mldsl.backends.native.plan import (ActivationSpec, EarlyStoppingSpec, RegularizerSpec, LossSpec, MetricSpec,
                                        NativeUnsupported, OptimizerSpec, Plan)
from mldsl.errors import BackendError
from mldsl.kernels import catalogue

BACKEND_NAME = "native"


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


class LoweringContext:
    """What a native lowering may use: lowering of child components and of activation values.

    ``registry``: the plugin registry whose ``lowering("native", cls)`` gives each component's lowering.
    """

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def lowering_for(self, component: Any) -> Callable:
        """The native lowering of ``component``; a BackendError naming it, its path and what native runs."""
        fn = self.registry.lowering(BACKEND_NAME, type(component)) if self.registry is not None else None
        if fn is None:
            raise unsupported_error(component, self.registry)
        return fn

    def lower(self, component: Any) -> Any:
        """Lowers one component; specs it returns that have a ``path`` get the component's path."""
        fn = self.lowering_for(component)
        try:
            out = fn(component, self) if takes_context(fn) else fn(component)
        except BackendError:
            raise
        except (TypeError, ValueError) as exc:
            where = f" at {path_of(component)}" if path_of(component) else ""
            raise BackendError(f"could not lower {type_name_of(component)}{where} to the native backend: "
                               f"{exc}") from exc
        owner = getattr(self.registry, "lowering_plugin", None)
        for spec in out if isinstance(out, (list, tuple)) else [out]:
            if hasattr(spec, "path") and not spec.path:
                spec.path = path_of(component)
            if hasattr(spec, "plugin") and not spec.plugin and owner is not None:
                spec.plugin = owner(BACKEND_NAME, type(component)) or ""
        return out

    def layers(self, component: Any) -> List[Any]:
        """Lowers a layer (or model) component to a flat list of layer specs."""
        out = self.lower(component)
        if out is None:
            return []
        return list(out) if isinstance(out, (list, tuple)) else [out]

    def activation(self, value: Any) -> ActivationSpec:
        """An ``activation`` field as an :class:`ActivationSpec`: None is linear, a string is a name of
        the catalogue's DSL activations, a component is lowered (it returns an ActivationSpec)."""
        if value is None:
            return ActivationSpec("linear")
        if isinstance(value, str):
            if value not in catalogue.ACTIVATION_NAMES:
                raise BackendError(f"unknown activation {value!r}; the native backend runs "
                                   f"{', '.join(catalogue.ACTIVATION_NAMES)}")
            return ActivationSpec(value)
        spec = self.lower(value)
        if not isinstance(spec, ActivationSpec):
            raise BackendError(f"the native lowering of {type_name_of(value)} returned {spec!r}, not an "
                               "ActivationSpec")
        return spec

    def regularizer(self, value: Any) -> RegularizerSpec:
        """A ``kernel_regularizer`` field as the factors of the Dense layer's penalty (None: no penalty)."""
        if value is None:
            return RegularizerSpec()
        spec = self.lower(value)
        if not isinstance(spec, RegularizerSpec):
            raise BackendError(f"the native lowering of {type_name_of(value)} returned {spec!r}, not a "
                               "RegularizerSpec")
        return spec


def native_component_names(registry: Any, kind: Optional[str] = None) -> List[str]:
    """DSL names of every component (of ``kind``, when given) with a native lowering (for messages)."""
    if registry is None:
        return []
    classes = [cls for cls in registry.lowerings(BACKEND_NAME) if kind is None or getattr(cls, "kind", None) == kind]
    return sorted({str(getattr(cls, "type_name", None) or getattr(cls, "__name__", cls)) for cls in classes})


def unsupported_error(component: Any, registry: Any) -> NativeUnsupported:
    """The error for a component with no native lowering: names it, its path, and what native runs."""
    name = type_name_of(component)
    kind = getattr(type(component), "kind", None)
    where = f" (at {path_of(component)})" if path_of(component) else ""
    runs = native_component_names(registry, kind) or native_component_names(registry)
    return NativeUnsupported(f"the native backend cannot run {kind + ' ' if kind else ''}{name}{where}; it runs "
                        f"{', '.join(runs)}. Use --backend keras for {name}, or a plugin that adds a native "
                        "lowering for it")


def _expect(value: Any, cls: type, component: Any) -> Any:
    if not isinstance(value, cls):
        raise BackendError(f"the native lowering of {type_name_of(component)} returned {value!r}, not a "
                           f"{cls.__name__}")
    return value


def lower_experiment(experiment: Any, registry: Any = None) -> Plan:
    """The :class:`Plan` of a symbolic ``Experiment`` (model, training and evaluation settings, seed).

    Raises :class:`BackendError` naming any component the native backend cannot run, or cannot run as
    Keras would."""
    if registry is None:
        from mldsl.registry import get_registry  # noqa: PLC0415

        registry = get_registry()
    ctx = LoweringContext(registry)
    model = field(experiment, "model")
    if model is None:
        raise BackendError("the experiment has no model (field 'model')")
    layers = ctx.layers(model)
    training = field(experiment, "training", {})
    evaluation = field(experiment, "evaluation", {})
    loss_c = field(training, "loss")
    loss = _expect(ctx.lower(loss_c), LossSpec, loss_c) if loss_c is not None else LossSpec(
        "sparse_categorical_crossentropy")
    optimizer_c = field(training, "optimizer")
    optimizer = _expect(ctx.lower(optimizer_c), OptimizerSpec, optimizer_c) if optimizer_c is not None \
        else OptimizerSpec("adam")
    metric_c = field(evaluation, "metric")
    metric: Optional[MetricSpec] = _expect(ctx.lower(metric_c), MetricSpec, metric_c) if metric_c is not None \
        else MetricSpec()
    early = None
    for cb in field(training, "callbacks", []) or []:
        early = _expect(ctx.lower(cb), EarlyStoppingSpec, cb)
    return Plan(layers=layers, loss=loss.name, from_logits=loss.from_logits, optimizer=optimizer,
                batch_size=int(field(training, "batch_size", 32)), epochs=int(field(training, "num_epochs", 1)),
                validation_split=float(field(training, "validation_split", 0.0)),
                eval_every=int(field(training, "eval_every", 0)), seed=int(field(experiment, "seed", 0)),
                order=str(field(training, "order", "shuffle")),
                early_stopping=early,
                eval_batch_size=int(field(evaluation, "batch_size", 256)), metric=metric.name)
