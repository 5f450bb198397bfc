"""DNASpec: the decision points of a search space (PyGlove's ``pg.geno``).

``dna_spec(space)`` (in :mod:`mldsl.hyper.space`) builds these from a symbolic value that holds hyper
primitives; this module knows nothing of symbolic values and only deals with the tree of decisions:

* :class:`Space` -- independent decision points (``elements``), each at a ``location`` relative to the
  value the space was built from;
* :class:`Choices` -- a ``oneof`` (``num_choices == 1``) or a ``manyof``: each candidate has its own
  sub-:class:`Space` (conditional: active only when the candidate is chosen);
* :class:`FloatDecision` (``floatv``) and :class:`IntDecision` (``intv``).

Every spec can count its points (``space_size``), enumerate them (``iter_dna``, for grid search),
draw one at random (``random_dna``), mutate one decision of a DNA (``mutate``), check a DNA
(``validate``) and turn a DNA into/from its flat numbers.
"""
from __future__ import annotations

import itertools
import math
import random as _random
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

from mldsl.errors import SearchError
from mldsl.hyper.dna import DNA

INF = math.inf

# A point that can be mutated: (path of child indices in the DNA tree, fn(rng) -> new subtree).
_MutationPoint = Tuple[Tuple[int, ...], Callable[[_random.Random], DNA]]


def join_path(parent: str, location: str) -> str:
    """Joins two key-path strings: ``join_path('a.b', '[1].c') == 'a.b[1].c'``."""
    if not parent:
        return location
    if not location:
        return parent
    if location.startswith("["):
        return parent + location
    return parent + "." + location


class DNASpec:
    """Base class of every node of a DNA spec.

    ``location`` is where the decision sits relative to its space; a decision shared by several
    primitives of one name also sets the value at each of ``shared_locations``."""

    location: str = ""
    parent: Optional["DNASpec"] = None

    @property
    def shared_locations(self) -> List[str]:
        shared = self.__dict__.get("_shared_locations")
        if shared is None:
            shared = self.__dict__["_shared_locations"] = []
        return shared

    @property
    def id(self) -> str:
        """Globally unique path of this node, e.g. ``training.optimizer[=1/2].learning_rate``."""
        parent = self.parent
        if parent is None:
            return self.location
        if isinstance(parent, Space) and isinstance(parent.parent, Choices):
            choices = parent.parent
            i = next(j for j, c in enumerate(choices.candidates) if c is parent)
            prefix = f"{choices.id}[={i}/{len(choices.candidates)}]"
            return join_path(prefix, self.location)
        return join_path(parent.id, self.location)

    @property
    def space_size(self) -> float:
        raise NotImplementedError

    @property
    def is_deterministic(self) -> bool:
        return self.space_size == 1

    def validate(self, dna: DNA) -> None:
        raise NotImplementedError

    def random_dna(self, rng: _random.Random) -> DNA:
        raise NotImplementedError

    def iter_dna(self, grid_size: Optional[int] = None) -> Iterator[DNA]:
        raise NotImplementedError

    def _decode(self, numbers: List[Any], pos: int) -> Tuple[DNA, int]:
        raise NotImplementedError

    def _mutation_points(self, dna: DNA, path: Tuple[int, ...]) -> List[_MutationPoint]:
        raise NotImplementedError

    def _format(self, indent: int) -> str:
        raise NotImplementedError

    def decision_points(self) -> List["DNASpec"]:
        """All decision points of this spec, including those of conditional sub-spaces (preorder)."""
        return []

    def format(self) -> str:
        return self._format(0)

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return self.format()


