"""The intermediate representation of a .mlx program: plain dataclasses, each with a ``Span``.

The parser (``mldsl.dsl.parser``) builds it from the Lark tree; the compiler turns it into symbolic
objects; the formatter prints it back. Nothing here imports Lark or the symbolic core.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional, Tuple, Union


@dataclass(frozen=True)
class Span:
    """A region of a source file. Lines and columns are 1-based; ``end_column`` is exclusive;
    ``start``/``end`` are character offsets."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int = 0
    end: int = 0

    @classmethod
    def of_token(cls, tok, file: str) -> "Span":
        return cls(file, tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)

    @classmethod
    def of_meta(cls, meta, file: str) -> "Span":
        if getattr(meta, "empty", True):
            return cls(file, 0, 0, 0, 0, 0, 0)
        return cls(file, meta.line, meta.column, meta.end_line, meta.end_column,
                   meta.start_pos, meta.end_pos)

    def after(self) -> "Span":
        """A one-character span just after this one (where a missing token was expected)."""
        return Span(self.file, self.end_line, self.end_column, self.end_line, self.end_column + 1,
                    self.end, self.end + 1)

    def last_char(self) -> "Span":
        """The span of the last character (e.g. the closing parenthesis of a call)."""
        return Span(self.file, self.end_line, max(self.end_column - 1, 1), self.end_line,
                    self.end_column, max(self.end - 1, 0), self.end)

    def cover(self, other: "Span") -> "Span":
        return Span(self.file, self.line, self.column, other.end_line, other.end_column,
                    self.start, other.end)


# ----------------------------------------------------------------------------------- expressions

@dataclass
class Literal:
    """int, float, str, bool or None. ``text`` is the source spelling (kept by the formatter)."""

    value: Any
    text: str
    span: Span


@dataclass
class Ref:
    """A reference to an earlier ``let`` / ``experiment`` / ``patch`` name."""

    name: str
    span: Span


@dataclass
class Arg:
    """A call argument; ``name`` is None for a positional one."""

    name: Optional[str]
    value: "Expr"
    span: Span
    name_span: Optional[Span] = None


@dataclass
class Call:
    """``Name(args)``: a component, a hyper primitive (oneof, ...), a patcher or a search setting."""

    callee: str
    callee_span: Span
    args: List[Arg]
    span: Span

    @property
    def positional(self) -> List[Arg]:
        return [a for a in self.args if a.name is None]

    @property
    def keywords(self) -> List[Arg]:
        return [a for a in self.args if a.name is not None]


@dataclass
class ListExpr:
    items: List["Expr"]
    span: Span


PathSegment = Union[str, int]


@dataclass
class PathKey:
    """``model.layers[1].units`` (a plain dict key is a one-segment path)."""

    segments: Tuple[PathSegment, ...]
    span: Span

    @property
    def is_simple(self) -> bool:
        return len(self.segments) == 1 and isinstance(self.segments[0], str)


@dataclass
class StrKey:
    """A quoted dict key: ``"learning rate" = 1``."""

    value: str
    span: Span


Key = Union[PathKey, StrKey]


@dataclass
class Entry:
    key: Key
    value: "Expr"
    span: Span


@dataclass
class DictExpr:
    """``{ key = value ... }``: a dict value, or a patch / search / ``with`` block."""

    entries: List[Entry]
    span: Span


@dataclass
class WithExpr:
    """``base with p1, p2, ...``: the patches are applied in order."""

    base: "Expr"
    patches: List["Expr"]
    span: Span


Expr = Union[Literal, Ref, Call, ListExpr, DictExpr, WithExpr]


# ------------------------------------------------------------------------------------ statements

@dataclass
class Import:
    path: str
    path_span: Span
    span: Span


@dataclass
class Let:
    name: str
    name_span: Span
    value: Expr
    span: Span
    keyword = "let"


@dataclass
class ExperimentDef:
    name: str
    name_span: Span
    value: Expr
    span: Span
    keyword = "experiment"


@dataclass
class PatchDef:
    name: str
    name_span: Span
    body: DictExpr
    span: Span
    keyword = "patch"


@dataclass
class SearchDef:
    name: str
    name_span: Span
    space: Expr
    body: DictExpr
    span: Span
    keyword = "search"


Statement = Union[Import, Let, ExperimentDef, PatchDef, SearchDef]


@dataclass
class Comment:
    text: str
    span: Span


@dataclass
class Program:
    """A parsed file. ``errors`` holds syntax errors found while recovering (the statements that
    did parse are kept); ``broken_names`` are names whose definition failed to parse."""

    filename: str
    source: str
    statements: List[Statement]
    comments: List[Comment] = field(default_factory=list)
    errors: list = field(default_factory=list)
    broken_names: set = field(default_factory=set)

