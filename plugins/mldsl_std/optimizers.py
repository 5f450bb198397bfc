"""Optimizers, with Keras' argument names and defaults."""
from mldsl import components as c
from mldsl import hookimpl
from mldsl import symbolic as sym

t = sym.typing


def _lr(default):
    return ("learning_rate", c.FloatRange(default, min_value=0.0, min_inclusive=False, finite=True),
            "Step size, > 0.")


def _epsilon():
    return ("epsilon", c.FloatRange(1e-7, min_value=0.0, finite=True), "Small constant for numerical stability.")


def _decay(name, default, doc):
    return (name, c.FloatRange(default, min_value=0.0, max_value=1.0, max_inclusive=False), doc)


@sym.members([
    _lr(0.01),
    ("momentum", c.FloatRange(0.0, min_value=0.0, max_value=1.0), "Momentum factor in [0, 1]."),
    ("nesterov", t.Bool(False), "Use Nesterov momentum."),
])
class SGD(c.Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum."""

    type_name = "SGD"


@sym.members([
    _lr(0.001),
    _decay("beta_1", 0.9, "Decay of the first-moment estimate, in [0, 1)."),
    _decay("beta_2", 0.999, "Decay of the second-moment estimate, in [0, 1)."),
    _epsilon(),
])
class Adam(c.Optimizer):
    """Adam: adaptive moment estimation."""

    type_name = "Adam"


@sym.members([
    _lr(0.001),
    _decay("rho", 0.9, "Decay of the moving average of squared gradients, in [0, 1)."),
    ("momentum", c.FloatRange(0.0, min_value=0.0, max_value=1.0), "Momentum factor in [0, 1]."),
    _epsilon(),
])
class RMSprop(c.Optimizer):
    """RMSprop: divides the gradient by a moving average of its recent magnitude."""

    type_name = "RMSprop"


@sym.members([
    _lr(0.001),
    ("initial_accumulator_value", c.FloatRange(0.1, min_value=0.0, finite=True),
     "Starting value of the accumulators, >= 0."),
    _epsilon(),
])
class Adagrad(c.Optimizer):
    """Adagrad: per-parameter learning rates scaled by accumulated squared gradients."""

    type_name = "Adagrad"


@hookimpl
def mldsl_components():
    return [SGD, Adam, RMSprop, Adagrad]
