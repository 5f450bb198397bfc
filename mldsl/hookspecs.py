"""The plugin contract: one hook per kind of contribution a plugin can make to mldsl.

A plugin is a module (or any object) with functions decorated with :data:`hookimpl` whose names are
the hook names below. It is found through the ``mldsl`` entry-point group of an installed distribution::

    # pyproject.toml of the plugin
    [project.entry-points.mldsl]
    hello = "mldsl_hello"          # entry-point name = plugin name; value = the module to register

    # mldsl_hello/__init__.py
    import mldsl

    @mldsl.hookimpl
    def mldsl_components():
        return [ScaledDense]

A plugin module may list more of its modules to register in a ``mldsl_plugins`` tuple of module names
(like pytest's ``pytest_plugins``); each is registered as its own part of the plugin, so a failure in one
part leaves the others working.

All hooks are *collecting* hooks: every plugin implementing one is called and each call contributes its
return value; ``None`` contributes nothing. A hook implementation may take fewer arguments than the spec.
A hook that raises, or returns something malformed, makes that plugin part fail to register: it is
reported by name with its error (a warning, and in ``mldsl plugins``), and everything else still works.
Unknown hook names (a ``@hookimpl`` on a function not named after a hook below) are an error too.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, Mapping, Optional, Union

import pluggy

PROJECT_NAME = "mldsl"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: Marks a plugin's hook implementation (also exported as ``mldsl.hookimpl``).
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

Contribution = Optional[Union[Iterable[Any], Mapping[str, Any]]]


@hookspec
def mldsl_components() -> Contribution:
    """Component classes the plugin adds (models, layers, activations, optimizers, losses, metrics,
    regularizers, callbacks, experiments; datasets may come here too or through :func:`mldsl_datasets`).

    Fires once, when the registry is first built (the first ``mldsl.get_registry()`` call, e.g. when a
    ``.mlx`` file is compiled, a JSON file is loaded or ``mldsl plugins`` runs).

    Return an iterable of classes (or None). Each class must subclass one of the bases of
    :mod:`mldsl.components` (it has a ``kind`` such as ``"layer"``) and is registered under its
    ``type_name``: the name the DSL and JSON files use (``Dense(512)``, ``{"_type": "Dense"}``). Its schema
    (``cls.__schema__``) is what ``mldsl schema NAME`` prints. Every component is also reachable by its
    qualified name ``<plugin>.<type_name>`` (``std.Dense``), which is how users pick one when two plugins
    add the same name.
    """


@hookspec
def mldsl_datasets() -> Contribution:
    """Dataset component classes the plugin adds (``kind == "dataset"``, with ``load() -> DataSplits``).

    Fires once, when the registry is first built, like :func:`mldsl_components`.

    Return an iterable of :class:`mldsl.components.Dataset` subclasses (or None). They are registered as
    components of kind ``"dataset"`` (``Mnist(path="...")`` in the DSL) and listed by
    ``mldsl plugins --kind datasets``.
    """


@hookspec
def mldsl_patchers() -> Contribution:
    """Patchers the plugin adds: named, typed edits of an experiment (``'relu_to_elu'``,
    ``'scale_lr_with_batch_size?batch_size=1024'``), made with ``mldsl.patching.patcher``.

    Fires once, when the registry is first built.

    Return a mapping ``{name: patcher}`` or an iterable of patchers, each named by its ``name``
    attribute (or ``__name__``). The registry hands them to ``mldsl.patching.patch`` by name.
    """


@hookspec
def mldsl_backends() -> Contribution:
    """Backends the plugin adds: things that run an experiment (``run(experiment, *, on_epoch=None)
    -> RunResult``), chosen with ``Experiment(backend=...)`` or ``mldsl run --backend NAME``.

    Fires once, when the registry is first built. Must not import heavy frameworks (TensorFlow): return
    a lightweight object or a factory that imports them when it runs.

    Return a mapping ``{name: backend}`` or an iterable of backends named by their ``name`` attribute.
    """


@hookspec
def mldsl_algorithms() -> Contribution:
    """Search algorithms the plugin adds (``evolution(population_size=5)`` in a ``search`` block).

    Fires once, when the registry is first built.

    Return a mapping ``{name: algorithm_factory}`` or an iterable of factories named by their ``name``
    attribute (or ``__name__``). A factory is called with the keyword arguments written in the search
    block and returns an algorithm object.
    """


@hookspec
def mldsl_lowerings(backend: str) -> Optional[Mapping[Any, Any]]:
    """How the plugin's components run on backend ``backend`` (e.g. ``"native"`` or ``"keras"``).

    Fires lazily, once per backend name, the first time ``Registry.lowering(backend, cls)`` or
    ``Registry.lowerings(backend)`` is asked for that backend (typically when a backend starts to build
    a model), and for each registered backend when ``mldsl plugins`` lists contributions.

    Return a mapping ``{component_class_or_name: lowering}`` for the components the plugin can lower on
    this backend, or None when it has nothing for it. A lowering is whatever that backend consumes (as a
    rule a callable taking the symbolic component and returning the backend's object, e.g. a
    ``keras.layers.Layer``); import heavy frameworks inside the lowering, not at module level. A lowering
    registered for a class also serves its subclasses unless they have their own. Backends know no
    component by name: the standard library's components are lowered this way too (``mldsl_std``'s
    ``native_lowerings`` and ``keras_lowerings`` modules), so a component without a lowering for the
    backend is an error naming it, and ``backend="auto"`` and ``mldsl check`` read these tables.

    **The native contract** (``backend == "native"``). A lowering is ``fn(component, ctx)`` or
    ``fn(component)``; it returns specs of :mod:`mldsl.backends.native.plan` according to the component's kind:

    ============  ========================================================================================
    kind          a native lowering returns
    ============  ========================================================================================
    model         a list of layer specs (``ctx.layers(child)`` lowers each child layer)
    layer         a layer spec or a list of them: ``DenseSpec``, ``DropoutSpec``, ``FlattenSpec``,
                  ``ActivationSpec`` (the kernels), or ``NumpyLayerSpec`` for math the kernels lack (below)
    activation    an ``ActivationSpec(name, alpha)``, ``name`` one of ``mldsl.kernels.catalogue.ACTIVATIONS``
                  (``ctx.activation(value)`` turns a layer's ``activation`` field, a string or a component,
                  into one)
    optimizer     an ``OptimizerSpec(name, **hyper)`` (a name and Keras' hyperparameters, as the catalogue's
                  ``OPTIMIZERS`` lists them)
    loss          a ``LossSpec(name, from_logits)`` (a name of the catalogue's ``LOSSES``)
    metric        a ``MetricSpec(name)`` (the key the accuracy is logged under)
    regularizer   a ``RegularizerSpec(l1, l2)`` (``ctx.regularizer(value)`` lowers a ``kernel_regularizer`` field)
    callback      an ``EarlyStoppingSpec``
    ============  ========================================================================================

    **New math: a layer with its own NumPy code.** ``NumpyLayerSpec(forward, backward, params, units=None,
    name=...)`` runs on the native backend's slower per-layer path, on flat inputs ``x`` of shape
    ``(n, in_units)``, in the plan's dtype:

    ============  ========================================================================================
    field         what the plugin gives
    ============  ========================================================================================
    forward       ``forward(params, x, training) -> (y, cache)``: ``y`` of shape ``(n, units)``; ``cache``
                  is handed back to ``backward`` unchanged; ``training`` is False when evaluating
    backward      ``backward(params, cache, dy) -> (dx, grads)``, ``dy`` = dLoss/dy of the batch's loss:
                  ``dx`` = dLoss/dx (shape of ``x``) and ``grads = {name: dLoss/dparams[name]}`` (one array
                  per parameter, of its shape)
    params        ``{name: initial value}``: an array, or ``init(in_units, rng) -> array`` (``rng`` a NumPy
                  generator seeded from the experiment's seed); ``{}`` for a layer without parameters
    units         the output width; None keeps the input's
    name          what messages and ``mldsl gradcheck`` call the layer (e.g. the component's type name)
    ============  ========================================================================================

    ``params`` reach ``forward``/``backward`` as read-only arrays; the optimizer updates them with its state,
    like the Dense weights, and a run saves them to ``layer_params.npz`` beside ``weights.npz``. Each
    result is checked: a wrong shape, a missing gradient, NaN or inf, or an exception is an error naming
    the layer's path and the plugin. ``mldsl gradcheck FILE`` compares ``backward`` with central
    differences of ``forward``; run it on a model using the layer (``mldsl_hello``'s ``HelloPReLU`` is an
    example).

    Specs are plain data; the context stamps each with the component's path for error messages. The plan
    then checks that the model means on the native kernels what it means in Keras (how a cross-entropy
    reads a final softmax, ...) and refuses, naming the component, what it cannot reproduce exactly.
    """


#: Hook name -> kind of contribution (as shown by ``mldsl plugins --kind``).
HOOK_KINDS: Dict[str, str] = {
    "mldsl_components": "components",
    "mldsl_datasets": "datasets",
    "mldsl_patchers": "patchers",
    "mldsl_backends": "backends",
    "mldsl_algorithms": "algorithms",
}
