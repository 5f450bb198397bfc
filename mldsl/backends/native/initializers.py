"""Keras' kernel initializers (VarianceScaling family) on a NumPy generator, written into a buffer.

Importing this module does not import NumPy (the plan reads :data:`NAMES` when an experiment is checked).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_TRUNC_STD = 0.87962566103423978   # std of a unit normal truncated to [-2, 2] (Keras' correction)

# name -> (scale, mode, distribution)
_VARIANCE_SCALING = {
    "glorot_uniform": (1.0, "fan_avg", "uniform"),
    "glorot_normal": (1.0, "fan_avg", "normal"),
    "he_uniform": (2.0, "fan_in", "uniform"),
    "he_normal": (2.0, "fan_in", "normal"),
    "lecun_uniform": (1.0, "fan_in", "uniform"),
    "lecun_normal": (1.0, "fan_in", "normal"),
}

#: Every initializer the native backend runs (Keras' names).
NAMES = tuple(_VARIANCE_SCALING) + ("zeros", "ones")


def _truncated_normal(rng: np.random.Generator, shape, std: float) -> np.ndarray:
    import numpy as np

    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return out * std


def initialize(name: str, out: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fills the (fan_in, fan_out) kernel ``out`` in place with initializer ``name``; returns it."""
    if name == "zeros":
        out[...] = 0
        return out
    if name == "ones":
        out[...] = 1
        return out
    scale, mode, dist = _VARIANCE_SCALING[name]
    fan_in, fan_out = out.shape
    n = max(1.0, (fan_in + fan_out) / 2.0 if mode == "fan_avg" else float(fan_in))
    variance = scale / n
    if dist == "uniform":
        limit = math.sqrt(3.0 * variance)
        out[...] = rng.uniform(-limit, limit, out.shape)
    else:
        out[...] = _truncated_normal(rng, out.shape, math.sqrt(variance) / _TRUNC_STD)
    return out
