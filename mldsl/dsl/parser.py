"""Text -> IR: the Lark parser, the tree-to-IR transformer and syntax-error recovery.

``parse_program(text, filename)`` never raises for a syntax error: it returns a ``Program`` whose
``errors`` lists one ``MlxError`` per broken statement (the parser resynchronises at every line that
starts with a statement keyword) and whose ``statements`` are the ones that parsed. Recovery costs
time linear in the text: each statement is parsed once more, on its own.

Limits of the language, each an error at the offending text: brackets nest at most ``MAX_NESTING``
deep (E007); an integer literal fits in a signed 64-bit integer and a float literal does not
overflow to infinity (E024; write ``inf``); a string holds no lone surrogate (E003).
"""
from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import List, Optional, Tuple

from mldsl.dsl import ir, vocabulary
from mldsl.dsl.diagnostics import MlxError
from mldsl.errors import suggestion_text
from mldsl.symbolic.json_io import number_problem

STATEMENT_KEYWORDS = vocabulary.STATEMENT_KEYWORDS
#: Words that are literals in expressions and therefore cannot name a definition.
RESERVED_WORDS = vocabulary.CONSTANTS

_STATEMENT_START = re.compile(r"^[ \t]*(?:%s)\b" % "|".join(STATEMENT_KEYWORDS), re.M)
_DEFINED_NAME = re.compile(r"\s*(?:%s)\s+(%s)" % ("|".join(vocabulary.DEFINING_KEYWORDS),
                                                  vocabulary.TOKEN_PATTERNS["NAME"]))

#: Deepest nesting of brackets (calls, lists, blocks) in .mlx text: far beyond any real experiment,
#: and low enough that compiling, printing and running a value never exhaust Python's stack.
MAX_NESTING = 100

# Comments seen by the lexer during the current parse, per thread (the lexer callback appends here).
_local = threading.local()


def _sink() -> List:
    sink = getattr(_local, "comments", None)
    if sink is None:
        sink = _local.comments = []
    return sink


def _on_comment(tok):
    _sink().append(tok)
    return tok


@lru_cache(maxsize=None)
def get_lark():
    """The LALR parser for ``mlx.lark``, built once per process from the grammar in the package.

    It is never cached on disk: Lark's ``cache=True`` keeps a pickle at a predictable name in the
    shared temp folder and unpickles it before any check, so anyone who can write there could run code
    as the next user of mldsl (lark-parser/lark#1628). Building the tables takes about 30 ms."""
    from lark import Lark

    return Lark.open_from_package("mldsl.grammars", "mlx.lark", parser="lalr", propagate_positions=True,
                                  maybe_placeholders=False, lexer_callbacks={"COMMENT": _on_comment})


# --------------------------------------------------------------------------------- string values

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'",
            "b": "\b", "f": "\f"}


def decode_string(text: str) -> str:
    """The value of a STRING token (quotes removed, escapes decoded). Raises ``ValueError(offset,
    message)`` with the offset inside the quotes of a bad escape or a lone surrogate."""
    body = text[1:-1]
    raw = _SURROGATE.search(body)
    if raw:
        raise ValueError(raw.start() + 1, _LONE_SURROGATE.format(f"\\u{ord(raw.group()):04x}"))
    if "\\" not in body:
        return body
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[nxt]
            digits = body[i + 2:i + 2 + width]
            if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise ValueError(i + 1, _BAD_ESCAPE)
            code = int(digits, 16)
            if code > 0x10FFFF:
                raise ValueError(i + 1, _BAD_ESCAPE)
            if 0xD800 <= code <= 0xDFFF:
                raise ValueError(i + 1, _LONE_SURROGATE.format(body[i:i + 2 + width]))
            out.append(chr(code))
            i += 2 + width
        else:
            raise ValueError(i + 1, _BAD_ESCAPE)
    return "".join(out)


_INF = float("inf")
_BAD_ESCAPE = "invalid escape sequence in string"
_SURROGATE = re.compile("[\ud800-\udfff]")
_LONE_SURROGATE = ("{} is a lone surrogate (half of a UTF-16 pair), not a character; write the "
                   "character itself or a \\U escape such as \\U0001F600")


# ------------------------------------------------------------------------------------ positions

#: (lines, characters) before the start of a piece of text parsed on its own.
Shift = Tuple[int, int]
NO_SHIFT: Shift = (0, 0)


