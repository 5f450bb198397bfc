"""Layers, with Keras' argument names and defaults, and the output shapes and parameter counts Keras gives
them (``mldsl summary``)."""
import math

from mldsl import components as c
from mldsl import hookimpl
from mldsl import symbolic as sym

t = sym.typing


def _pair(value):
    """An int or ``[height, width]`` as ``(height, width)``."""
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _image(layer, input_shape):
    """``(height, width, channels)`` of an image input; a ValueError for any other shape."""
    if len(input_shape) != 3:
        raise ValueError(f"{type(layer).__name__} takes images shaped (height, width, channels), got inputs of "
                         f"shape {tuple(input_shape)}")
    return input_shape


def _window_out(size, window, stride, padding):
    """Keras' output length along one axis of a sliding window (convolution or pooling)."""
    out = -(-size // stride) if padding == "same" else (size - window) // stride + 1
    if out < 1:
        raise ValueError(f"a window of {window} does not fit in {size} values with padding \"{padding}\"")
    return out


def _windowed(layer, input_shape, window, strides, depth):
    h, w, _ = _image(layer, input_shape)
    (kh, kw), (sh, sw) = _pair(window), _pair(strides)
    return (_window_out(h, kh, sh, layer.padding), _window_out(w, kw, sw, layer.padding), depth)


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

    def output_shape(self, input_shape):
        if not input_shape:
            raise ValueError("Dense needs inputs with at least one axis")
        return (*input_shape[:-1], int(self.units))     # Keras' Dense acts on the last axis

    def count_params(self, input_shape):
        units = int(self.units)
        return input_shape[-1] * units + (units if self.use_bias else 0) + \
            c.activation_params(self.activation, self.output_shape(input_shape))


@sym.members([
    ("rate", c.FloatRange(min_value=0.0, max_value=1.0, max_inclusive=False),
     "Fraction of the inputs set to zero during training, in [0, 1)."),
    ("seed", t.Int().noneable(), "Seed of the dropout mask (None: derived from the experiment seed)."),
])
class Dropout(c.Layer):
    """Sets a random fraction ``rate`` of its inputs to zero during training (scaling the rest)."""

    type_name = "Dropout"

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def count_params(self, input_shape):
        return 0


@sym.members([])
class Flatten(c.Layer):
    """Flattens each example to a vector (keeps the batch axis)."""

    type_name = "Flatten"

    def output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def count_params(self, input_shape):
        return 0


@sym.members([
    ("activation", c.activation_spec(), "The activation: a name such as \"relu\" or a component such as "
                                        "LeakyReLU()."),
])
class Activation(c.Layer):
    """Applies an activation function as a layer of its own."""

    type_name = "Activation"

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def count_params(self, input_shape):
        return c.activation_params(self.activation, tuple(input_shape))


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

    def output_shape(self, input_shape):
        return _windowed(self, input_shape, self.kernel_size, self.strides, int(self.filters))

    def count_params(self, input_shape):
        kh, kw = _pair(self.kernel_size)
        filters = int(self.filters)
        return kh * kw * _image(self, input_shape)[2] * filters + filters + \
            c.activation_params(self.activation, self.output_shape(input_shape))


@sym.members(_CONV_FIELDS)
class SeparableConv2D(c.Layer):
    """A depthwise separable 2-D convolution: a per-channel convolution, then a 1x1 convolution."""

    type_name = "SeparableConv2D"

    def output_shape(self, input_shape):
        return _windowed(self, input_shape, self.kernel_size, self.strides, int(self.filters))

    def count_params(self, input_shape):
        kh, kw = _pair(self.kernel_size)
        channels, filters = _image(self, input_shape)[2], int(self.filters)
        return kh * kw * channels + channels * filters + filters + \
            c.activation_params(self.activation, self.output_shape(input_shape))


@sym.members([
    ("pool_size", _int_or_pair(2), "Size of the pooling window: an int or [height, width]."),
    ("strides", _int_or_pair(None), "Step of the window (None: pool_size)."),
    ("padding", t.Enum("valid", ["valid", "same"]), "\"valid\" or \"same\"."),
])
class MaxPooling2D(c.Layer):
    """2-D max pooling."""

    type_name = "MaxPooling2D"

    def output_shape(self, input_shape):
        strides = self.pool_size if self.strides is None else self.strides
        return _windowed(self, input_shape, self.pool_size, strides, _image(self, input_shape)[2])

    def count_params(self, input_shape):
        return 0


@sym.members([
    ("momentum", c.FloatRange(0.99, min_value=0.0, max_value=1.0), "Momentum of the moving mean and variance."),
    ("epsilon", c.FloatRange(1e-3, min_value=0.0, min_inclusive=False, finite=True), "Added to the variance, > 0."),
])
class BatchNormalization(c.Layer):
    """Normalises each feature with batch statistics (moving averages at inference)."""

    type_name = "BatchNormalization"

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def count_params(self, input_shape):
        return 4 * input_shape[-1]     # gamma, beta, and the moving mean and variance of the last axis


@hookimpl
def mldsl_components():
    return [Dense, Dropout, Flatten, Activation, Conv2D, SeparableConv2D, MaxPooling2D, BatchNormalization]
