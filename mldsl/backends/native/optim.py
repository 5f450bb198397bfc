"""Optimizer state over the trainer's flat parameter buffer: one kernel call updates every weight."""
from __future__ import annotations

from typing import Any

import numpy as np


class FlatOptimizer:
    """Keras-semantics optimizer for one flat ``params`` array (state buffers allocated once here)."""

    def __init__(self, K: Any, spec: Any, params: np.ndarray):
        self.K = K
        self.name = spec.name
        self.h = dict(spec.hyper)
        self.params = params
        self.iterations = 0
        h = self.h
        if self.name == "sgd":
            self.velocity = np.zeros_like(params) if h["momentum"] != 0 else None
        elif self.name == "adam":
            self.m, self.v = np.zeros_like(params), np.zeros_like(params)
        elif self.name == "rmsprop":
            self.velocity = np.zeros_like(params)
            self.mom = np.zeros_like(params) if h["momentum"] > 0 else None
        elif self.name == "adagrad":
            self.acc = np.full_like(params, h["initial_accumulator_value"])
        else:  # pragma: no cover - the plan validates names
            raise ValueError(self.name)

    @property
    def learning_rate(self) -> float:
        return float(self.h["learning_rate"])

    def step(self, grads: np.ndarray) -> None:
        """Applies one update from ``grads`` (same layout as ``params``)."""
        self.iterations += 1
        K, h, p = self.K, self.h, self.params
        lr = h["learning_rate"]
        if self.name == "adam":
            K.adam_update(p, grads, self.m, self.v, lr, h["beta_1"], h["beta_2"], h["epsilon"], self.iterations)
        elif self.name == "sgd":
            if self.velocity is None:
                K.sgd_update(p, grads, lr)
            elif h["nesterov"]:
                K.nesterov_update(p, grads, self.velocity, lr, h["momentum"])
            else:
                K.momentum_update(p, grads, self.velocity, lr, h["momentum"])
        elif self.name == "rmsprop":
            K.rmsprop_update(p, grads, self.velocity, lr, h["rho"], h["epsilon"], h["momentum"], self.mom)
        else:
            K.adagrad_update(p, grads, self.acc, lr, h["epsilon"])