class Space(DNASpec):
    """A set of independent decision points: ``elements`` in the order met walking the value."""

    def __init__(self, elements: Sequence[DNASpec] = (), location: str = ""):
        self.elements: List[DNASpec] = list(elements)
        self.location = location
        self.parent = None
        for e in self.elements:
            e.parent = self

    # -- sizes -------------------------------------------------------------------------------------
    @property
    def space_size(self) -> float:
        size: float = 1
        for e in self.elements:
            s = e.space_size
            if s == 0:
                return 0
            size = size * s
        return size

    @property
    def is_deterministic(self) -> bool:
        return not self.elements

    def decision_points(self) -> List[DNASpec]:
        out: List[DNASpec] = []
        for e in self.elements:
            out.append(e)
            out.extend(e.decision_points())
        return out

    def __len__(self) -> int:
        return len(self.elements)

    def __iter__(self):
        return iter(self.elements)

    # -- DNA ---------------------------------------------------------------------------------------
    def validate(self, dna: DNA) -> None:
        """Raises SearchError when ``dna`` does not fit this space."""
        if not isinstance(dna, DNA):
            raise SearchError(f"expected a DNA, got {dna!r}")
        if dna.value is not None or len(dna.children) != len(self.elements):
            raise SearchError(
                f"DNA {dna!r} does not fit the space{_at(self)}: expected a group of "
                f"{len(self.elements)} decision(s)")
        for e, c in zip(self.elements, dna.children):
            e.validate(c)

    def random_dna(self, rng: _random.Random) -> DNA:
        return DNA(None, [e.random_dna(rng) for e in self.elements])

    def iter_dna(self, grid_size: Optional[int] = None) -> Iterator[DNA]:
        """Every DNA of the space, in lexicographic order (the last decision varies fastest)."""
        if not self.elements:
            yield DNA(None)
            return
        # Check every continuous dimension up front, so the error comes before any proposal.
        for d in self.decision_points():
            if isinstance(d, FloatDecision) and not grid_size:
                raise SearchError(
                    f"the search space has a continuous dimension {d.id!r} ({d.describe()}): "
                    f"grid search needs a `grid_size` to sweep it (e.g. grid(grid_size=5)), "
                    f"or use random/evolution")
        yield from self._iter(grid_size)

    def _iter(self, grid_size):
        iters = [list(e._iter(grid_size)) if _small(e) else None for e in self.elements]

        def rec(i: int, acc: List[DNA]) -> Iterator[DNA]:
            if i == len(self.elements):
                yield DNA(None, acc)
                return
            seq = iters[i] if iters[i] is not None else self.elements[i]._iter(grid_size)
            for d in seq:
                yield from rec(i + 1, acc + [d])

        yield from rec(0, [])

    def from_numbers(self, numbers: Sequence[Any]) -> DNA:
        """Turns a flat list of numbers (``DNA.to_numbers()``) back into a DNA of this space."""
        numbers = list(numbers)
        dna, pos = self._decode(numbers, 0)
        if pos != len(numbers):
            raise SearchError(
                f"too many numbers for this space: {numbers!r} (the space takes {pos} here)")
        return dna

    def _decode(self, numbers, pos):
        kids = []
        for e in self.elements:
            d, pos = e._decode(numbers, pos)
            kids.append(d)
        return DNA(None, kids), pos

    def first_dna(self) -> DNA:
        """The first DNA in enumeration order (continuous dimensions take their minimum)."""
        return next(self._iter(1))

    def _mutation_points(self, dna, path):
        out: List[_MutationPoint] = []
        for i, (e, c) in enumerate(zip(self.elements, dna.children)):
            out.extend(e._mutation_points(c, path + (i,)))
        return out

    def mutate(self, dna: DNA, rng: _random.Random) -> DNA:
        """A copy of ``dna`` with exactly one (randomly picked) active decision changed.

        A ``oneof`` moves to another candidate (whose sub-space, if any, is drawn at random), one of
        a ``manyof``'s k choices is replaced (keeping it distinct/sorted), a ``floatv`` is redrawn
        and an ``intv`` takes another value. A space with nothing to mutate returns ``dna``."""
        points = self._mutation_points(dna, ())
        if not points:
            return dna
        path, fn = points[rng.randrange(len(points))]
        return dna.replace(path, fn(rng))

    def dna_dict(self, dna: DNA) -> dict:
        """``{decision id: value}`` for the active decisions of ``dna`` (a choice's value is its
        candidate index; a manyof gives the list of indices)."""
        out: dict = {}
        self._collect(dna, out)
        return out

    def _collect(self, dna, out):
        for e, c in zip(self.elements, dna.children):
            e._collect(c, out)

    def _format(self, indent: int) -> str:
        pad = "  " * (indent + 1)
        lines = ["Space({"]
        for i, e in enumerate(self.elements):
            shared = "".join(f", {where!r}" for where in e.shared_locations)
            lines.append(f"{pad}{i} = {e.location!r}{shared}: {e._format(indent + 1)}")
        lines.append("  " * indent + "})")
        return "\n".join(lines)

    def __eq__(self, other):
        return isinstance(other, Space) and (self is other or self.format() == other.format())

    def __hash__(self) -> int:
        return hash(self.format())


