"""Runtime layers of the native trainer: each owns preallocated buffers (capacity = the largest batch)
and calls one kernel per pass. Views of the buffers for a batch size are built once and cached, so a
training step allocates no arrays.

Gradient flow: every layer has ``grad`` (dLoss/d(its output)); its ``backward`` reads it and writes
dLoss/d(its input) into the previous layer's ``grad`` (``prev_grad``), or nothing when no earlier
layer has weights.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from mldsl.kernels.catalogue import ACTIVATIONS


class RuntimeLayer:
    """Base: ``out``/``grad`` buffers of shape (capacity, units) and per-batch-size views."""

    n_params = 0

    def __init__(self, units: int, capacity: int, dtype: np.dtype, has_grad: bool):
        self.units = units
        self.out = np.empty((capacity, units), dtype)
        self.grad = np.empty((capacity, units), dtype) if has_grad else None
        self._views: dict = {}

    def views(self, n: int) -> tuple:
        v = self._views.get(n)
        if v is None:
            v = self._views[n] = self._make_views(n)
        return v

    def _make_views(self, n: int) -> tuple:
        return (self.out[:n], None if self.grad is None else self.grad[:n])

    def forward(self, x: np.ndarray, n: int, training: bool) -> np.ndarray:
        raise NotImplementedError

    def backward(self, x: np.ndarray, n: int, prev_grad: Optional[np.ndarray]) -> None:
        raise NotImplementedError


class DenseLayer(RuntimeLayer):
    """``activation(x @ W + b)``; ``W``/``b``/``dW``/``db`` are views into the trainer's flat buffers."""

    def __init__(self, K: Any, spec: Any, fan_in: int, capacity: int, dtype: np.dtype, has_grad: bool):
        super().__init__(spec.units, capacity, dtype, has_grad)
        self.K = K
        self.spec = spec
        self.fan_in = fan_in
        self.activation = spec.activation
        self.alpha = spec.alpha
        self.l1, self.l2 = float(spec.l1), float(spec.l2)
        self.z = np.empty((capacity, spec.units), dtype) if ACTIVATIONS[spec.activation].needs_x else None
        self.W = self.b = self.dW = self.db = None
        self.n_params = fan_in * spec.units + (spec.units if spec.use_bias else 0)

    def bind(self, params: np.ndarray, grads: np.ndarray, offset: int) -> int:
        """Takes its weights from ``params[offset:]`` (and grads alike); returns the next offset."""
        i, o = self.fan_in, self.units
        self.param_range = (offset, offset + self.n_params)
        self.W = params[offset:offset + i * o].reshape(i, o)
        self.dW = grads[offset:offset + i * o].reshape(i, o)
        offset += i * o
        if self.spec.use_bias:
            self.b, self.db = params[offset:offset + o], grads[offset:offset + o]
            offset += o
        return offset

    def _make_views(self, n):
        return (self.out[:n], None if self.grad is None else self.grad[:n], None if self.z is None else self.z[:n])

    def forward(self, x, n, training):
        out, _, z = self.views(n)
        self.K.dense_forward(x, self.W, self.b, out, self.activation, z, self.alpha)
        return out

    def backward(self, x, n, prev_grad):
        out, g, z = self.views(n)
        self.K.dense_backward(x, self.W, g, self.dW, self.db, prev_grad, self.activation, out, z, self.alpha)
        if self.l2:
            self.K.l2_grad(self.W, self.dW, self.l2)
        if self.l1:
            self.K.l1_grad(self.W, self.dW, self.l1)

    def penalty(self) -> float:
        """The kernel's penalty (``mldsl.kernels.catalogue.PENALTY``)."""
        return ((self.K.l1_penalty(self.W, self.l1) if self.l1 else 0.0)
                + (self.K.l2_penalty(self.W, self.l2) if self.l2 else 0.0))


class DropoutLayer(RuntimeLayer):
    """Inverted dropout with the counter-based kernel RNG; identity (no copy) when not training."""

    def __init__(self, K: Any, rate: float, seed: int, units: int, capacity: int, dtype: np.dtype, has_grad: bool):
        super().__init__(units, capacity, dtype, has_grad)
        self.K = K
        self.rate = float(rate)
        self.seed = int(seed)
        self.offset = 0
        self.mask = np.empty((capacity, units), dtype)

    def _make_views(self, n):
        return (self.out[:n], None if self.grad is None else self.grad[:n], self.mask[:n])

    def forward(self, x, n, training):
        if not training:
            return x
        out, _, mask = self.views(n)
        self.K.dropout_forward(x, out, mask, self.rate, self.seed, self.offset)
        self.offset += n * self.units
        return out

    def backward(self, x, n, prev_grad):
        if prev_grad is not None:
            _, g, mask = self.views(n)
            self.K.dropout_backward(g, mask, prev_grad)


class ActivationLayer(RuntimeLayer):
    """A standalone activation."""

    def __init__(self, K: Any, activation: str, alpha: Optional[float], units: int, capacity: int,
                 dtype: np.dtype, has_grad: bool):
        super().__init__(units, capacity, dtype, has_grad)
        self.K = K
        self.activation = activation
        self.alpha = alpha

    def forward(self, x, n, training):
        out, _ = self.views(n)
        self.K.activation_forward(self.activation, x, out, self.alpha)
        return out

    def backward(self, x, n, prev_grad):
        if prev_grad is not None:
            out, g = self.views(n)
            self.K.activation_backward(self.activation, x, out, g, prev_grad, self.alpha)
