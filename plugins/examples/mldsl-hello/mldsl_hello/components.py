"""The ``HelloDense`` layer component."""
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


@hookimpl
def mldsl_components():
    return [HelloDense]