class Choices(DNASpec):
    """``num_choices`` picks among ``candidates`` (each a sub-:class:`Space`)."""

    def __init__(self, num_choices: int, candidates: Sequence[Space], literal_values: Sequence[str],
                 distinct: bool = True, sorted: bool = False, location: str = "",
                 name: Optional[str] = None):
        self.num_choices = int(num_choices)
        self.candidates: List[Space] = list(candidates)
        self.literal_values = list(literal_values)
        self.distinct = bool(distinct)
        self.sorted = bool(sorted)
        self.location = location
        self.name = name
        self.parent = None
        for c in self.candidates:
            c.parent = self
        if not self.candidates:
            raise SearchError(f"a choice needs at least one candidate{_at(self)}")
        if self.distinct and self.num_choices > len(self.candidates):
            raise SearchError(
                f"cannot choose {self.num_choices} distinct values out of "
                f"{len(self.candidates)} candidates{_at(self)}")

    @property
    def is_multi(self) -> bool:
        return self.num_choices != 1

    # -- sizes -------------------------------------------------------------------------------------
    @property
    def space_size(self) -> float:
        sizes = [c.space_size for c in self.candidates]
        k = self.num_choices
        if any(s == INF for s in sizes):
            return INF
        if k == 1:
            return sum(sizes)
        if not self.distinct and not self.sorted:
            return sum(sizes) ** k
        if self.distinct:
            # elementary symmetric polynomial e_k(sizes)
            e = [1] + [0] * k
            for s in sizes:
                for j in range(k, 0, -1):
                    e[j] += e[j - 1] * s
            return e[k] * (1 if self.sorted else math.factorial(k))
        # sorted, not distinct: complete homogeneous symmetric polynomial h_k(sizes)
        h = [1] + [0] * k
        for s in sizes:
            for j in range(1, k + 1):
                h[j] += h[j - 1] * s
        return h[k]

    @property
    def is_deterministic(self) -> bool:
        return False

    def decision_points(self) -> List[DNASpec]:
        out: List[DNASpec] = []
        for c in self.candidates:
            out.extend(c.decision_points())
        return out

    # -- DNA ---------------------------------------------------------------------------------------
    def _check_choice(self, d: DNA) -> None:
        v = d.value
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < len(self.candidates):
            raise SearchError(
                f"DNA {d!r} does not fit {self.id!r}: expected a candidate index in "
                f"[0, {len(self.candidates) - 1}]")
        self.candidates[v].validate(DNA(None, d.children))

    def validate(self, dna: DNA) -> None:
        if not isinstance(dna, DNA):
            raise SearchError(f"expected a DNA, got {dna!r}")
        if self.num_choices == 1:
            self._check_choice(dna)
            return
        if dna.value is not None or len(dna.children) != self.num_choices:
            raise SearchError(
                f"DNA {dna!r} does not fit {self.id!r}: expected {self.num_choices} choices")
        for c in dna.children:
            self._check_choice(c)
        idx = [c.value for c in dna.children]
        if self.distinct and len(set(idx)) != len(idx):
            raise SearchError(f"DNA {dna!r} does not fit {self.id!r}: choices must be distinct")
        if self.sorted and idx != sorted(idx):
            raise SearchError(f"DNA {dna!r} does not fit {self.id!r}: choices must be sorted")

    def _choice(self, i: int, sub: DNA) -> DNA:
        return DNA(i, sub.children)

    def _random_indices(self, rng) -> List[int]:
        n, k = len(self.candidates), self.num_choices
        if self.distinct:
            idx = rng.sample(range(n), k)
        else:
            idx = [rng.randrange(n) for _ in range(k)]
        if self.sorted:
            idx.sort()
        return idx

    def random_dna(self, rng: _random.Random) -> DNA:
        if self.num_choices == 1:
            i = rng.randrange(len(self.candidates))
            return self._choice(i, self.candidates[i].random_dna(rng))
        idx = self._random_indices(rng)
        return DNA(None, [self._choice(i, self.candidates[i].random_dna(rng)) for i in idx])

    def _index_tuples(self) -> Iterator[Tuple[int, ...]]:
        n, k = len(self.candidates), self.num_choices
        r = range(n)
        if self.distinct and self.sorted:
            return itertools.combinations(r, k)
        if self.distinct:
            return itertools.permutations(r, k)
        if self.sorted:
            return itertools.combinations_with_replacement(r, k)
        return itertools.product(r, repeat=k)

    def _iter(self, grid_size):
        if self.num_choices == 1:
            for i, c in enumerate(self.candidates):
                for sub in c._iter(grid_size):
                    yield self._choice(i, sub)
            return
        for idx in self._index_tuples():
            per = [[self._choice(i, s) for s in self.candidates[i]._iter(grid_size)] for i in idx]
            for combo in itertools.product(*per):
                yield DNA(None, combo)

    def _decode_choice(self, numbers, pos):
        if pos >= len(numbers):
            raise SearchError(f"not enough numbers for this space: {numbers!r} (at {self.id!r})")
        v = numbers[pos]
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < len(self.candidates):
            raise SearchError(
                f"number {numbers[pos]!r} at position {pos} does not fit {self.id!r}: expected a "
                f"candidate index in [0, {len(self.candidates) - 1}]")
        sub, pos = self.candidates[v]._decode(numbers, pos + 1)
        return self._choice(v, sub), pos

    def _decode(self, numbers, pos):
        if self.num_choices == 1:
            return self._decode_choice(numbers, pos)
        kids = []
        for _ in range(self.num_choices):
            d, pos = self._decode_choice(numbers, pos)
            kids.append(d)
        dna = DNA(None, kids)
        self.validate(dna)
        return dna, pos

    def _mutation_points(self, dna, path):
        out: List[_MutationPoint] = []
        n = len(self.candidates)
        if self.num_choices == 1:
            cur = dna.value
            if n > 1:
                def change(rng, cur=cur):
                    i = rng.randrange(n - 1)
                    i = i + 1 if i >= cur else i
                    return self._choice(i, self.candidates[i].random_dna(rng))
                out.append((path, change))
            out.extend(self.candidates[cur]._mutation_points(DNA(None, dna.children), path))
            return out
        idx = [c.value for c in dna.children]
        for j, c in enumerate(dna.children):
            others = idx[:j] + idx[j + 1:]
            allowed = [i for i in range(n) if i != idx[j] and not (self.distinct and i in others)]
            if allowed:
                def change(rng, j=j, allowed=allowed):
                    i = allowed[rng.randrange(len(allowed))]
                    kids = list(dna.children)
                    kids[j] = self._choice(i, self.candidates[i].random_dna(rng))
                    if self.sorted:
                        kids.sort(key=lambda d: d.value)
                    return DNA(None, kids)
                out.append((path, change))
            out.extend(self.candidates[c.value]._mutation_points(DNA(None, c.children), path + (j,)))
        return out

    def _collect(self, dna, out):
        kids = [dna] if self.num_choices == 1 else list(dna.children)
        out[self.id] = dna.value if self.num_choices == 1 else [c.value for c in kids]
        for c in kids:
            self.candidates[c.value]._collect(DNA(None, c.children), out)

    def _format(self, indent: int) -> str:
        pad = "  " * (indent + 1)
        head = f"Choices(num_choices={self.num_choices}"
        if self.is_multi:
            head += f", distinct={self.distinct}, sorted={self.sorted}"
        if self.name:
            head += f", name={self.name!r}"
        lines = [head + ", ["]
        for i, (c, lit) in enumerate(zip(self.candidates, self.literal_values)):
            if c.elements:
                lines.append(f"{pad}({i}): {lit} -> {c._format(indent + 1)}")
            else:
                lines.append(f"{pad}({i}): {lit}")
        lines.append("  " * indent + "])")
        return "\n".join(lines)


