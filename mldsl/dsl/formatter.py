"""``mldsl fmt``: rewrites a .mlx file in canonical layout, keeping its comments.

Works on the IR (which keeps source spellings of numbers) plus the comment tokens: each comment is
attached to the nearest statement / argument / item / entry, as a leading comment (own line) or a
trailing one (same line). Layout is decided by ``mldsl.dsl.layout`` from the content only, so
``format(format(x)) == format(x)``. Blank lines between top-level statements are kept (at most one).
"""
from __future__ import annotations

import threading
from typing import List, Tuple

from mldsl.dsl import ir, shapes
from mldsl.dsl.diagnostics import raise_collected
from mldsl.dsl.layout import LineSuffix, render
from mldsl.dsl.spelling import key_text, quote_string
from mldsl.symbolic.key_path import KeyPath


def format_source(text: str, filename: str = "<string>") -> str:
    """The canonical text of ``text``. Raises ``MlxError``/``MlxErrors`` on syntax errors."""
    from mldsl.dsl.parser import parse_program

    import sys

    from mldsl.dsl.diagnostics import MlxError

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 8000))
    try:
        program = parse_program(text, filename)
        raise_collected(program.errors)
        return format_program(program)
    except RecursionError:
        raise MlxError("expressions are nested too deeply", code="E001", filename=filename, line=1,
                       column=1) from None
    finally:
        sys.setrecursionlimit(limit)


def _distribute(children: list, comments: List[ir.Comment]):
    """Splits comments among children: (leading[i], trailing[i], inner[i], dangling)."""
    n = len(children)
    leading: List[List[ir.Comment]] = [[] for _ in range(n)]
    trailing: List[List[ir.Comment]] = [[] for _ in range(n)]
    inner: List[List[ir.Comment]] = [[] for _ in range(n)]
    dangling: List[ir.Comment] = []
    for c in comments:
        pos = c.span.start
        placed = False
        for i, child in enumerate(children):
            sp = child.span
            if sp.start <= pos < sp.end:
                inner[i].append(c)
                placed = True
                break
            if pos < sp.start:
                if i > 0 and c.span.line == children[i - 1].span.end_line:
                    trailing[i - 1].append(c)
                else:
                    leading[i].append(c)
                placed = True
                break
        if not placed:
            if n and c.span.line == children[-1].span.end_line:
                trailing[-1].append(c)
            else:
                dangling.append(c)
    return leading, trailing, inner, dangling


class _Used(threading.local):
    """Ids of the comments placed while formatting the current program (per thread)."""

    def __init__(self) -> None:
        self.ids: set = set()


_USED = _Used()


def _texts(comments: List[ir.Comment]) -> List[str]:
    _USED.ids.update(id(c) for c in comments)
    return [c.text.rstrip() for c in comments]


def _trail(comments: List[ir.Comment]):
    return " ".join(_texts(comments)) if comments else None


