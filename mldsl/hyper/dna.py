"""DNA: the genotype of one point in a search space.

A DNA is a small immutable tree that mirrors the :class:`~mldsl.hyper.geno.Space` it was made for:

* a space (a set of independent decision points) is ``DNA(None, children=[one per decision point])``;
* a ``oneof`` decision is ``DNA(index, children=<decisions of the chosen candidate's sub-space>)``;
* a ``manyof`` decision is ``DNA(None, children=[DNA(index_j, children=<sub-space>) for each of k])``;
* a ``floatv`` decision is ``DNA(float_value)``; an ``intv`` decision is ``DNA(int_value)``.

Its JSON form is the flat list of numbers met walking that tree depth first (``to_numbers()``,
PyGlove's ``DNA.to_numbers``); turning the numbers back into a tree needs the spec
(``DNA.from_numbers(numbers, spec)``), because which decisions are active depends on the choices
made before them (conditional sub-spaces).
"""
from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence, Tuple, Union

Number = Union[int, float]


class DNA:
    """An immutable, hashable tree of decisions (see the module docstring for its shape)."""

    __slots__ = ("_value", "_children", "_hash")

    def __init__(self, value: Optional[Number] = None, children: Iterable["DNA"] = ()):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise TypeError(f"DNA value must be an int, a float or None, got {value!r}")
        children = tuple(children)
        for c in children:
            if not isinstance(c, DNA):
                raise TypeError(f"DNA children must be DNA objects, got {c!r}")
        self._value = value
        self._children = children
        self._hash: Optional[int] = None

    # -- accessors ---------------------------------------------------------------------------------
    @property
    def value(self) -> Optional[Number]:
        """The decision at this node: a candidate index, a float/int value, or None for a group."""
        return self._value

    @property
    def children(self) -> Tuple["DNA", ...]:
        """Child DNAs (decisions of a sub-space, or the k choices of a ``manyof``)."""
        return self._children

    @property
    def is_leaf(self) -> bool:
        return not self._children

    def to_numbers(self) -> list:
        """The values met in a depth-first walk (None group nodes are skipped): PyGlove's numbers."""
        out: list = []
        stack = [self]
        while stack:
            node = stack.pop()
            if node._value is not None:
                out.append(node._value)
            stack.extend(reversed(node._children))
        return out

    def to_json(self) -> list:
        """JSON-able form: the flat list of numbers (``to_numbers``)."""
        return self.to_numbers()

    @classmethod
    def from_numbers(cls, numbers: Sequence[Number], spec: Any) -> "DNA":
        """Rebuilds a DNA from its flat numbers, following ``spec`` (a ``DNASpec``)."""
        return spec.from_numbers(numbers)

    @classmethod
    def from_json(cls, json_value: Any, spec: Any) -> "DNA":
        """Inverse of :meth:`to_json` (needs the spec of the space)."""
        if isinstance(json_value, DNA):
            spec.validate(json_value)
            return json_value
        if not isinstance(json_value, (list, tuple)):
            json_value = [json_value]
        return spec.from_numbers(list(json_value))

    def replace(self, path: Sequence[int], subtree: "DNA") -> "DNA":
        """A copy with the node at ``path`` (a sequence of child indices) replaced by ``subtree``."""
        if not path:
            return subtree
        i = path[0]
        children = list(self._children)
        children[i] = children[i].replace(path[1:], subtree)
        return DNA(self._value, children)

    def at(self, path: Sequence[int]) -> "DNA":
        """The node at ``path`` (a sequence of child indices)."""
        node = self
        for i in path:
            node = node._children[i]
        return node

    # -- equality / hashing ------------------------------------------------------------------------
    def _key(self):
        return (type(self._value).__name__ if self._value is not None else None, self._value,
                self._children)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DNA):
            return NotImplemented
        return self is other or (
            self._value == other._value
            and isinstance(self._value, float) == isinstance(other._value, float)
            and self._children == other._children)

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self._key())
        return self._hash

    # -- printing ----------------------------------------------------------------------------------
    def to_literal(self) -> Any:
        """A readable nested literal, PyGlove style: a number, a list of children, or
        ``(value, child)`` / ``(value, [children])`` for a choice with sub-decisions."""
        if not self._children:
            return self._value
        kids = [c.to_literal() for c in self._children]
        if self._value is None:
            return kids
        return (self._value, kids[0] if len(kids) == 1 else kids)

    def __repr__(self) -> str:
        lit = self.to_literal()
        return f"DNA({_fmt_literal(lit)})"

    __str__ = __repr__


def _fmt_literal(lit: Any) -> str:
    if lit is None:
        return "None"
    if isinstance(lit, tuple):
        return "(" + ", ".join(_fmt_literal(x) for x in lit) + ")"
    if isinstance(lit, list):
        return "[" + ", ".join(_fmt_literal(x) for x in lit) + "]"
    return repr(lit)
