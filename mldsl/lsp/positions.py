"""Positions between mldsl and the Language Server Protocol.

mldsl's spans (``MlxError``, ``Span``) have 1-based lines and 1-based columns counted in characters (code
points), the end column exclusive. LSP positions are 0-based, and their ``character`` counts code units of
the negotiated encoding: UTF-16 unless the client offered another (``utf-8``, ``utf-32``). A line holding
characters outside the Basic Multilingual Plane (an emoji in a string) or, for UTF-8, any non-ASCII
character, has different counts. Plain tuples here; :mod:`mldsl.lsp.server` wraps them in LSP types.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache
from typing import List, Sequence, Tuple

#: (line, character), both 0-based, ``character`` in code units of the encoding
Position = Tuple[int, int]

UTF16 = "utf-16"


def code_units(text: str, encoding: str = UTF16) -> int:
    """How many code units of ``encoding`` (``utf-8``, ``utf-16``, ``utf-32``) ``text`` takes."""
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def to_character(line_text: str, index: int, encoding: str = UTF16) -> int:
    """The LSP ``character`` of the 0-based code-point ``index`` in ``line_text`` (clamped to the line)."""
    return code_units(line_text[:max(index, 0)], encoding)


def from_character(line_text: str, character: int, encoding: str = UTF16) -> int:
    """The 0-based code-point index in ``line_text`` of the LSP ``character`` (a position inside a
    character's code units, or past the end, goes to the end of that character or of the line)."""
    units = 0
    for index, char in enumerate(line_text):
        if units >= character:
            return index
        units += code_units(char, encoding)
    return len(line_text)


def source_lines(text: str) -> List[str]:
    """The lines of ``text`` without their line ends (as LSP counts lines: ``\\n``, ``\\r\\n``, ``\\r``)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def span_range(text: str, line: int, column: int, end_line: int, end_column: int,
               encoding: str = UTF16) -> Tuple[Position, Position]:
    """The LSP range in the document ``text`` of an mldsl span (1-based ``line``/``column``, exclusive
    ``end_column``). mldsl counts lines at ``\\n`` only (``mldsl.dsl.parser.split_lines``) and LSP also at a
    lone ``\\r``, so the span goes through its code-point offsets. A span about the whole file (line 0)
    is the start of the file; a span past the end of its line (a missing token at the end) stays at the
    line's end; an empty span is widened to one character, so that editors underline something."""
    if line <= 0:
        return (0, 0), (0, 0)
    starts, lengths = _mldsl_lines(text)
    start = position_at(text, _mldsl_offset(starts, lengths, line, column), encoding)
    end_offset = _mldsl_offset(starts, lengths, max(end_line, line), end_column if end_line >= line else column + 1)
    end = position_at(text, end_offset, encoding)
    if end <= start:
        lines = _lsp_lines(text)[1]
        start_line = lines[start[0]].rstrip("\r\n") if start[0] < len(lines) else ""
        index = from_character(start_line, start[1], encoding)
        end = (start[0], to_character(start_line, index + 1, encoding))
    return start, end


@lru_cache(maxsize=8)
def _mldsl_lines(text: str) -> Tuple[List[int], List[int]]:
    """The offset at which each line of ``text`` starts and its length without the ``\\n``, lines as
    mldsl's spans count them."""
    starts, lengths = [], []
    start = 0
    for body in text.split("\n"):
        starts.append(start)
        lengths.append(len(body))
        start += len(body) + 1
    return starts, lengths


def _mldsl_offset(starts: Sequence[int], lengths: Sequence[int], line: int, column: int) -> int:
    """The code-point offset of the 1-based ``line``/``column`` (clamped to the text and to the line)."""
    row = min(line - 1, len(starts) - 1)
    return starts[row] + min(max(column - 1, 0), lengths[row])


def offset_at(text: str, position: Position, encoding: str = UTF16) -> int:
    """The code-point offset in ``text`` of the LSP ``position`` (clamped to the text)."""
    row, character = position
    starts, lines = _lsp_lines(text)
    if not 0 <= row < len(lines):
        return len(text)
    return starts[row] + from_character(lines[row].rstrip("\r\n"), character, encoding)


_LINE_END = re.compile(r"\r\n|\r|\n")


@lru_cache(maxsize=8)
def _lsp_lines(text: str) -> Tuple[List[int], List[str]]:
    """Where each line of ``text`` starts, and the lines with their ends, as LSP counts lines (``\\n``,
    ``\\r\\n``, a lone ``\\r``); the last (possibly empty) line follows the last line end. Cached per text:
    a request converts many positions of one document."""
    starts = [0] + [m.end() for m in _LINE_END.finditer(text)]
    return starts, [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)])]


def position_at(text: str, offset: int, encoding: str = UTF16) -> Position:
    """The LSP position of the code-point ``offset`` in ``text`` (clamped to the text)."""
    offset = min(max(offset, 0), len(text))
    starts, lines = _lsp_lines(text)
    row = bisect_right(starts, offset) - 1
    return row, to_character(lines[row].rstrip("\r\n"), offset - starts[row], encoding)
