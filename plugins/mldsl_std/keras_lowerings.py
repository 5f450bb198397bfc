"""How the standard components run on the Keras backend (``mldsl_lowerings("keras")``, see
:mod:`mldsl_std.backends`): each maps a component to a Keras 3 object, with Keras' argument names.

Written against the public API only, as a third-party plugin's would be: the lowering context
(:class:`mldsl.backends.keras.lowering.LoweringContext`: ``ctx.keras``, ``ctx.layers``, ``ctx.activation``,
``ctx.regularizer``, ``ctx.target_encoding``), :func:`mldsl.backends.keras.ApproximateGELU` and the kernels'
catalogue (Keras' names of the activations). Importing this module does not import TensorFlow.
"""
from mldsl.kernels.catalogue import ACTIVATIONS, OPTIMIZERS
from mldsl_std import activations as a
from mldsl_std import callbacks, layers, losses, metrics, models, optimizers, regularizers


def _ints(value):
    """An int stays an int; a list of ints becomes a tuple (Keras' kernel_size/strides/pool_size)."""
    if isinstance(value, (list, tuple)):
        return tuple(int(v) for v in value)
    return None if value is None else int(value)


def _where(c):
    path = str(getattr(c, "sym_path", "") or "")
    return f" at {path}.activation" if path else ""


def _sequential(c, ctx):
    keras = ctx.keras
    stack = []
    for child in c.layers:
        stack.extend(ctx.layers(child))
    return keras.Sequential([keras.Input(shape=ctx.input_shape)] + stack, name="sequential")


def _dense(c, ctx):
    act, extra = ctx.activation(c.activation, _where(c))
    layer = ctx.keras.layers.Dense(int(c.units), activation=act, use_bias=bool(c.use_bias),
                                   kernel_initializer=c.kernel_initializer,
                                   kernel_regularizer=ctx.regularizer(c.kernel_regularizer))
    return [layer] + extra


def _dropout(c, ctx):
    return ctx.keras.layers.Dropout(float(c.rate), seed=None if c.seed is None else int(c.seed))


def _activation_layer(c, ctx):
    act, extra = ctx.activation(c.activation, _where(c))
    return [ctx.keras.layers.Activation(act)] if act is not None else extra


def _conv(keras_cls_name):
    def lower(c, ctx):
        act, extra = ctx.activation(c.activation, _where(c))
        cls = getattr(ctx.keras.layers, keras_cls_name)
        return [cls(int(c.filters), _ints(c.kernel_size), strides=_ints(c.strides), padding=c.padding,
                    activation=act)] + extra
    return lower


def _max_pooling(c, ctx):
    return ctx.keras.layers.MaxPooling2D(pool_size=_ints(c.pool_size), strides=_ints(c.strides), padding=c.padding)


def _batch_norm(c, ctx):
    return ctx.keras.layers.BatchNormalization(momentum=float(c.momentum), epsilon=float(c.epsilon))


def _function(c, ctx):
    """An activation component that is one of the catalogue's functions, as Keras names it."""
    return ctx.keras.layers.Activation(ACTIVATIONS[type(c).function_name].keras)


def _gelu(c, ctx):
    if c.approximate:
        from mldsl.backends.keras import ApproximateGELU  # imports Keras

        return ApproximateGELU()
    return ctx.keras.layers.Activation("gelu")


def _optimizer(keras_name):
    def lower(c, ctx):
        entry = next(o for o in OPTIMIZERS.values() if o.keras == keras_name)
        return getattr(ctx.keras.optimizers, keras_name)(**entry.settings(lambda key: getattr(c, key)))
    return lower


def _sparse_cce(c, ctx):
    ctx.target_encoding = "sparse"
    return ctx.keras.losses.SparseCategoricalCrossentropy(from_logits=bool(c.from_logits))


def _cce(c, ctx):
    ctx.target_encoding = "one_hot"
    return ctx.keras.losses.CategoricalCrossentropy(from_logits=bool(c.from_logits))


def _mse(c, ctx):
    # several outputs: compared with one-hot labels; one output: with the label itself (as the native
    # backend does)
    ctx.target_encoding = "raw" if ctx.output_units == 1 else "one_hot"
    return ctx.keras.losses.MeanSquaredError()


def _accuracy_metric(c, ctx):
    """Both std accuracy metrics, matched to the targets as the native backend counts hits.

    Class-index or one-hot targets: the arg-max of the output is the label (Keras'
    ``SparseCategoricalAccuracy``/``CategoricalAccuracy``; ``Accuracy`` then means what the string
    ``"accuracy"`` means in Keras). A one-output regression (``"raw"`` targets): exact matches
    (Keras' ``Accuracy``).
    """
    name = str(c.name)
    keras_metrics = ctx.keras.metrics
    if ctx.target_encoding == "one_hot":
        return keras_metrics.CategoricalAccuracy(name=name)
    if ctx.target_encoding == "raw":
        return keras_metrics.Accuracy(name=name)
    return keras_metrics.SparseCategoricalAccuracy(name=name)


def _early_stopping(c, ctx):
    return ctx.keras.callbacks.EarlyStopping(monitor=str(c.monitor), patience=int(c.patience),
                                             min_delta=float(c.min_delta), mode=str(c.mode),
                                             restore_best_weights=bool(c.restore_best_weights))


#: component class -> Keras lowering ``fn(component, ctx)``.
LOWERINGS = {
    models.Sequential: _sequential,
    layers.Dense: _dense,
    layers.Dropout: _dropout,
    layers.Flatten: lambda c, ctx: ctx.keras.layers.Flatten(),
    layers.Activation: _activation_layer,
    layers.Conv2D: _conv("Conv2D"),
    layers.SeparableConv2D: _conv("SeparableConv2D"),
    layers.MaxPooling2D: _max_pooling,
    layers.BatchNormalization: _batch_norm,
    **{cls: _function for cls in a.function_activations()},
    a.ReLU: lambda c, ctx: ctx.keras.layers.ReLU(),
    a.Softmax: lambda c, ctx: ctx.keras.layers.Softmax(),
    a.ELU: lambda c, ctx: ctx.keras.layers.ELU(alpha=float(c.alpha)),
    a.LeakyReLU: lambda c, ctx: ctx.keras.layers.LeakyReLU(negative_slope=float(c.negative_slope)),
    a.GELU: _gelu,
    a.PReLU: lambda c, ctx: ctx.keras.layers.PReLU(),
    optimizers.SGD: _optimizer("SGD"),
    optimizers.Adam: _optimizer("Adam"),
    optimizers.RMSprop: _optimizer("RMSprop"),
    optimizers.Adagrad: _optimizer("Adagrad"),
    losses.SparseCategoricalCrossentropy: _sparse_cce,
    losses.CategoricalCrossentropy: _cce,
    losses.MeanSquaredError: _mse,
    metrics.SparseCategoricalAccuracy: _accuracy_metric,
    metrics.Accuracy: _accuracy_metric,
    regularizers.L1: lambda c, ctx: ctx.keras.regularizers.L1(float(c.l1)),
    regularizers.L2: lambda c, ctx: ctx.keras.regularizers.L2(float(c.l2)),
    regularizers.L1L2: lambda c, ctx: ctx.keras.regularizers.L1L2(float(c.l1), float(c.l2)),
    callbacks.EarlyStopping: _early_stopping,
}