def token_span(tok, filename: str, shift: Shift = NO_SHIFT) -> ir.Span:
    """The span of a Lark token of a piece of text that starts ``shift`` into the file (pieces start
    at the beginning of a line, so columns need no shift)."""
    lines, chars = shift
    return ir.Span(filename, tok.line + lines, tok.column, tok.end_line + lines, tok.end_column,
                   tok.start_pos + chars, tok.end_pos + chars)


def _shifted(span: ir.Span, shift: Shift) -> ir.Span:
    lines, chars = shift
    return ir.Span(span.file, span.line + lines, span.column, span.end_line + lines, span.end_column,
                   span.start + chars, span.end + chars)


# ------------------------------------------------------------------------------------ tree -> IR

class ToIR:
    """Turns the Lark parse tree into IR nodes (one method per grammar alias)."""

    def __init__(self, filename: str, source_lines: List[str]) -> None:
        self.filename = filename
        self.lines = source_lines
        self.errors: List[MlxError] = []
        self.broken_names = set()  # statements dropped for an invalid literal (E024)
        self.shift = NO_SHIFT      # where the tree being visited starts in the file
        self._dropped = False      # the statement being built has an invalid literal

    # helpers ---------------------------------------------------------------------------------
    def _span(self, node) -> ir.Span:
        span = ir.Span.of_meta(node.meta, self.filename)
        if self.shift is NO_SHIFT or getattr(node.meta, "empty", True):
            return span
        return _shifted(span, self.shift)

    def _tok(self, tok) -> ir.Span:
        if self.shift is NO_SHIFT:
            return ir.Span.of_token(tok, self.filename)
        return token_span(tok, self.filename, self.shift)

    def error(self, message: str, span: ir.Span, code: str, suggestion: Optional[str] = None):
        self.errors.append(make_error(message, span, code, self.lines, suggestion=suggestion))

    def visit(self, node):
        from lark import Token

        if isinstance(node, Token):  # only reached for bare tokens inside rules below
            return node
        return getattr(self, node.data)(node)

    def _children(self, node):
        return [self.visit(c) for c in node.children if c is not None]

    def _check_name(self, tok):
        if str(tok) in RESERVED_WORDS:
            self.error(f"'{tok}' is a reserved word and cannot name a definition", self._tok(tok),
                       "E004")

    # statements ------------------------------------------------------------------------------
    def module(self, node) -> List[ir.Statement]:
        statements = []
        for child in node.children:
            self._dropped = False
            st = self.visit(child)
            if not self._dropped:
                statements.append(st)
            elif getattr(st, "name", None):
                self.broken_names.add(st.name)
        return statements

    def import_stmt(self, node):
        tok = node.children[0]
        return ir.Import(self._string(tok), self._tok(tok), self._span(node))

    def let_stmt(self, node):
        name, value = node.children
        self._check_name(name)
        return ir.Let(str(name), self._tok(name), self.visit(value), self._span(node))

    def experiment_stmt(self, node):
        name, value = node.children
        self._check_name(name)
        return ir.ExperimentDef(str(name), self._tok(name), self.visit(value), self._span(node))

    def patch_stmt(self, node):
        name, body = node.children
        self._check_name(name)
        return ir.PatchDef(str(name), self._tok(name), self.visit(body), self._span(node))

    def search_stmt(self, node):
        name, space, body = node.children
        self._check_name(name)
        return ir.SearchDef(str(name), self._tok(name), self.visit(space), self.visit(body),
                            self._span(node))

    def plain_value(self, node):
        return self.visit(node.children[0])

    def with_value(self, node):
        base, *patches = self._children(node)
        return ir.WithExpr(base, patches, self._span(node))

    # literals --------------------------------------------------------------------------------
    def int(self, node):
        tok = node.children[0]
        return ir.Literal(self._int_value(tok), str(tok), self._tok(tok))

    def float(self, node):
        tok = node.children[0]
        value = float(tok)
        if value in (_INF, -_INF):  # 1e400: the literal overflows (never `inf`: that is a keyword)
            sign = "-" if value < 0 else ""
            self._invalid_literal(f"{number_problem(str(tok))}; write {sign}inf for infinity", tok)
            value = 0.0
        return ir.Literal(value, str(tok), self._tok(tok))

    def _int_value(self, tok) -> int:
        """The value of an INT token; an E024 error (and 0) when it does not fit in 64 bits."""
        text = str(tok)
        if len(text) <= 18:  # 18 characters cannot exceed 64 bits
            return int(text)
        problem = number_problem(text)
        if problem:
            self._invalid_literal(problem, tok)
            return 0
        value = int(text.lstrip("+-").lstrip("0") or "0")  # leading zeros do not count as digits
        return -value if text.startswith("-") else value

    def _invalid_literal(self, message: str, tok) -> None:
        """Reports E024 at ``tok`` and drops the statement holding it (its name counts as defined,
        so later uses report nothing more)."""
        self.error(message, self._tok(tok), "E024")
        self._dropped = True

    def inf(self, node):
        return ir.Literal(float("inf"), "inf", self._span(node))

    def neg_inf(self, node):
        return ir.Literal(float("-inf"), "-inf", self._span(node))

    def nan(self, node):
        return ir.Literal(float("nan"), "nan", self._span(node))

    def _string(self, tok) -> str:
        try:
            return decode_string(str(tok))
        except ValueError as exc:
            offset, message = exc.args
            span = self._tok(tok)
            col = span.column + 1 + offset
            bad = ir.Span(span.file, span.line, col - 1, span.line, col + 1)
            self.error(message, bad, "E003")
            return str(tok)[1:-1]

    def string(self, node):
        tok = node.children[0]
        return ir.Literal(self._string(tok), str(tok), self._tok(tok))

    def true(self, node):
        return ir.Literal(True, "true", self._span(node))

    def false(self, node):
        return ir.Literal(False, "false", self._span(node))

    def none(self, node):
        return ir.Literal(None, "none", self._span(node))

    # compound --------------------------------------------------------------------------------
    def ref(self, node):
        tok = node.children[0]
        return ir.Ref(str(tok), self._tok(tok))

    def callee(self, node):
        toks = node.children
        return ".".join(str(t) for t in toks), self._tok(toks[0]).cover(self._tok(toks[-1]))

    def call(self, node):
        (name, name_span), *args = self._children(node)
        return ir.Call(name, name_span, args, self._span(node))

    def positional_arg(self, node):
        value = self.visit(node.children[0])
        return ir.Arg(None, value, value.span)

    def keyword_arg(self, node):
        name, value = node.children
        value = self.visit(value)
        span = self._tok(name).cover(value.span)
        return ir.Arg(str(name), value, span, self._tok(name))

    def list(self, node):
        return ir.ListExpr(self._children(node), self._span(node))

    def dict(self, node):
        return self.visit(node.children[0])

    def block(self, node):
        return ir.DictExpr(self._children(node), self._span(node))

    def path_entry(self, node):
        key, value = self._children(node)
        return ir.Entry(key, value, key.span.cover(value.span))

    def string_entry(self, node):
        tok, value = node.children
        value = self.visit(value)
        key = ir.StrKey(self._string(tok), self._tok(tok))
        return ir.Entry(key, value, key.span.cover(value.span))

    def path(self, node):
        first, *steps = node.children
        segments = [str(first)] + [self.visit(s) for s in steps]
        return ir.PathKey(tuple(segments), self._span(node))

    def path_name(self, node):
        return str(node.children[0])

    def path_index(self, node):
        return self._int_value(node.children[0])


