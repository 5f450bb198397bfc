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


@sym.members([
    ("alpha", c.FloatRange(0.25), "Initial slope for negative inputs (one learnable slope per unit)."),
])
class HelloPReLU(c.Layer):
    """A parametric ReLU, ``x if x > 0 else alpha * x``, with one learnable ``alpha`` per unit. On the native
    backend its math is this plugin's own NumPy code (:mod:`mldsl_hello.prelu`); on Keras, ``PReLU``."""

    type_name = "HelloPReLU"


@hookimpl
def mldsl_components():
    return [HelloDense, HelloPReLU]
