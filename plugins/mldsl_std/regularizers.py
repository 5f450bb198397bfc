"""Weight regularizers."""
from mldsl import components as c
from mldsl import hookimpl
from mldsl import symbolic as sym


@sym.members([("l2", c.FloatRange(0.01, min_value=0.0, finite=True),
               "Factor of the sum of squared weights, >= 0.")])
class L2(c.Regularizer):
    """Adds ``l2 * sum(w ** 2)`` to the loss."""

    type_name = "L2"


@hookimpl
def mldsl_components():
    return [L2]
