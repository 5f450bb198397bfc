"""Weight regularizers, with Keras' names, arguments and defaults (from the native stack's catalogue,
:data:`mldsl.kernels.catalogue.REGULARIZERS`; what they add to the loss is its ``PENALTY``)."""
from mldsl import components as c
from mldsl import hookimpl
from mldsl import symbolic as sym
from mldsl.kernels.catalogue import REGULARIZERS

_DOCS = {"l1": "Factor of the sum of absolute weights, >= 0.", "l2": "Factor of the sum of squared weights, >= 0."}


def _factors(name: str):
    return [(arg, c.FloatRange(default, min_value=0.0, finite=True), _DOCS[arg])
            for arg, default in REGULARIZERS[name].defaults.items()]


@sym.members(_factors("L1"))
class L1(c.Regularizer):
    """Adds ``l1 * sum(|w|)`` to the loss."""

    type_name = "L1"


@sym.members(_factors("L2"))
class L2(c.Regularizer):
    """Adds ``l2 * sum(w ** 2)`` to the loss."""

    type_name = "L2"


@sym.members(_factors("L1L2"))
class L1L2(c.Regularizer):
    """Adds ``l1 * sum(|w|) + l2 * sum(w ** 2)`` to the loss."""

    type_name = "L1L2"


@hookimpl
def mldsl_components():
    return [L1, L2, L1L2]
