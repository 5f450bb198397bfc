"""Grid search: sweeps every point of the space in a fixed (lexicographic) order."""
from __future__ import annotations

import itertools
from typing import Iterator, Optional

from mldsl.hyper.algorithm import Algorithm, check_int
from mldsl.hyper.dna import DNA
from mldsl.hyper.geno import Space


class Grid(Algorithm):
    """Proposes every DNA of the space once, in order, then stops (``StopIteration``).

    A continuous dimension (``floatv``) is swept at ``grid_size`` evenly spaced values (geometric
    for a log scale); without ``grid_size`` such a space is a SearchError at setup. ``intv`` ranges
    are swept in full, or at ``grid_size`` evenly spaced integers when the range is larger."""

    name = "grid"

    def __init__(self, grid_size: Optional[int] = None):
        check_int(self.name, "grid_size", grid_size, 1, allow_none=True)
        super().__init__(seed=0)
        self._grid_size = grid_size
        self._iter: Optional[Iterator[DNA]] = None
        self._pos = 0

    @property
    def grid_size(self) -> Optional[int]:
        return self._grid_size

    def hyper_params(self):
        return {"grid_size": self._grid_size}

    def _reset(self) -> None:
        self._iter = None
        self._pos = 0

    def _on_setup(self, spec: Space) -> None:
        # Raises SearchError now (not at the first proposal) for a continuous dimension without
        # a grid size.
        next(spec.iter_dna(self._grid_size))

    def _propose(self, spec: Space, n: int, rng) -> DNA:
        if self._iter is None or self._pos != n:
            self._iter = itertools.islice(spec.iter_dna(self._grid_size), n, None)
            self._pos = n
        dna = next(self._iter)  # StopIteration when the sweep is done
        self._pos += 1
        return dna