# ---------------------------------------------------------------------------------- diagnostics

def split_lines(text: str) -> List[str]:
    """Lines as the lexer counts them (only ``\\n`` ends a line), with their newlines."""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out or [""]


def source_line(lines: List[str], line: int) -> Optional[str]:
    if 1 <= line <= len(lines):
        return lines[line - 1]
    return None


def make_error(message: str, span: ir.Span, code: str, lines: List[str], *,
               suggestion: Optional[str] = None, notes=()) -> MlxError:
    """An ``MlxError`` at ``span`` with the source line taken from ``lines``."""
    return MlxError(message, code=code, filename=span.file, line=span.line, column=span.column,
                    end_line=span.end_line, end_column=span.end_column, suggestion=suggestion,
                    notes=notes, source_line=source_line(lines, span.line))


_VALUE_START = {"INT", "FLOAT", "STRING", "TRUE", "FALSE", "NONE", "INF", "NAN", "LSQB", "LBRACE"}
_PUNCT_ORDER = [")", "]", "}", ",", "=", "(", "[", "{", ".", "with", "over"]
_CLASS_NAMES = {"NAME": "a name", "INT": "an integer", "FLOAT": "a number", "STRING": "a string"}
_CLASS_ORDER = ["a name", "a value", "an integer", "a number", "a string", "a new statement"]


