"""How the standard components run on the native backend (``mldsl_lowerings("native")``, see
:mod:`mldsl_std.backends`): each maps a component to the specs of :mod:`mldsl.backends.native.plan`.

Written against the public API only, as a third-party plugin's would be (``mldsl-hello`` does the same):
the plan's spec classes, the lowering context's helpers (``ctx.layers``, ``ctx.activation``,
``ctx.regularizer``) and the kernels' catalogue for the optimizers' Keras defaults and the regularizers'
factors. Components the native backend cannot run
(Conv2D, PReLU, ...) have no entry, so the backend names them in its error.
"""
from mldsl.backends.native.plan import (ActivationSpec, DenseSpec, DropoutSpec, EarlyStoppingSpec, FlattenSpec,
                                        LossSpec, MetricSpec, OptimizerSpec, RegularizerSpec)
from mldsl.kernels.catalogue import OPTIMIZERS, REGULARIZERS
from mldsl_std import activations as a
from mldsl_std import callbacks, layers, losses, metrics, models, optimizers, regularizers


def _sequential(c, ctx):
    specs = []
    for child in c.layers:
        specs.extend(ctx.layers(child))
    return specs


def _dense(c, ctx):
    act = ctx.activation(c.activation)
    penalty = ctx.regularizer(c.kernel_regularizer)
    return DenseSpec(int(c.units), act.activation, penalty.l2, bool(c.use_bias), str(c.kernel_initializer),
                     act.alpha, l1=penalty.l1)


def _regularizer(name):
    def lower(c, ctx):
        regularizer = REGULARIZERS[name]
        l1, l2 = regularizer.factors(**{arg: float(c.sym_get(arg)) for arg in regularizer.defaults})
        return RegularizerSpec(l1=l1, l2=l2)
    return lower


def _dropout(c, ctx):
    return DropoutSpec(float(c.rate), None if c.seed is None else int(c.seed))


def _activation_layer(c, ctx):
    return ctx.activation(c.activation)


def _function(c, ctx):
    """An activation component that is one of the catalogue's functions (``type(c).function_name``)."""
    return ActivationSpec(type(c).function_name)


def _optimizer(name, c, ctx):
    return OptimizerSpec(name, **OPTIMIZERS[name].settings(lambda key: getattr(c, key)))


def _loss(name):
    def lower(c, ctx):
        return LossSpec(name, bool(getattr(c, "from_logits", False)))
    return lower


def _early_stopping(c, ctx):
    return EarlyStoppingSpec(str(c.monitor), int(c.patience), float(c.min_delta), str(c.mode),
                             bool(c.restore_best_weights))


#: component class -> native lowering ``fn(component, ctx)``.
LOWERINGS = {
    models.Sequential: _sequential,
    layers.Dense: _dense,
    layers.Dropout: _dropout,
    layers.Flatten: lambda c, ctx: FlattenSpec(),
    layers.Activation: _activation_layer,
    **{cls: _function for cls in a.function_activations()},
    a.ELU: lambda c, ctx: ActivationSpec("elu", float(c.alpha)),
    a.LeakyReLU: lambda c, ctx: ActivationSpec("leaky_relu", float(c.negative_slope)),
    a.GELU: lambda c, ctx: ActivationSpec("gelu_tanh" if c.approximate else "gelu"),
    optimizers.SGD: lambda c, ctx: _optimizer("sgd", c, ctx),
    optimizers.Adam: lambda c, ctx: _optimizer("adam", c, ctx),
    optimizers.RMSprop: lambda c, ctx: _optimizer("rmsprop", c, ctx),
    optimizers.Adagrad: lambda c, ctx: _optimizer("adagrad", c, ctx),
    losses.SparseCategoricalCrossentropy: _loss("sparse_categorical_crossentropy"),
    losses.CategoricalCrossentropy: _loss("categorical_crossentropy"),
    losses.MeanSquaredError: _loss("mse"),
    metrics.SparseCategoricalAccuracy: lambda c, ctx: MetricSpec(str(c.name)),
    metrics.Accuracy: lambda c, ctx: MetricSpec(str(c.name)),
    regularizers.L1: _regularizer("L1"),
    regularizers.L2: _regularizer("L2"),
    regularizers.L1L2: _regularizer("L1L2"),
    callbacks.EarlyStopping: _early_stopping,
}
