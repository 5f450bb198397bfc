"""Operations over symbolic trees: ``traverse``, ``query``, ``diff``, ``clone`` (and ``eq``/``ne``)."""
from __future__ import annotations

import copy as _copy
import re
from typing import Any, Callable, Optional

from mldsl.symbolic._util import positional_arity
from mldsl.symbolic.base import Symbolic, eq, ne
from mldsl.symbolic.dict import Dict
from mldsl.symbolic.formatting import format as fmt
from mldsl.symbolic.key_path import KeyPath
from mldsl.symbolic.list import List
from mldsl.symbolic.missing import MISSING
from mldsl.symbolic.object import Object

__all__ = ["traverse", "query", "diff", "Diff", "clone", "eq", "ne", "as_symbolic"]

Visitor = Callable[[KeyPath, Any, Any], Optional[bool]]


def traverse(value: Any, preorder_visitor_fn: Optional[Visitor] = None,
             postorder_visitor_fn: Optional[Visitor] = None, root_path: Any = None) -> bool:
    """Visit every node and leaf of ``value`` with ``(key_path, value, parent)``.

    Paths are relative to ``value`` (or start at ``root_path``). A pre-order visitor returning False
    skips that node's children; a post-order visitor returning False stops the whole traversal.
    Returns True if the traversal was not stopped.
    """
    start = KeyPath.from_value(root_path)

    def visit(path: KeyPath, node: Any, parent: Any) -> bool:
        enter = True
        if preorder_visitor_fn is not None and preorder_visitor_fn(path, node, parent) is False:
            enter = False
        if enter and isinstance(node, Symbolic):
            for key, child in list(node._sym_child_items()):
                if not visit(path + key, child, node):
                    return False
        if postorder_visitor_fn is not None and postorder_visitor_fn(path, node, parent) is False:
            return False
        return True

    return visit(start, value, value.sym_parent if isinstance(value, Symbolic) else None)


def query(value: Any, path_regex: Optional[str] = None, where: Optional[Callable] = None,
          enter_selected: bool = False) -> dict[str, Any]:
    """``{str_path: value}`` (in traversal order) of the nodes under ``value`` that match.

    ``path_regex`` is searched (``re.search``) in the path string (``model.layers[1].units``);
    ``where(value)`` or ``where(value, parent)`` filters by value. The root itself is not selected.
    Selected nodes' children are not visited unless ``enter_selected`` (or no filter is given).
    """
    regex = re.compile(path_regex) if isinstance(path_regex, str) else path_regex
    two_args = where is not None and positional_arity(where) != 1
    if regex is None and where is None:
        enter_selected = True
    out: dict[str, Any] = {}

    def pre(path: KeyPath, node: Any, parent: Any) -> bool:
        if node is value and path.depth == 0:
            return True
        if regex is not None and not regex.search(str(path)):
            return True
        if where is not None and not (where(node, parent) if two_args else where(node)):
            return True
        out[str(path)] = node
        return enter_selected

    traverse(value, pre)
    return out


class Diff:
    """Where two values differ: a tree of ``Diff(left=..., right=...)`` leaves.

    ``children`` maps keys to sub-Diffs when both sides are the same kind of container (same Object
    class, both dicts, both lists); otherwise the Diff is a leaf. A Diff of equal values is empty
    (falsy, prints ``Diff()``).
    """

    def __init__(self, left: Any = MISSING, right: Any = MISSING, children: Optional[dict] = None) -> None:
        self.left = left
        self.right = right
        self.children = dict(children or {})

    @property
    def is_leaf(self) -> bool:
        """True when this Diff has no children (the two sides differ as a whole, or are equal)."""
        return not self.children

    def __bool__(self) -> bool:
        return bool(self.children) or not eq(self.left, self.right)

    def __eq__(self, other: Any) -> bool:
        return (isinstance(other, Diff) and eq(self.left, other.left) and eq(self.right, other.right)
                and self.children == other.children)

    __hash__ = None  # type: ignore[assignment]

    def flatten(self, root_path: Any = None) -> dict[str, tuple]:
        """``{str_path: (left, right)}`` of every leaf difference."""
        out: dict[str, tuple] = {}

        def walk(d: "Diff", path: KeyPath) -> None:
            if d.children:
                for k, c in d.children.items():
                    walk(c, path + k)
            elif d:
                out[str(path)] = (d.left, d.right)

        walk(self, KeyPath.from_value(root_path))
        return out

    def format(self, compact: bool = False, verbose: bool = False, hide_default_values: bool = False,
               indent: int = 2, **kwargs: Any) -> str:
        """``Dense(units=Diff(left=1, right=2))``-style text (multi-line unless ``compact``)."""
        def leaf(x: Any) -> str:
            return fmt(x, compact=True, hide_default_values=hide_default_values)

        def render(d: "Diff", level: int) -> str:
            if not d:
                return "Diff()"
            if not d.children:
                return f"Diff(left={leaf(d.left)}, right={leaf(d.right)})"
            if isinstance(d.left, Object):
                head, tail, sep = type(d.left).__name__ + "(", ")", "="
                keys = [str(k) for k in d.children]
            elif isinstance(d.left, dict):
                head, tail, sep = "{", "}", "="
                keys = [str(k) for k in d.children]
            else:
                head, tail, sep = "[", "]", ": "
                keys = [str(k) for k in d.children]
            parts = [f"{k}{sep}{render(c, level + 1)}" for k, c in zip(keys, d.children.values())]
            if compact:
                return head + ", ".join(parts) + tail
            pad = " " * (indent * (level + 1))
            return (head + "\n" + ",\n".join(pad + p for p in parts) + "\n" + " " * (indent * level) + tail)

        return render(self, 0)

    def __repr__(self) -> str:
        return self.format(compact=True)

    def __str__(self) -> str:
        return self.format(compact=False)


def diff(left: Any, right: Any) -> Diff:
    """The :class:`Diff` of two values: only where they differ (empty and falsy when equal)."""
    if eq(left, right):
        return Diff(left, right)
    children: dict = {}
    if isinstance(left, Object) and type(left) is type(right):
        for k, v in left._sym_child_items():
            d = diff(v, right._sym_values.get(k, MISSING))
            if d:
                children[k] = d
    elif isinstance(left, dict) and isinstance(right, dict):
        keys = list(left) + [k for k in right if k not in left]
        for k in keys:
            d = diff(left.get(k, MISSING), right.get(k, MISSING))
            if d:
                children[k] = d
    elif isinstance(left, list) and isinstance(right, list):
        for i in range(max(len(left), len(right))):
            d = diff(left[i] if i < len(left) else MISSING, right[i] if i < len(right) else MISSING)
            if d:
                children[i] = d
    return Diff(left, right, children)


def clone(value: Any, deep: bool = False, override: Optional[dict] = None) -> Any:
    """A copy of ``value`` (see ``Symbolic.clone``); non-symbolic values are (deep-)copied."""
    if isinstance(value, Symbolic):
        return value.clone(deep=deep, override=override)
    if override:
        raise TypeError(f"clone(override=...) needs a symbolic value, got {type(value).__name__}")
    return _copy.deepcopy(value) if deep else _copy.copy(value)


def as_symbolic(value: Any) -> Any:
    """``value`` as a symbolic node: a plain dict becomes a :class:`Dict`, a plain list a :class:`List`;
    symbolic values and everything else are returned as they are."""
    if isinstance(value, Symbolic):
        return value
    if isinstance(value, dict):
        return Dict(value)
    if isinstance(value, list):
        return List(value)
    return value
