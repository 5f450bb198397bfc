"""Random search: each proposal is drawn uniformly (per decision) from the space."""
from __future__ import annotations

from typing import Optional

from mldsl.hyper.algorithm import Algorithm
from mldsl.hyper.dna import DNA
from mldsl.hyper.geno import Space


class Random(Algorithm):
    """Draws every decision independently: a uniformly chosen candidate for ``oneof``/``manyof``,
    a uniform (log-uniform for ``scale="log"``) float for ``floatv``, a uniform int for ``intv``.

    The n-th proposal depends only on ``(seed, n)``: the same seed gives the same sequence, and
    ``recover(history)`` only needs to count the proposals already made."""

    name = "random"

    def __init__(self, seed: Optional[int] = None):
        super().__init__(seed=seed)

    def _propose(self, spec: Space, n: int, rng) -> DNA:
        return spec.random_dna(rng)
