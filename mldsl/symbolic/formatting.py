"""``sym.format``: symbolic values as text (compact one line, or indented multi-line), and the
:class:`Formattable` mixin that gives the node types ``format()``, ``repr`` and ``str``."""
from __future__ import annotations

import math
import re
from typing import Any, Optional

from mldsl.symbolic.base import Symbolic, eq as _eq
from mldsl.symbolic.missing import MISSING

__all__ = ["format", "Formattable"]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_builtin_format = format


def format(value: Any, compact: bool = False, verbose: bool = False, hide_default_values: bool = False,
           indent: int = 2, **kwargs: Any) -> str:  # noqa: A001 - PyGlove's name
    """Text of ``value``.

    ``compact``: one line, ``Dense(units=10, activation='relu')``; otherwise one field per line.
    ``verbose``: field docstrings as ``# comment`` lines (multi-line mode).
    ``hide_default_values``: omit fields whose value equals their default.
    """
    return _Formatter(compact, verbose, hide_default_values, indent).fmt(value, 0)


class Formattable:
    """Mixin of the node types: ``format()``, one-line ``repr`` and indented ``str`` by :func:`format`."""

    def format(self, compact: bool = False, verbose: bool = False, hide_default_values: bool = False,
               **kwargs: Any) -> str:
        """Text of this value: one line (``compact``) or indented lines; ``verbose`` adds field
        docstrings as ``#`` comments; ``hide_default_values`` omits fields equal to their default."""
        return format(self, compact=compact, verbose=verbose, hide_default_values=hide_default_values,
                      **kwargs)

    def __repr__(self) -> str:
        return self.format(compact=True)

    def __str__(self) -> str:
        return self.format(compact=False)


class _Formatter:
    def __init__(self, compact: bool, verbose: bool, hide: bool, indent: int) -> None:
        self.compact, self.verbose, self.hide, self.indent = compact, verbose, hide, indent

    def entries(self, node: Symbolic) -> list[tuple[Any, Any, Optional[str]]]:
        out = []
        for key, value in node._sym_child_items():
            if self.hide and not isinstance(node, Symbolic.ListType):
                spec = node._sym_child_spec(key)
                if spec is not None and spec.has_default and _eq(value, spec.default):
                    continue
            out.append((key, value, node._sym_child_description(key)))
        return out

    def fmt(self, value: Any, level: int) -> str:
        if isinstance(value, Symbolic.ObjectType):
            items = [(k, v, d) for k, v, d in self.entries(value)]
            return self.block(type(value).__name__ + "(", ")", items, level, sep="=")
        if isinstance(value, Symbolic.DictType):
            items = [(k if _IDENT.match(k) else repr(k), v, d) for k, v, d in self.entries(value)]
            return self.block("{", "}", items, level, sep="=")
        if isinstance(value, Symbolic.ListType):
            items = [(None, v, None) for _, v, _ in self.entries(value)]
            if not self.compact and not any(isinstance(v, Symbolic) for _, v, _ in items):
                return "[" + ", ".join(self.leaf(v, level + 1) for _, v, _ in items) + "]"
            return self.block("[", "]", items, level, sep="")
        return self.leaf(value, level)

    def block(self, head: str, tail: str, items: list, level: int, sep: str) -> str:
        if not items:
            return head + tail
        if self.compact:
            parts = [(f"{k}{sep}" if k is not None else "") + self.fmt(v, level + 1) for k, v, _ in items]
            return head + ", ".join(parts) + tail
        pad = " " * (self.indent * (level + 1))
        lines = []
        for i, (k, v, doc) in enumerate(items):
            if self.verbose and doc:
                lines.extend(f"{pad}# {line}".rstrip() for line in doc.strip().splitlines())
            text = (f"{k}{sep}" if k is not None else "") + self.fmt(v, level + 1)
            lines.append(pad + text + ("," if i < len(items) - 1 else ""))
        return head + "\n" + "\n".join(lines) + "\n" + " " * (self.indent * level) + tail

    def leaf(self, value: Any, level: int) -> str:
        if value is MISSING:
            return "MISSING"
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return f"float({str(value)!r})"
        if isinstance(value, tuple):
            inner = ", ".join(self.fmt(v, level + 1) for v in value)
            return "(" + inner + ("," if len(value) == 1 else "") + ")"
        if isinstance(value, list):
            return "[" + ", ".join(self.fmt(v, level + 1) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k!r}: {self.fmt(v, level + 1)}" for k, v in value.items()) + "}"
        if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")
                                       and not isinstance(value, Symbolic)):
            return getattr(value, "__qualname__", repr(value))
        return repr(value)
