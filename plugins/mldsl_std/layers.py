"""Layers, with Keras' argument names and defaults."""
from mldsl import components as c
from mldsl import hookimpl
from mldsl import symbolic as sym

t = sym.typing


def _int_or_pair(default=sym.MISSING, doc_min=1):
    """An int, or a list of two ints (height, width), each >= ``doc_min``."""
    return t.Union([t.Int(min_value=doc_min), t.List(t.Int(min_value=doc_min), min_size=2, max_size=2)],
                   default=default)


@sym.members([
    ("units", t.Int(min_value=1), "Number of output units."),
    ("activation", c.activation_spec(None), "Activation applied to the output: a name such as \"relu\", "
                                             "an activation component such as ELU(alpha=0.5), or None."),
    ("use_bias", t.Bool(True), "Whether to add a learned bias."),
    ("kernel_initializer", t.Str("glorot_uniform"), "Initializer of the weight matrix (Keras name)."),
    ("kernel_regularizer", t.Object(c.Regularizer).noneable(), "Penalty on the weights, e.g. L2(0.01)."),
])
class Dense(c.Layer):
    """A fully connected layer: ``activation(x @ kernel + bias)``."""

    type_name = "Dense"


@sym.members([
    ("rate", c.FloatRange(min_value=0.0, max_value=1.0, max_inclusive=False),
     "Fraction of the inputs set to zero during training, in [0, 1)."),
    ("seed", t.Int().noneable(), "Seed of the dropout mask (None: derived from the experiment seed)."),
])
class Dropout(c.Layer):
    """Sets a random fraction ``rate`` of its inputs to zero during training (scaling the rest)."""

    type_name = "Dropout"


@sym.members([])
class Flatten(c.Layer):
    """Flattens each example to a vector (keeps the batch axis)."""

    type_name = "Flatten"


@sym.members([
    ("activation", c.activation_spec(), "The activation: a name such as \"relu\" or a component such as "
                                        "LeakyReLU()."),
])
class Activation(c.Layer):
    """Applies an activation function as a layer of its own."""

    type_name = "Activation"


_CONV_FIELDS = [
    ("filters", t.Int(min_value=1), "Number of output channels."),
    ("kernel_size", _int_or_pair(), "Size of the convolution window: an int or [height, width]."),
    ("strides", _int_or_pair(1), "Step of the window: an int or [height, width]."),
    ("padding", t.Enum("valid", ["valid", "same"]), "\"valid\" (no padding) or \"same\" (keep the size)."),
    ("activation", c.activation_spec(None), "Activation applied to the output, or None."),
]


@sym.members(_CONV_FIELDS)
class Conv2D(c.Layer):
    """A 2-D convolution over images shaped (height, width, channels)."""

    type_name = "Conv2D"


@sym.members(_CONV_FIELDS)
class SeparableConv2D(c.Layer):
    """A depthwise separable 2-D convolution: a per-channel convolution, then a 1x1 convolution."""

    type_name = "SeparableConv2D"


@sym.members([
    ("pool_size", _int_or_pair(2), "Size of the pooling window: an int or [height, width]."),
    ("strides", _int_or_pair(None), "Step of the window (None: pool_size)."),
    ("padding", t.Enum("valid", ["valid", "same"]), "\"valid\" or \"same\"."),
])
class MaxPooling2D(c.Layer):
    """2-D max pooling."""

    type_name = "MaxPooling2D"


@sym.members([
    ("momentum", c.FloatRange(0.99, min_value=0.0, max_value=1.0), "Momentum of the moving mean and variance."),
    ("epsilon", c.FloatRange(1e-3, min_value=0.0, min_inclusive=False, finite=True), "Added to the variance, > 0."),
])
class BatchNormalization(c.Layer):
    """Normalises each feature with batch statistics (moving averages at inference)."""

    type_name = "BatchNormalization"


@hookimpl
def mldsl_components():
    return [Dense, Dropout, Flatten, Activation, Conv2D, SeparableConv2D, MaxPooling2D, BatchNormalization]