class FloatDecision(DNASpec):
    """A continuous value in ``[min_value, max_value]`` (``floatv``)."""

    def __init__(self, min_value: float, max_value: float, scale: str = "linear",
                 location: str = "", name: Optional[str] = None):
        self.min_value = float(min_value)
        self.max_value = float(max_value)
        self.scale = scale
        self.location = location
        self.name = name
        self.parent = None

    @property
    def space_size(self) -> float:
        return 1 if self.min_value == self.max_value else INF

    @property
    def is_deterministic(self) -> bool:
        return False

    def describe(self) -> str:
        s = f"Float(min_value={self.min_value!r}, max_value={self.max_value!r}"
        if self.scale != "linear":
            s += f", scale={self.scale!r}"
        if self.name:
            s += f", name={self.name!r}"
        return s + ")"

    def validate(self, dna: DNA) -> None:
        v = dna.value if isinstance(dna, DNA) else None
        if (not isinstance(v, (int, float)) or isinstance(v, bool) or dna.children
                or not self.min_value <= v <= self.max_value):
            raise SearchError(
                f"DNA {dna!r} does not fit {self.id!r}: expected a float in "
                f"[{self.min_value}, {self.max_value}]")

    def _draw(self, rng) -> float:
        if self.scale == "log":
            return math.exp(rng.uniform(math.log(self.min_value), math.log(self.max_value)))
        return rng.uniform(self.min_value, self.max_value)

    def random_dna(self, rng):
        v = self._draw(rng)
        return DNA(min(max(v, self.min_value), self.max_value))

    def grid_values(self, grid_size: int) -> List[float]:
        """``grid_size`` evenly spaced values (geometrically for a log scale), ends included."""
        lo, hi = self.min_value, self.max_value
        if grid_size <= 1 or lo == hi:
            return [lo]
        if self.scale == "log":
            a, b = math.log(lo), math.log(hi)
            vals = [math.exp(a + (b - a) * i / (grid_size - 1)) for i in range(grid_size)]
        else:
            vals = [lo + (hi - lo) * i / (grid_size - 1) for i in range(grid_size)]
        vals[0], vals[-1] = lo, hi
        return vals

    def _iter(self, grid_size):
        if not grid_size:
            raise SearchError(f"grid search needs a `grid_size` for the continuous dimension "
                              f"{self.id!r} ({self.describe()})")
        for v in self.grid_values(grid_size):
            yield DNA(v)

    def _decode(self, numbers, pos):
        if pos >= len(numbers):
            raise SearchError(f"not enough numbers for this space: {numbers!r} (at {self.id!r})")
        v = numbers[pos]
        if isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        d = DNA(v) if isinstance(v, float) else None
        if d is None:
            raise SearchError(f"number {v!r} at position {pos} does not fit {self.id!r}: "
                              f"expected a float")
        self.validate(d)
        return d, pos + 1

    def _mutation_points(self, dna, path):
        if self.min_value == self.max_value:
            return []
        return [(path, self.random_dna)]

    def _collect(self, dna, out):
        out[self.id] = dna.value

    def _format(self, indent: int) -> str:
        return self.describe()


