"""The layer components ``HelloDense`` and ``HelloPReLU``."""
from mldsl import components as c
from mldsl import hookimpl
from mldsl import symbolic as sym


@sym.members([
    ("units", sym.typing.Int(min_value=1), "Number of output units."),
    ("activation", sym.typing.Enum("relu", list(c.ACTIVATION_NAMES)), "Activation of the dense layer."),
    ("dropout", c.FloatRange(0.0, min_value=0.0, max_value=1.0, max_inclusive=False),
     "Dropout rate applied after the activation, in [0, 1) (0: no dropout)."),
])
class HelloDense(c.Layer):
    """A dense layer followed by dropout, in one component: ``Dropout(dropout)(Dense(units, activation))``."""

    type_name = "HelloDense"

    # What `mldsl summary` shows for one example of `input_shape` (the same counts as Keras).
    def output_shape(self, input_shape):
        if not input_shape:
            raise ValueError("HelloDense needs inputs with at least one axis")
        return (*input_shape[:-1], int(self.units))

    def count_params(self, input_shape):
        return input_shape[-1] * int(self.units) + int(self.units)


@sym.members([
    ("alpha", c.FloatRange(0.25), "Initial slope for negative inputs (one learnable slope per unit)."),
])
class HelloPReLU(c.Layer):
    """A parametric ReLU, ``x if x > 0 else alpha * x``, with one learnable ``alpha`` per unit. On the native
    backend its math is this plugin's own NumPy code (:mod:`mldsl_hello.prelu`); on Keras, ``PReLU``."""

    type_name = "HelloPReLU"

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def count_params(self, input_shape):
        count = 1
        for size in input_shape:  # one slope per unit, as Keras' PReLU
            count *= int(size)
        return count


@hookimpl
def mldsl_components():
    return [HelloDense, HelloPReLU]
