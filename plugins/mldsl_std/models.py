"""Models: ``Sequential``."""
from mldsl import components as c
from mldsl import hookimpl
from mldsl import symbolic as sym


@sym.members([
    ("layers", sym.typing.List(sym.typing.Object(c.Layer), min_size=1), "The layers, applied in order."),
])
class Sequential(c.Model):
    """A linear stack of layers (like ``keras.Sequential``)."""

    type_name = "Sequential"


@hookimpl
def mldsl_components():
    return [Sequential]
