"""Symbolic equality and hashing: ``eq``, ``ne``, ``sym_hash``.

Two symbolic values are equal when they have the same type and equal fields/items (recursively);
``nan`` equals ``nan``; a ``sym.Dict``/``sym.List`` equals a plain dict/list with equal items.
"""
from __future__ import annotations

import math
from typing import Any

__all__ = ["eq", "ne", "sym_hash"]


def eq(left: Any, right: Any) -> bool:
    """Symbolic equality of two values (symbolic or not)."""
    from mldsl.symbolic.base import Symbolic

    if left is right:
        return True
    if isinstance(left, Symbolic):
        return left.sym_eq(right)
    if isinstance(right, Symbolic):
        return right.sym_eq(left)
    if isinstance(left, float) and isinstance(right, float):
        return left == right or (math.isnan(left) and math.isnan(right))
    if isinstance(left, tuple) and isinstance(right, tuple):
        return len(left) == len(right) and all(eq(a, b) for a, b in zip(left, right))
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(eq(a, b) for a, b in zip(left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(eq(v, right[k]) for k, v in left.items())
    try:
        return bool(left == right)
    except Exception:  # noqa: BLE001 - e.g. arrays with ambiguous truth value
        return False


def ne(left: Any, right: Any) -> bool:
    """``not eq(left, right)``."""
    return not eq(left, right)


def sym_hash(value: Any) -> int:
    """A hash consistent with :func:`eq`."""
    from mldsl.symbolic.base import Symbolic

    if isinstance(value, Symbolic):
        return value.sym_hash()
    if isinstance(value, float) and math.isnan(value):
        return hash("nan")
    if isinstance(value, (tuple, list)):
        return hash(("seq", tuple(sym_hash(v) for v in value)))
    if isinstance(value, dict):
        return hash(("map", frozenset((k, sym_hash(v)) for k, v in value.items())))
    try:
        return hash(value)
    except TypeError:
        return hash(type(value).__qualname__)