def _literal_of(term_name: str) -> Optional[str]:
    """The literal text of a string terminal (``RPAR`` -> ``)``), or None for a pattern."""
    try:
        term = get_lark().get_terminal(term_name)
    except KeyError:
        return None
    if term.pattern.type == "str":
        return term.pattern.value
    return None


def describe_expected(expected) -> str:
    """``{'RPAR', 'COMMA'}`` -> ``')' or ','`` (never terminal names)."""
    names = set(expected)
    words: List[str] = []
    literals = {n: _literal_of(n) for n in names}
    value_like = {n for n in names if n in _VALUE_START or literals.get(n) in RESERVED_WORDS
                  or literals.get(n) == "-inf"}
    if {"INT", "STRING", "LSQB"} <= names:
        words.append("a value")
        names -= value_like
        names.discard("NAME")
    if {"LET", "EXPERIMENT"} <= names or "$END" in names:
        words.append("a new statement")
        names -= {"IMPORT", "LET", "EXPERIMENT", "PATCH", "SEARCH", "$END"}
    puncts = []
    for n in names:
        lit = literals.get(n)
        if n in _CLASS_NAMES:
            words.append(_CLASS_NAMES[n])
        elif lit is not None:
            puncts.append(lit)
        else:
            words.append(n.lower())
    puncts.sort(key=lambda p: (_PUNCT_ORDER.index(p) if p in _PUNCT_ORDER else 99, p))
    words.sort(key=lambda w: (_CLASS_ORDER.index(w) if w in _CLASS_ORDER else 99, w))
    items = [f"'{p}'" for p in puncts] + words
    if not items:
        return "something else"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def _describe_token(tok) -> str:
    if tok.type == "$END":
        return "end of file"
    if tok.type == "NAME":
        return f"name '{tok}'"
    if tok.type in ("INT", "FLOAT"):
        return f"number {tok}"
    if tok.type == "STRING":
        return f"string {tok}"
    return f"'{tok}'"


def _only_punct(expected) -> bool:
    return all((_literal_of(n) or "").strip() in ("(", ")", "[", "]", "{", "}", ",", "=", ".")
               and _literal_of(n) for n in expected)


def _syntax_error(exc, prev, filename: str, lines: List[str], shift: Shift = NO_SHIFT) -> MlxError:
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    if isinstance(exc, UnexpectedCharacters):
        line = exc.line + shift[0]
        line_text = source_line(lines, line) or ""
        ch = line_text[exc.column - 1:exc.column] if line_text else exc.char
        if ch in ("'", '"'):
            span = ir.Span(filename, line, exc.column, line,
                           max(len(line_text.rstrip("\r\n")) + 1, exc.column + 1))
            return make_error("unterminated string", span, "E003", lines)
        span = ir.Span(filename, line, exc.column, line, exc.column + 1)
        return make_error(f"unexpected character {ch!r}", span, "E003", lines)
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    try:
        expected = exc.accepts or exc.expected
    except Exception:  # pragma: no cover - lark internals
        expected = exc.expected
    exp = describe_expected(expected)
    at_eof = tok.type == "$END"
    later_line = prev is not None and not at_eof and tok.line > prev.end_line
    if prev is not None and (at_eof or later_line or _only_punct(expected)):
        span = token_span(prev, filename, shift).after()
        if len(expected) == 1 and _only_punct(expected):
            msg = f"missing {exp}"
        else:
            msg = f"expected {exp}"
        if not at_eof and not later_line:
            msg += f" before {_describe_token(tok)}"
        return make_error(msg, span, "E002", lines)
    if at_eof:  # nothing before: an empty chunk cannot fail, but be safe
        span = ir.Span(filename, max(len(lines), 1), 1, max(len(lines), 1), 2)
        return make_error(f"expected {exp}", span, "E002", lines)
    span = token_span(tok, filename, shift)
    suggestion = None
    if tok.type == "NAME" and ({"LET", "EXPERIMENT"} & set(expected)):
        suggestion = suggestion_text(str(tok), STATEMENT_KEYWORDS)
    return make_error(f"unexpected {_describe_token(tok)}; expected {exp}", span, "E001", lines,
                      suggestion=suggestion)


