"""The canonical shapes of ``.mlx`` constructs as layout documents (``mldsl.dsl.layout``): calls,
lists, dicts, blocks, ``with`` chains and comments. Shared by the printer (values -> ``.mlx``) and the
formatter (source -> canonical ``.mlx``)."""
from __future__ import annotations

from typing import List, Optional, Sequence

from mldsl.dsl.layout import (BREAK_PARENT, HARDLINE, LINE, SOFTLINE, Block, Group, IfBreak, Indent,
                              LineSuffix, join)


def with_comments(doc, leading: Sequence[str] = ()):
    """``doc`` preceded by own-line comments."""
    if not leading:
        return doc
    parts: list = []
    for c in leading:
        parts += [c, HARDLINE]
    parts.append(doc)
    return parts


def seq(open_: str, close: str, items: List, *, trailing: Optional[List[Optional[str]]] = None,
        dangling: Sequence[str] = (), padded: bool = False, open_comment: Optional[str] = None,
        force_break: bool = False):
    """``open item, item close`` as a group: flat when it fits, else one item per line with a
    trailing comma. ``trailing[i]`` is a comment after item i; ``dangling`` comments go last;
    ``open_comment`` stays on the opener's line; ``force_break`` lays it out broken (the formatter's
    "magic trailing comma": a trailing comma in the source keeps one item per line)."""
    if not items and not dangling and not open_comment:
        return open_ + close
    line = LINE if padded else SOFTLINE
    body: list = [LineSuffix("  " + open_comment)] if open_comment else []
    body.append(line)
    for i, item in enumerate(items):
        last = i == len(items) - 1
        body.append(item)
        body.append(IfBreak(",") if last else ",")
        comment = trailing[i] if trailing else None
        if comment:
            body.append(LineSuffix("  " + comment))
        if not last:
            body.append(LINE)
    for c in dangling:
        body += [HARDLINE, c]
    if force_break:
        body.append(BREAK_PARENT)
    return Group([open_, Indent(body), line, close])


def block(entries: List, *, trailing: Optional[List[Optional[str]]] = None,
          dangling: Sequence[str] = (), open_comment: Optional[str] = None):
    """``{`` newline, one entry per line (no commas), ``}``: always several lines."""
    if not entries and not dangling and not open_comment:
        return "{}"
    body: list = [LineSuffix("  " + open_comment)] if open_comment else []
    for i, entry in enumerate(entries):
        body += [HARDLINE, entry]
        comment = trailing[i] if trailing else None
        if comment:
            body.append(LineSuffix("  " + comment))
    for c in dangling:
        body += [HARDLINE, c]
    return Block(["{", Indent(body), HARDLINE, "}"])


def call(name: str, args: List, *, hug: bool = False, **kw):
    """``name(args)``; with ``hug`` (a lone list/dict argument) the brackets stay together:
    ``Sequential([`` ... ``])``."""
    if hug and len(args) == 1 and not kw.get("dangling") and not kw.get("open_comment") \
            and not (kw.get("trailing") or [None])[0] and not kw.get("force_break"):
        return [name, "(", args[0], ")"]
    return [name, seq("(", ")", args, **kw)]


def with_chain(base, patches: List, single_block: bool):
    """``base with p1, p2``; a lone block patch stays on the ``with`` line: ``base with {``."""
    if single_block:
        return [base, " with ", patches[0]]
    return Group([base, " with", Indent([LINE, join([",", LINE], patches)])])
