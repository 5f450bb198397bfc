"""Regularized evolution (Real et al., 2019; PyGlove's ``regularized_evolution``)."""
from __future__ import annotations

import collections
from typing import Deque, Optional, Tuple

from mldsl.errors import ValidationError
from mldsl.hyper.algorithm import Algorithm, check_int
from mldsl.hyper.dna import DNA
from mldsl.hyper.geno import Space


class Evolution(Algorithm):
    """Regularized (aging) evolution.

    The population is the ``population_size`` most recent results (skipped/failed trials do not
    enter it). Until it is full, proposals are random; after that each proposal samples
    ``tournament_size`` members, takes the one with the highest reward (the earliest on a tie) and
    mutates exactly one of its active decisions (see ``Space.mutate``). The oldest member dies as
    each new result arrives.

    Randomness for the n-th proposal comes from ``(seed, n)``, and the population is a pure function
    of the feedback received, so ``recover(history)`` (replaying the feedback in order) resumes a
    search exactly."""

    name = "evolution"

    def __init__(self, population_size: int = 100, tournament_size: int = 10,
                 seed: Optional[int] = None):
        check_int(self.name, "population_size", population_size, 1)
        check_int(self.name, "tournament_size", tournament_size, 1)
        if tournament_size > population_size:
            raise ValidationError(
                f"{self.name}: tournament_size ({tournament_size}) cannot exceed population_size "
                f"({population_size}). (path=tournament_size)")
        super().__init__(seed=seed)
        self._population_size = population_size
        self._tournament_size = tournament_size
        self._population: Deque[Tuple[DNA, float]] = collections.deque(maxlen=population_size)

    @property
    def population_size(self) -> int:
        return self._population_size

    @property
    def tournament_size(self) -> int:
        return self._tournament_size

    @property
    def population(self) -> Tuple[Tuple[DNA, float], ...]:
        """The current population: ``(dna, reward)`` pairs, oldest first."""
        return tuple(self._population)

    def hyper_params(self):
        return {"population_size": self._population_size,
                "tournament_size": self._tournament_size, "seed": self._seed}

    def _reset(self) -> None:
        self._population = collections.deque(maxlen=self._population_size)

    def _propose(self, spec: Space, n: int, rng) -> DNA:
        if len(self._population) < self._population_size:
            return spec.random_dna(rng)
        members = list(self._population)
        picks = sorted(rng.sample(range(len(members)), self._tournament_size))
        best = max(picks, key=lambda i: (members[i][1], -i))
        return spec.mutate(members[best][0], rng)

    def _on_feedback(self, dna: DNA, reward: Optional[float]) -> None:
        if reward is not None:
            self._population.append((dna, reward))
