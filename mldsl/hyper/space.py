"""From symbolic values with hyper primitives to DNA specs and back: ``dna_spec``, ``materialize``,
``is_deterministic``, ``iter_dna``, ``random_dna``."""
from __future__ import annotations

import copy
import re
import random as _random
from typing import Any, Iterator, List, Optional, Tuple, Union

from mldsl import symbolic as sym
from mldsl.errors import SearchError
from mldsl.hyper.dna import DNA
from mldsl.hyper.geno import Choices, DNASpec, FloatDecision, IntDecision, Space
from mldsl.hyper.primitives import FloatValue, HyperPrimitive, IntValue, ManyOf, OneOf

__all__ = ["dna_spec", "materialize", "is_deterministic", "iter_dna", "random_dna", "find_primitives",
           "SharedDecisionError"]


class SharedDecisionError(SearchError):
    """Primitives of one ``name`` that cannot be one decision; ``paths`` are where the two sit (key-path
    strings relative to the value ``dna_spec`` was given), the second being the one in conflict."""

    def __init__(self, message: str, paths: Tuple[str, str]):
        super().__init__(message)
        self.paths = paths


def find_primitives(value: Any) -> List[Tuple[sym.KeyPath, HyperPrimitive]]:
    """``[(path, primitive)]`` of the outermost primitives in ``value`` (traversal order); the paths
    are relative to ``value``. Primitives inside a primitive's candidates are not listed."""
    if isinstance(value, HyperPrimitive):
        return [(sym.KeyPath(), value)]
    if not isinstance(value, sym.Symbolic):
        return []
    out: List[Tuple[sym.KeyPath, HyperPrimitive]] = []

    def visit(path, node, parent):
        if isinstance(node, HyperPrimitive):
            out.append((path, node))
            return False
        return True

    sym.traverse(value, visit)
    return out


def is_deterministic(value: Any) -> bool:
    """True when ``value`` holds no hyper primitive (it is one concrete point, not a space)."""
    return not find_primitives(sym.as_symbolic(value))


def dna_spec(space: Any) -> Space:
    """The decision points of a search space (a symbolic value holding hyper primitives).

    ``print(dna_spec(space))`` lists them like PyGlove; ``.space_size`` counts the points (``inf``
    with a ``floatv``); ``.decision_points()`` lists all of them, conditional ones included, each with
    its ``id`` (``training.optimizer[=1/2].learning_rate``)."""
    if isinstance(space, Space):
        return space
    return _space_of(sym.as_symbolic(space))


def _space_of(value: Any) -> Space:
    """One decision per primitive, except that primitives with the same ``name`` in one space are one
    decision (PyGlove's rule for named decisions): it sits where the name first occurs and lists the
    other places as ``shared_locations``."""
    elements: List[DNASpec] = []
    named: dict = {}
    for path, p in find_primitives(value):
        first = named.get(p.name) if p.name is not None else None
        if first is None:
            element = _decision_of(p, str(path))
            elements.append(element)
            if p.name is not None:
                named[p.name] = (path, p, element)
            continue
        first_path, first_p, element = first
        if not sym.eq(first_p, p):
            raise SharedDecisionError(
                f"two decisions are named {p.name!r} but differ: {_literal(first_p)} at {str(first_path)!r} "
                f"and {_literal(p)} at {str(path)!r}; primitives sharing a name are one decision and must "
                f"be written the same (or give them different names)", (str(first_path), str(path)))
        element.shared_locations.append(str(path))
    space = Space(elements)
    _check_names_unique_across_spaces(space)
    return space


def _check_names_unique_across_spaces(space: Space) -> None:
    """A name shared by decisions of different (conditional) spaces would be two decisions under one
    name: a SharedDecisionError naming both."""
    seen: dict = {}
    for d in space.elements:
        for point in [d] + d.decision_points():
            name = getattr(point, "name", None)
            if name is None:
                continue
            other = seen.setdefault(name, point)
            if other is not point:
                raise SharedDecisionError(
                    f"decisions named {name!r} at {other.id!r} and {point.id!r} are in different branches "
                    f"of a choice, so they cannot be one decision; give them different names, or move the "
                    f"shared decision out of the choice's candidates", (_key_path(other.id), _key_path(point.id)))


def _key_path(decision_id: str) -> str:
    """A decision's id (``a[=1/2].b``) as the key path of its primitive in the space
    (``a.candidates[1].b``)."""
    return re.sub(r"\[=(\d+)/\d+\]", r".candidates[\1]", decision_id)


def _literal(value: Any) -> str:
    return sym.format(value, compact=True, hide_default_values=True)


