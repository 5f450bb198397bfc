"""Activation components; each can stand wherever an activation name can (``activation=ELU(0.5)``)."""
import math

from mldsl import components as c
from mldsl import hookimpl
from mldsl import symbolic as sym

t = sym.typing


@sym.members([])
class ReLU(c.Activation):
    """Rectified linear unit: ``max(x, 0)``."""

    type_name = "ReLU"
    function_name = "relu"


@sym.members([("alpha", t.Float(1.0), "Scale of the negative part: alpha * (exp(x) - 1).")])
class ELU(c.Activation):
    """Exponential linear unit."""

    type_name = "ELU"
    function_name = "elu"


@sym.members([("negative_slope", t.Float(0.3, min_value=0.0), "Slope for x < 0.")])
class LeakyReLU(c.Activation):
    """Leaky ReLU: ``x`` if x > 0 else ``negative_slope * x``."""

    type_name = "LeakyReLU"
    function_name = "leaky_relu"


@sym.members([])
class PReLU(c.Activation):
    """Parametric ReLU: a leaky ReLU whose slope is learned per unit."""

    type_name = "PReLU"

    def count_params(self, shape):
        """One slope per value (Keras' PReLU shares no axis)."""
        return math.prod(shape)


@sym.members([])
class Sigmoid(c.Activation):
    """Logistic sigmoid: ``1 / (1 + exp(-x))``."""

    type_name = "Sigmoid"
    function_name = "sigmoid"


@sym.members([])
class Tanh(c.Activation):
    """Hyperbolic tangent."""

    type_name = "Tanh"
    function_name = "tanh"


@sym.members([])
class Softmax(c.Activation):
    """Softmax over the last axis (turns scores into probabilities)."""

    type_name = "Softmax"
    function_name = "softmax"


@sym.members([("approximate", t.Bool(False), "Use the tanh approximation.")])
class GELU(c.Activation):
    """Gaussian error linear unit."""

    type_name = "GELU"
    function_name = "gelu"


@sym.members([])
class Swish(c.Activation):
    """Swish (SiLU): ``x * sigmoid(x)``."""

    type_name = "Swish"
    function_name = "swish"


@sym.members([])
class SELU(c.Activation):
    """Scaled exponential linear unit: ``scale * elu(x, alpha)`` with Keras' fixed alpha and scale."""

    type_name = "SELU"
    function_name = "selu"


@sym.members([])
class Softplus(c.Activation):
    """Softplus: ``log(1 + exp(x))``, a smooth ReLU."""

    type_name = "Softplus"
    function_name = "softplus"


ACTIVATIONS = [ReLU, ELU, LeakyReLU, PReLU, Sigmoid, Tanh, Softmax, GELU, Swish, SELU, Softplus]


def function_activations():
    """The activation components without parameters that are one function of the kernels' catalogue
    (``function_name``, e.g. ``Swish`` is ``swish``): each backend lowers them alike, by that name."""
    return [cls for cls in ACTIVATIONS if cls.function_name is not None and not cls.__schema__.fields]


@hookimpl
def mldsl_components():
    return ACTIVATIONS
