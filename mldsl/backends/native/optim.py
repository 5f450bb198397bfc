"""Optimizer state over the trainer's flat parameter buffer.

The parameters of all layers live in one flat array (each layer's W and b are adjacent views), and so
do the gradients and every state buffer. The trainer updates a layer's segment right after that
layer's backward pass (its dX has been computed by then, so this equals updating everything at the
end of the step), while its gradient is still in cache and just before the next step needs the first
layer's weights again. Which update rule and which state buffers an optimizer has is the catalogue's
(:mod:`mldsl.kernels.catalogue`); this class only holds them.
"""
from __future__ import annotations

from typing import Any, Tuple

import numpy as np


class FlatOptimizer:
    """Keras-semantics optimizer over ``params`` (flat): the spec, its state buffers (allocated once
    here, initialised as the catalogue says) and the step count."""

    def __init__(self, K: Any, spec: Any, params: np.ndarray, grads: np.ndarray):
        self.K = K
        self.spec = spec
        self.params, self.grads = params, grads
        self.iterations = 0
        self.states = [np.full_like(params, init) for _, init in spec.states]
        self._segments: dict = {}

    @property
    def learning_rate(self) -> float:
        return self.spec.learning_rate

    def segment(self, lo: int, hi: int) -> Tuple[np.ndarray, ...]:
        """Views (params, grads, states)[lo:hi], built once per segment."""
        seg = self._segments.get((lo, hi))
        if seg is None:
            seg = self._segments[(lo, hi)] = (self.params[lo:hi], self.grads[lo:hi],
                                               [a[lo:hi] for a in self.states])
        return seg

    def begin_step(self) -> None:
        """Counts one optimizer step (Adam's bias correction uses the 1-based count)."""
        self.iterations += 1

    def update(self, lo: int = 0, hi: int = -1) -> None:
        """Applies this step's update to ``params[lo:hi]`` from ``grads[lo:hi]`` (default: all)."""
        if hi < 0:
            hi = self.params.size
        p, g, s = self.segment(lo, hi)
        self.K.optimizer_update(self.spec, p, g, s, self.iterations)

    def step(self, grads: Any = None) -> None:
        """One whole step: count it and update every parameter from ``grads`` (default: the trainer's
        gradient buffer, which ``MLPTrainer.gradients`` fills)."""
        if grads is not None and grads is not self.grads:
            np.copyto(self.grads, grads)
        self.begin_step()
        self.update()