class _Formatter:
    def __init__(self, source: str = "") -> None:
        self.source = source

    def _trailing_comma(self, node, children) -> bool:
        """Whether the source has a comma after the last item (before the closing bracket)."""
        if not children or not self.source:
            return False
        region = self.source[children[-1].span.end:node.span.end - 1]
        return any("," in line.split("#", 1)[0] for line in region.split("\n"))

    def expr(self, node, comments: List[ir.Comment]):
        method = getattr(self, "expr_" + type(node).__name__)
        return method(node, comments)

    def _children(self, node, children, comments, render_child):
        """(item docs, trailing comments, dangling comments, opener comment) of a container."""
        open_line = node.span.line
        opener = [c for c in comments if c.span.line == open_line
                  and (not children or c.span.start < children[0].span.start)]
        rest = [c for c in comments if c not in opener]
        leading, trailing, inner, dangling = _distribute(children, rest)
        items = [shapes.with_comments(render_child(ch, inner[i]), _texts(leading[i]))
                 for i, ch in enumerate(children)]
        return dict(trailing=[_trail(t) for t in trailing], dangling=_texts(dangling),
                    open_comment=_trail(opener),
                    force_break=self._trailing_comma(node, children),
                    has_leading=any(leading)), items

    # leaves ----------------------------------------------------------------------------------
    def expr_Literal(self, node: ir.Literal, comments):
        v = node.value
        if isinstance(v, bool):
            return "true" if v else "false"
        if v is None:
            return "none"
        if isinstance(v, str):
            return quote_string(v)
        return node.text

    def expr_Ref(self, node: ir.Ref, comments):
        return node.name

    # compound --------------------------------------------------------------------------------
    def expr_Call(self, node: ir.Call, comments):
        kw, items = self._children(node, node.args, comments, self.arg)
        has_leading = kw.pop("has_leading")
        hug = len(node.args) == 1 and node.args[0].name is None and not has_leading \
            and isinstance(node.args[0].value, (ir.ListExpr, ir.DictExpr))
        return shapes.call(node.callee, items, hug=hug, **kw)

    def arg(self, arg: ir.Arg, comments):
        value = self.expr(arg.value, comments)
        if arg.name is None:
            return value
        return [arg.name, "=", value]

    def expr_ListExpr(self, node: ir.ListExpr, comments):
        kw, items = self._children(node, node.items, comments, self.expr)
        kw.pop("has_leading")
        return shapes.seq("[", "]", items, **kw)

    def key(self, key) -> str:
        if isinstance(key, ir.StrKey):
            return key_text(key.value)
        return str(KeyPath(key.segments))

    def entry(self, entry: ir.Entry, comments):
        return [self.key(entry.key), " = ", self.expr(entry.value, comments)]

    def expr_DictExpr(self, node: ir.DictExpr, comments):
        kw, items = self._children(node, node.entries, comments, self.entry)
        kw.pop("has_leading")
        return shapes.seq("{", "}", items, padded=True, **kw)

    def as_block(self, node: ir.DictExpr, comments):
        kw, items = self._children(node, node.entries, comments, self.entry)
        kw.pop("force_break")
        kw.pop("has_leading")
        return shapes.block(items, **kw)

    def patch_item(self, node, comments):
        if isinstance(node, ir.DictExpr):
            return self.as_block(node, comments)
        return self.expr(node, comments)

    def expr_WithExpr(self, node: ir.WithExpr, comments):
        children = [node.base] + list(node.patches)
        leading, trailing, inner, dangling = _distribute(children, comments)
        rendered = []
        for i, ch in enumerate(children):
            doc = self.expr(ch, inner[i]) if i == 0 else self.patch_item(ch, inner[i])
            lead = _texts(leading[i]) + _texts(trailing[i - 1] if i else [])
            rendered.append(shapes.with_comments(doc, lead))
        extra = _texts(trailing[-1]) + _texts(dangling)
        single_block = len(node.patches) == 1 and isinstance(node.patches[0], ir.DictExpr) \
            and not any(leading) and not any(trailing[:-1])
        doc = shapes.with_chain(rendered[0], rendered[1:], single_block)
        if extra:
            doc = [doc] + [LineSuffix("  " + " ".join(extra))]
        return doc

    # statements ------------------------------------------------------------------------------
    def statement(self, st, comments):
        if isinstance(st, ir.Import):
            return ["import ", quote_string(st.path)]
        if isinstance(st, (ir.Let, ir.ExperimentDef)):
            value = st.value
            lead, trail, inner, dangling = _distribute([value], comments)
            doc = self.expr(value, inner[0])
            return [st.keyword, " ", st.name, " = ",
                    shapes.with_comments(doc, _texts(lead[0]) + _texts(dangling) + _texts(trail[0]))]
        if isinstance(st, ir.PatchDef):
            return ["patch ", st.name, " ", self.as_block(st.body, comments)]
        if isinstance(st, ir.SearchDef):
            lead, trail, inner, dangling = _distribute([st.space, st.body], comments)
            space = shapes.with_comments(self.expr(st.space, inner[0]), _texts(lead[0]))
            body = self.as_block(st.body, inner[1] + lead[1] + trail[0] + dangling)
            return ["search ", st.name, " over ", space, " ", body]
        raise TypeError(st)


def _blank_between(lines: List[str], end_line: int, start_line: int) -> bool:
    for ln in range(end_line + 1, start_line):
        if 1 <= ln <= len(lines) and not lines[ln - 1].strip():
            return True
    return False


def format_program(program: ir.Program) -> str:
    """Canonical text of a parsed program (comments included)."""
    from mldsl.dsl.parser import split_lines

    lines = [l.rstrip("\n") for l in split_lines(program.source)]
    fmt = _Formatter(program.source)
    stmts = program.statements
    leading, trailing, inner, dangling = _distribute(stmts, program.comments)
    out: List[str] = []
    prev_end = 0  # last source line already emitted

    def emit(text: str, start_line: int, end_line: int) -> None:
        nonlocal prev_end
        if out and _blank_between(lines, prev_end, start_line):
            out.append("")
        out.append(text)
        prev_end = end_line

    _USED.ids.clear()
    for i, st in enumerate(stmts):
        for c in leading[i]:
            emit(c.text.rstrip(), c.span.line, c.span.line)
        doc = fmt.statement(st, inner[i])
        # comments in places that hold none (`import # c "x"`) move before the statement
        for c in inner[i]:
            if id(c) not in _USED.ids:
                emit(c.text.rstrip(), c.span.line, c.span.line)
        text = render(doc)
        tail = _trail(trailing[i])
        if tail:
            first, sep, rest = text.partition("\n")
            if sep:  # a trailing comment after a multi-line statement goes on its last line
                text = text + "  " + tail
            else:
                text = first + "  " + tail
        emit(text, st.span.line, max(st.span.end_line, *(c.span.line for c in trailing[i]))
             if trailing[i] else st.span.end_line)
    for c in dangling:
        emit(c.text.rstrip(), c.span.line, c.span.line)
    return "\n".join(out) + "\n" if out else ""


def check_formatted(text: str, filename: str = "<string>") -> Tuple[bool, str]:
    """(already canonical?, canonical text)."""
    new = format_source(text, filename)
    return new == text, new

