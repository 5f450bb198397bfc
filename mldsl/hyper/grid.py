"""Grid search: sweeps every point of the space once, in order, or in a seeded shuffled order when the
search's budget is smaller than the space (as Optuna's grid sampler does), so a partial sweep samples the
whole space instead of one corner of it."""
from __future__ import annotations

import itertools
import random as _random
from typing import Iterator, List, Optional, Tuple

from mldsl.errors import ValidationError
from mldsl.hyper.algorithm import Algorithm, check_int
from mldsl.hyper.dna import DNA
from mldsl.hyper.geno import Space

#: Largest grid that is walked in a shuffled order (its points are listed in memory to shuffle them);
#: a larger one is walked in order, and the search says so.
MAX_SHUFFLED_POINTS = 200_000


def grid_points(spec: Space, grid_size: Optional[int], limit: int = MAX_SHUFFLED_POINTS) -> Optional[List[DNA]]:
    """Every grid point of ``spec`` in order, or None when there are more than ``limit``."""
    points = list(itertools.islice(spec.iter_dna(grid_size), limit + 1))
    return None if len(points) > limit else points


class Grid(Algorithm):
    """Proposes every DNA of the space once, then stops (``StopIteration``).

    ``shuffle``: walk the points in a shuffled order drawn from ``seed`` (True), in lexicographic order
    (False), or (None, the default) shuffled exactly when a search's budget of trials is smaller than the
    space (:meth:`for_budget`; outside a search, in order). A continuous dimension (``floatv``) is swept at
    ``grid_size`` evenly spaced values (geometric for a log scale); without ``grid_size`` such a space is a
    SearchError at setup. ``intv`` ranges are swept in full, or at ``grid_size`` evenly spaced integers
    when the range is larger."""

    name = "grid"

    def __init__(self, grid_size: Optional[int] = None, shuffle: Optional[bool] = None,
                 seed: Optional[int] = None):
        check_int(self.name, "grid_size", grid_size, 1, allow_none=True)
        if shuffle is not None and not isinstance(shuffle, bool):
            raise ValidationError(f"{self.name}: shuffle must be true, false or None, got {shuffle!r}. "
                                  "(path=shuffle)")
        super().__init__(seed=seed)
        self._grid_size = grid_size
        self._shuffle = shuffle
        self._iter: Optional[Iterator[DNA]] = None
        self._order: Optional[List[DNA]] = None
        self._pos = 0

    @property
    def grid_size(self) -> Optional[int]:
        return self._grid_size

    @property
    def shuffle(self) -> Optional[bool]:
        return self._shuffle

    def hyper_params(self):
        # the order only matters when shuffled, so an in-order grid is recorded as it always was
        if self._shuffle:
            return {"grid_size": self._grid_size, "shuffle": True, "seed": self._seed}
        return {"grid_size": self._grid_size}

    def for_budget(self, spec: Space, trials: int, recorded: Optional[dict] = None) -> Tuple["Grid", List[str]]:
        """This grid for a search of ``trials`` trials over ``spec``, and what a person should be told.

        With ``shuffle=None`` the order is decided here: the one ``recorded`` for the study when it is
        resumed (an in-order study's record has no ``shuffle``), else shuffled exactly when ``trials`` is
        smaller than the space. A budget smaller than the space gets a note saying how many points it
        covers."""
        shuffle = self._shuffle
        if shuffle is None:
            shuffle = bool(recorded.get("shuffle")) if recorded is not None else None
        points = grid_points(spec, self._grid_size)
        size = None if points is None else len(points)
        if shuffle is None:
            shuffle = size is not None and trials < size
        made = self if shuffle == self._shuffle else type(self)(self._grid_size, shuffle, self._seed)
        notes = []
        if size is None:
            notes.append(f"grid(): the space has more than {MAX_SHUFFLED_POINTS:,} points, too many to shuffle, "
                         f"so {trials} trials walk it in order from its first point and will not cover it; "
                         "use random() or evolution(), or a smaller space or grid_size")
        elif trials < size:
            order = "a seeded shuffled order" if shuffle else "order from its first point"
            notes.append(f"grid(): {trials} trials will cover {trials} of the space's {size} points (walked in "
                         f"{order}); set trials = {size} to sweep it all")
        return made, notes

    def _reset(self) -> None:
        self._iter = None
        self._order = None
        self._pos = 0

    def _on_setup(self, spec: Space) -> None:
        # Raises SearchError now (not at the first proposal) for a continuous dimension without
        # a grid size.
        next(spec.iter_dna(self._grid_size))
        if self._shuffle:
            points = grid_points(spec, self._grid_size)
            if points is not None:
                _random.Random(f"mldsl/grid/{self._base_seed}").shuffle(points)
            self._order = points

    def _propose(self, spec: Space, n: int, rng) -> DNA:
        if self._order is not None:
            if n >= len(self._order):
                raise StopIteration
            return self._order[n]
        if self._iter is None or self._pos != n:
            self._iter = itertools.islice(spec.iter_dna(self._grid_size), n, None)
            self._pos = n
        dna = next(self._iter)  # StopIteration when the sweep is done
        self._pos += 1
        return dna