def _decision_of(p: HyperPrimitive, location: str) -> DNASpec:
    if isinstance(p, OneOf):
        return Choices(1, [_space_of(c) for c in p.candidates], [_literal(c) for c in p.candidates],
                       location=location, name=p.name)
    if isinstance(p, ManyOf):
        return Choices(p.k, [_space_of(c) for c in p.candidates], [_literal(c) for c in p.candidates],
                       distinct=p.distinct, sorted=p.sorted, location=location, name=p.name)
    if isinstance(p, FloatValue):
        return FloatDecision(p.min_value, p.max_value, p.scale, location=location, name=p.name)
    if isinstance(p, IntValue):
        return IntDecision(p.min_value, p.max_value, location=location, name=p.name)
    raise SearchError(f"unsupported hyper primitive {type(p).__name__} at {location!r}")


def as_dna(dna: Any, spec: Space) -> DNA:
    """A validated DNA of ``spec`` from a DNA, its list of numbers (``to_json()``) or one number."""
    if isinstance(dna, DNA):
        spec.validate(dna)
        return dna
    if isinstance(dna, (list, tuple)):
        return spec.from_numbers(list(dna))
    if isinstance(dna, (int, float)) and not isinstance(dna, bool):
        return spec.from_numbers([dna])
    if dna is None:
        return spec.from_numbers([])
    raise SearchError(f"expected a DNA or its list of numbers, got {type(dna).__name__} {dna!r}")


def materialize(space: Any, dna: Union[DNA, list, int, float, None], spec: Optional[Space] = None) -> Any:
    """The concrete value that ``dna`` picks from ``space``: a validated clone in which every
    primitive is replaced by its decided value (``space`` itself is not changed).

    ``dna`` is a :class:`DNA` or its flat list of numbers (``[1, 0, 0.003]``, one per active
    decision in traversal order). ``spec`` (``dna_spec(space)``) may be passed to save recomputing it.
    A value that does not fit its field raises ValidationError naming the path."""
    value = sym.as_symbolic(space)
    spec = spec if spec is not None else dna_spec(value)
    return _materialize(value, spec, as_dna(dna, spec))


_IMMUTABLE = (type(None), bool, int, float, str)  # copy.deepcopy returns these unchanged


def _copy_value(value: Any) -> Any:
    if type(value) in _IMMUTABLE:
        return value
    if isinstance(value, sym.Symbolic):
        return value.clone(deep=True)
    return copy.deepcopy(value)


def _materialize(value: Any, space: Space, dna: DNA) -> Any:
    if isinstance(value, HyperPrimitive):
        return _decide(value, space.elements[0], dna.children[0])
    if not space.elements:
        return _copy_value(value)
    changes = []
    replaced = {}
    for element, child in zip(space.elements, dna.children):
        for location in [element.location, *element.shared_locations]:  # a shared decision: every place
            path = sym.KeyPath.parse(location)
            primitive = value.sym_get(path)
            replaced[id(primitive)] = primitive
            changes.append((path, _decide(primitive, element, child)))
    # A deep copy of the space that keeps (does not copy) the primitives it is about to replace,
    # then the decided values set in it, each validated against its field's spec. The copy is ours
    # and dropped if a value does not fit, so the values are set one by one, without the trial
    # clone that makes ``rebind`` all-or-nothing.
    out = value._sym_clone(True, replaced)
    out._sym_apply_changes(changes)
    return out


def _decide(p: HyperPrimitive, element: DNASpec, dna: DNA) -> Any:
    if isinstance(p, OneOf):
        i = dna.value
        return _materialize(p.candidates[i], element.candidates[i], DNA(None, dna.children))
    if isinstance(p, ManyOf):
        return [_materialize(p.candidates[c.value], element.candidates[c.value], DNA(None, c.children))
                for c in dna.children]
    if isinstance(p, FloatValue):
        return float(dna.value)
    if isinstance(p, IntValue):
        return int(dna.value)
    raise SearchError(f"unsupported hyper primitive {type(p).__name__}")


def iter_dna(space: Any, grid_size: Optional[int] = None) -> Iterator[DNA]:
    """Every DNA of a space (or DNA spec), in grid order. A ``floatv`` needs ``grid_size`` (that many
    evenly spaced values); otherwise this raises SearchError."""
    return dna_spec(space).iter_dna(grid_size)


def random_dna(space: Any, seed: Optional[int] = None) -> DNA:
    """One DNA drawn at random from a space (or DNA spec)."""
    return dna_spec(space).random_dna(_random.Random(seed))