class IntDecision(DNASpec):
    """An integer in ``[min_value, max_value]`` (``intv``)."""

    def __init__(self, min_value: int, max_value: int, location: str = "",
                 name: Optional[str] = None):
        self.min_value = int(min_value)
        self.max_value = int(max_value)
        self.location = location
        self.name = name
        self.parent = None

    @property
    def space_size(self) -> int:
        return self.max_value - self.min_value + 1

    @property
    def is_deterministic(self) -> bool:
        return False

    def describe(self) -> str:
        s = f"Int(min_value={self.min_value!r}, max_value={self.max_value!r}"
        if self.name:
            s += f", name={self.name!r}"
        return s + ")"

    def validate(self, dna: DNA) -> None:
        v = dna.value if isinstance(dna, DNA) else None
        if (not isinstance(v, int) or isinstance(v, bool) or dna.children
                or not self.min_value <= v <= self.max_value):
            raise SearchError(
                f"DNA {dna!r} does not fit {self.id!r}: expected an int in "
                f"[{self.min_value}, {self.max_value}]")

    def random_dna(self, rng):
        return DNA(rng.randint(self.min_value, self.max_value))

    def grid_values(self, grid_size: Optional[int] = None) -> List[int]:
        """Every integer of the range; with ``grid_size`` smaller than the range, that many evenly
        spaced integers (both ends included)."""
        n = self.space_size
        if not grid_size or grid_size >= n:
            return list(range(self.min_value, self.max_value + 1))
        if grid_size == 1:
            return [self.min_value]
        lo, hi = self.min_value, self.max_value
        vals = sorted({round(lo + (hi - lo) * i / (grid_size - 1)) for i in range(grid_size)})
        return vals

    def _iter(self, grid_size):
        for v in self.grid_values(grid_size):
            yield DNA(v)

    def _decode(self, numbers, pos):
        if pos >= len(numbers):
            raise SearchError(f"not enough numbers for this space: {numbers!r} (at {self.id!r})")
        v = numbers[pos]
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if not isinstance(v, int) or isinstance(v, bool):
            raise SearchError(f"number {numbers[pos]!r} at position {pos} does not fit "
                              f"{self.id!r}: expected an int")
        d = DNA(v)
        self.validate(d)
        return d, pos + 1

    def _mutation_points(self, dna, path):
        n = self.space_size
        if n <= 1:
            return []

        def change(rng, cur=dna.value):
            i = rng.randrange(n - 1) + self.min_value
            return DNA(i + 1 if i >= cur else i)
        return [(path, change)]

    def _collect(self, dna, out):
        out[self.id] = dna.value

    def _format(self, indent: int) -> str:
        return self.describe()


def _small(spec: DNASpec) -> bool:
    """Whether a spec's enumeration is small enough to materialise as a list when sweeping."""
    s = spec.space_size
    return s != INF and s <= 4096


def _at(spec: DNASpec) -> str:
    try:
        where = spec.id
    except Exception:  # pragma: no cover - during construction
        where = spec.location
    return f" (at {where!r})" if where else ""
