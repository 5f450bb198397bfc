"""Optimizer state over the trainer's flat parameter buffer.

The parameters of all layers live in one flat array (each layer's W and b are adjacent views), and so
do the gradients and every state buffer. The trainer updates a layer's segment right after that
layer's backward pass (its dX has been computed by then, so this equals updating everything at the
end of the step), while its gradient is still in cache and just before the next step needs the first
layer's weights again.
"""
from __future__ import annotations

from typing import Any, List, Tuple

import numpy as np


class FlatOptimizer:
    """Keras-semantics optimizer over ``params`` (flat); state buffers are allocated once here."""

    def __init__(self, K: Any, spec: Any, params: np.ndarray, grads: np.ndarray):
        self.K = K
        self.name = spec.name
        self.h = dict(spec.hyper)
        self.params, self.grads = params, grads
        self.iterations = 0
        h = self.h
        states: List[np.ndarray] = []
        if self.name == "sgd":
            if h["momentum"] != 0:
                states = [np.zeros_like(params)]
        elif self.name == "adam":
            states = [np.zeros_like(params), np.zeros_like(params)]
        elif self.name == "rmsprop":
            states = [np.zeros_like(params)] + ([np.zeros_like(params)] if h["momentum"] > 0 else [])
        elif self.name == "adagrad":
            states = [np.full_like(params, h["initial_accumulator_value"])]
        else:  # pragma: no cover - the plan validates names
            raise ValueError(self.name)
        self.states = states
        self._segments: dict = {}

    @property
    def learning_rate(self) -> float:
        return float(self.h["learning_rate"])

    def segment(self, lo: int, hi: int) -> Tuple[np.ndarray, ...]:
        """Views (params, grads, *states)[lo:hi], built once per segment."""
        seg = self._segments.get((lo, hi))
        if seg is None:
            seg = self._segments[(lo, hi)] = tuple(a[lo:hi] for a in (self.params, self.grads, *self.states))
        return seg

    def update_rule(self) -> Tuple[str, dict, List[np.ndarray]]:
        """``(update, hyper, states)`` for the compiled step: the update kernel's name ("sgd", "momentum",
        "nesterov", "adam", "rmsprop" or "adagrad"), the settings and the state buffers, in the order
        :meth:`update` passes them."""
        h, name = self.h, self.name
        if name == "sgd":
            name = "sgd" if not self.states else ("nesterov" if h["nesterov"] else "momentum")
        return name, h, self.states

    def begin_step(self) -> None:
        """Counts one optimizer step (Adam's bias correction uses the 1-based count)."""
        self.iterations += 1

    def update(self, lo: int = 0, hi: int = -1) -> None:
        """Applies this step's update to ``params[lo:hi]`` from ``grads[lo:hi]`` (default: all)."""
        if hi < 0:
            hi = self.params.size
        K, h = self.K, self.h
        p, g, *s = self.segment(lo, hi)
        lr = h["learning_rate"]
        if self.name == "adam":
            K.adam_update(p, g, s[0], s[1], lr, h["beta_1"], h["beta_2"], h["epsilon"], self.iterations)
        elif self.name == "sgd":
            if not s:
                K.sgd_update(p, g, lr)
            elif h["nesterov"]:
                K.nesterov_update(p, g, s[0], lr, h["momentum"])
            else:
                K.momentum_update(p, g, s[0], lr, h["momentum"])
        elif self.name == "rmsprop":
            K.rmsprop_update(p, g, s[0], lr, h["rho"], h["epsilon"], h["momentum"], s[1] if len(s) > 1 else None)
        else:
            K.adagrad_update(p, g, s[0], lr, h["epsilon"])

    def step(self, grads: Any = None) -> None:
        """One whole step: count it and update every parameter from ``grads`` (default: the trainer's
        gradient buffer, which ``MLPTrainer.gradients`` fills)."""
        if grads is not None and grads is not self.grads:
            np.copyto(self.grads, grads)
        self.begin_step()
        self.update()
