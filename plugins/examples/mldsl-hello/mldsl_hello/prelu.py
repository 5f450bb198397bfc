"""The NumPy math of ``HelloPReLU`` on the native backend: a :class:`NumpyLayerSpec`'s forward, backward and
parameter (see the native contract on ``mldsl_lowerings`` in ``mldsl/hookspecs.py``).

``forward(params, x, training) -> (y, cache)`` and ``backward(params, cache, dy) -> (dx, grads)`` work on a
batch ``x`` of shape ``(n, units)``; ``params["alpha"]`` has shape ``(units,)`` and ``grads["alpha"]`` too.
Check them with ``mldsl gradcheck FILE``.
"""
import numpy as np


def forward(params, x, training):
    """``y = x`` where ``x > 0``, else ``alpha * x``; the cache is ``x``."""
    return np.where(x > 0, x, params["alpha"] * x), x


def backward(params, x, dy):
    """``dx = dy`` where ``x > 0``, else ``alpha * dy``; ``dalpha = sum over the batch of dy * x`` where
    ``x <= 0``."""
    negative = x <= 0
    dx = np.where(negative, params["alpha"] * dy, dy)
    return dx, {"alpha": np.where(negative, x * dy, 0.0).sum(axis=0)}


def initial_alpha(alpha):
    """The initializer of ``alpha``: ``init(in_units, rng)`` giving one slope per unit."""
    def init(units, rng):
        return np.full(units, float(alpha))
    return init
