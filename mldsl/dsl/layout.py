"""A small Wadler/Prettier-style layout engine used by the printer and the formatter.

A document is a string, a list (concatenation), or one of ``Group``, ``Indent``, ``IfBreak``,
``LineSuffix`` and the line markers ``LINE`` (space when flat), ``SOFTLINE`` (nothing when flat),
``HARDLINE`` (always a newline; breaks every enclosing group up to the nearest ``Block``) and
``BREAK_PARENT``. A ``Group`` prints flat when it fits in the width, else its lines break.
The layout depends only on the document, so printing is deterministic (a fixpoint for the formatter).
"""
from __future__ import annotations

from typing import List

WIDTH = 100
INDENT = "    "


class _Line:
    __slots__ = ("soft", "hard")

    def __init__(self, soft: bool = False, hard: bool = False) -> None:
        self.soft = soft
        self.hard = hard


LINE = _Line()
SOFTLINE = _Line(soft=True)
HARDLINE = _Line(hard=True)


class _BreakParent:
    pass


BREAK_PARENT = _BreakParent()


class Group:
    __slots__ = ("doc", "broken")

    def __init__(self, doc) -> None:
        self.doc = doc
        self.broken = False


class Indent:
    __slots__ = ("doc",)

    def __init__(self, doc) -> None:
        self.doc = doc


class IfBreak:
    """``broken`` when the enclosing group is broken, else ``flat``."""

    __slots__ = ("broken", "flat")

    def __init__(self, broken, flat="") -> None:
        self.broken = broken
        self.flat = flat


class LineSuffix:
    """Text deferred to the end of the current line (a trailing comment); breaks the parent."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class Block:
    """A region whose hard line breaks do not break the enclosing groups (a ``{ ... }`` block that
    always spans several lines, e.g. ``mnist with {``)."""

    __slots__ = ("doc",)

    def __init__(self, doc) -> None:
        self.doc = doc


def join(sep, docs) -> list:
    out: list = []
    for i, d in enumerate(docs):
        if i:
            out.append(sep)
        out.append(d)
    return out


def _propagate(doc) -> bool:
    """Marks groups containing a hard break as broken; returns whether ``doc`` has one."""
    if isinstance(doc, str):
        return False
    if isinstance(doc, list):
        found = False
        for d in doc:
            if _propagate(d):
                found = True
        return found
    if isinstance(doc, _Line):
        return doc.hard
    if isinstance(doc, (_BreakParent, LineSuffix)):
        return True
    if isinstance(doc, Group):
        if _propagate(doc.doc):
            doc.broken = True
        return doc.broken
    if isinstance(doc, Indent):
        return _propagate(doc.doc)
    if isinstance(doc, IfBreak):
        a = _propagate(doc.broken)
        b = _propagate(doc.flat)
        return a or b
    if isinstance(doc, Block):
        _propagate(doc.doc)
        return False
    raise TypeError(f"not a document: {doc!r}")


_FLAT, _BREAK = 0, 1


def _fits(item, rest: list, width: int) -> bool:
    stack = [item]
    rest_idx = len(rest) - 1
    while width >= 0:
        if not stack:
            if rest_idx < 0:
                return True
            stack.append(rest[rest_idx])
            rest_idx -= 1
            continue
        ind, mode, doc = stack.pop()
        if isinstance(doc, str):
            width -= len(doc)
        elif isinstance(doc, list):
            for d in reversed(doc):
                stack.append((ind, mode, d))
        elif isinstance(doc, _Line):
            if mode == _BREAK or doc.hard:
                return True
            if not doc.soft:
                width -= 1
        elif isinstance(doc, Group):
            if doc.broken and mode == _BREAK:
                return True  # a broken group in the rest starts a new line soon enough
            stack.append((ind, _FLAT if not doc.broken else _BREAK, doc.doc))
        elif isinstance(doc, Indent):
            stack.append((ind, mode, doc.doc))
        elif isinstance(doc, IfBreak):
            stack.append((ind, mode, doc.broken if mode == _BREAK else doc.flat))
        elif isinstance(doc, Block):
            stack.append((ind, mode, doc.doc))
    return False


def render(doc, width: int = WIDTH) -> str:
    """Lays out ``doc`` in ``width`` columns."""
    _propagate(doc)
    out: List[str] = []
    suffixes: List[str] = []
    col = 0
    stack = [(0, _BREAK, doc)]
    while stack:
        ind, mode, d = stack.pop()
        if isinstance(d, str):
            out.append(d)
            col += len(d)
        elif isinstance(d, list):
            for x in reversed(d):
                stack.append((ind, mode, x))
        elif isinstance(d, _Line):
            if mode == _FLAT and not d.hard:
                if not d.soft:
                    out.append(" ")
                    col += 1
                continue
            if suffixes:
                out.extend(suffixes)
                suffixes = []
            # strip trailing spaces before the newline
            while out and out[-1].endswith(" ") and out[-1].strip() == "":
                out.pop()
            out.append("\n" + INDENT * ind)
            col = len(INDENT) * ind
        elif isinstance(d, Group):
            if d.broken:
                stack.append((ind, _BREAK, d.doc))
            else:
                fits = _fits((ind, _FLAT, d.doc), stack, width - col)
                stack.append((ind, _FLAT if fits else _BREAK, d.doc))
        elif isinstance(d, Indent):
            stack.append((ind + 1, mode, d.doc))
        elif isinstance(d, IfBreak):
            stack.append((ind, mode, d.broken if mode == _BREAK else d.flat))
        elif isinstance(d, LineSuffix):
            suffixes.append(d.text)
        elif isinstance(d, Block):
            stack.append((ind, _BREAK, d.doc))
        elif isinstance(d, _BreakParent):
            pass
    out.extend(suffixes)
    text = "".join(out)
    return "\n".join(line.rstrip() for line in text.split("\n"))