def _parse_chunk(lark, text: str, filename: str, lines: List[str], shift: Shift):
    """Parses one chunk (starting ``shift`` into the file) interactively, tracking the previous
    token; returns (tree, error)."""
    from lark.exceptions import UnexpectedInput

    ip = lark.parse_interactive(text)
    prev = cur = None  # iter_parse yields each token before feeding it
    try:
        for tok in ip.iter_parse():
            prev, cur = cur, tok
        return ip.feed_eof(cur), None
    except UnexpectedInput as exc:
        before = prev if cur is not None and getattr(exc, "token", None) is cur else cur
        return None, _syntax_error(exc, before, filename, lines, shift)


def parse_program(text: str, filename: str = "<string>") -> ir.Program:
    """Parses ``text`` into a ``Program`` (syntax errors are collected in ``program.errors``)."""
    from lark.exceptions import UnexpectedInput

    lark = get_lark()
    lines = split_lines(text)
    program = ir.Program(filename, text, [])
    sink = _sink()
    del sink[:]
    try:
        trees = [(lark.parse(text), NO_SHIFT)]  # Lark's LALR parser does not recurse
        comments = [(tok, NO_SHIFT) for tok in sink]
        too_deep = nesting_error(text, filename, lines)
        if too_deep is not None:  # nothing is built: the limit protects what would follow
            program.errors.append(too_deep)
            return program
    except UnexpectedInput:
        trees, comments = _recover(lark, text, filename, lines, program)
    del sink[:]
    builder = ToIR(filename, lines)
    for tree, shift in trees:
        builder.shift = shift
        program.statements.extend(builder.visit(tree))
    program.errors.extend(builder.errors)
    program.broken_names |= builder.broken_names
    program.comments = [ir.Comment(str(t), token_span(t, filename, shift)) for t, shift in comments]
    return program


def _recover(lark, text: str, filename: str, lines: List[str], program: ir.Program):
    """Re-parses statement by statement (split at lines starting with a statement keyword), so that
    each broken statement reports its own error and the others still count. Each chunk is parsed on
    its own and its positions shifted to the file's: time linear in the text.

    Returns ([(tree, shift)], [(comment token, shift)])."""
    starts = [m.start() for m in _STATEMENT_START.finditer(text)]  # each at the start of a line
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    starts.append(len(text))
    trees = []
    comments = []
    line = 0  # lines before the chunk
    counted = 0
    for begin, end in zip(starts, starts[1:]):
        line += text.count("\n", counted, begin)
        counted = begin
        chunk = text[begin:end]
        if not chunk.strip():
            continue
        shift = (line, begin)
        sink = _sink()
        del sink[:]
        err = nesting_error(text, filename, lines, begin, end, shift)
        tree = None
        if err is None:
            tree, err = _parse_chunk(lark, chunk, filename, lines, shift)
            comments.extend((tok, shift) for tok in sink)
        if err is not None:
            program.errors.append(err)
            m = _DEFINED_NAME.match(chunk)
            if m:
                program.broken_names.add(m.group(1))
        else:
            trees.append((tree, shift))
    return trees, comments


# --------------------------------------------------------------------------------------- limits

# what can hold a bracket that does not count: strings (each matched whole, by a pattern without
# per-character alternation) and comments
_BRACKET_SCAN = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"'
                           r"|'[^'\\\n]*(?:\\.[^'\\\n]*)*'"
                           r"|#[^\n]*|[(\[{]|[)\]}]")


def nesting_error(text: str, filename: str, lines: List[str], begin: int = 0,
                  end: Optional[int] = None, shift: Shift = NO_SHIFT) -> Optional[MlxError]:
    """E007 at the first bracket of ``text[begin:end]`` nested deeper than ``MAX_NESTING``, or None.
    ``shift`` says where ``begin`` is (lines before it); time linear in the piece."""
    end = len(text) if end is None else end
    if sum(text.count(c, begin, end) for c in "([{") <= MAX_NESTING:
        return None
    depth = 0
    for m in _BRACKET_SCAN.finditer(text, begin, end):
        ch = m.group()[0]
        if ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                pos = m.start()
                line = shift[0] + text.count("\n", begin, pos) + 1
                column = pos - (text.rfind("\n", 0, pos) + 1) + 1
                span = ir.Span(filename, line, column, line, column + 1, pos, pos + 1)
                return make_error(f"nested too deeply: more than {MAX_NESTING} levels of brackets "
                                  "(the limit of the language)", span, "E007", lines)
        elif ch in ")]}":
            depth = max(depth - 1, 0)
    return None
