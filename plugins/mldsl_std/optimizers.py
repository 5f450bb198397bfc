"""Optimizers, with Keras' argument names and defaults (the defaults from the native stack's catalogue,
:data:`mldsl.kernels.catalogue.OPTIMIZERS`, which lists them once for every backend)."""
from mldsl import components as c
from mldsl import hookimpl
from mldsl import symbolic as sym
from mldsl.kernels.catalogue import OPTIMIZERS

t = sym.typing


def _lr(optimizer):
    return ("learning_rate", c.FloatRange(OPTIMIZERS[optimizer].defaults["learning_rate"], min_value=0.0,
                                          min_inclusive=False, finite=True), "Step size, > 0.")


def _epsilon(optimizer):
    return ("epsilon", c.FloatRange(OPTIMIZERS[optimizer].defaults["epsilon"], min_value=0.0, finite=True),
            "Small constant for numerical stability.")


def _decay(optimizer, name, doc):
    return (name, c.FloatRange(OPTIMIZERS[optimizer].defaults[name], min_value=0.0, max_value=1.0,
                               max_inclusive=False), doc)


def _momentum(optimizer):
    return ("momentum", c.FloatRange(OPTIMIZERS[optimizer].defaults["momentum"], min_value=0.0, max_value=1.0),
            "Momentum factor in [0, 1].")


@sym.members([
    _lr("sgd"),
    _momentum("sgd"),
    ("nesterov", t.Bool(OPTIMIZERS["sgd"].defaults["nesterov"]), "Use Nesterov momentum."),
])
class SGD(c.Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum."""

    type_name = "SGD"


@sym.members([
    _lr("adam"),
    _decay("adam", "beta_1", "Decay of the first-moment estimate, in [0, 1)."),
    _decay("adam", "beta_2", "Decay of the second-moment estimate, in [0, 1)."),
    _epsilon("adam"),
])
class Adam(c.Optimizer):
    """Adam: adaptive moment estimation."""

    type_name = "Adam"


@sym.members([
    _lr("rmsprop"),
    _decay("rmsprop", "rho", "Decay of the moving average of squared gradients, in [0, 1)."),
    _momentum("rmsprop"),
    _epsilon("rmsprop"),
])
class RMSprop(c.Optimizer):
    """RMSprop: divides the gradient by a moving average of its recent magnitude."""

    type_name = "RMSprop"


@sym.members([
    _lr("adagrad"),
    ("initial_accumulator_value", c.FloatRange(OPTIMIZERS["adagrad"].defaults["initial_accumulator_value"],
                                               min_value=0.0, finite=True), "Starting value of the accumulators, >= 0."),
    _epsilon("adagrad"),
])
class Adagrad(c.Optimizer):
    """Adagrad: per-parameter learning rates scaled by accumulated squared gradients."""

    type_name = "Adagrad"


@hookimpl
def mldsl_components():
    return [SGD, Adam, RMSprop, Adagrad]
