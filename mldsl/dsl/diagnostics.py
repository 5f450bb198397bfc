"""Diagnostics of the .mlx language: ``MlxError`` (one error with a position and a stable code) and
``MlxErrors`` (several, reported together), rendered like a compiler::

    mnist.mlx:12:11: error[E021]: Dense has no parameter 'unit'
     12 |     Dense(unit=512),
        |           ^^^^
        = help: did you mean 'units'?

Error codes are stable: ``ERROR_CODES`` below lists them; the golden tests in ``tests/dsl/bad`` pin
the exact text of each. A source line longer than ``SHOWN_LINE_WIDTH`` is shown as a window around
the caret; its control characters are shown as visible symbols (``\\r`` as ``␍``, ESC as ``␛``; C1 and
bidirectional controls as ``�``), one character each, so that a file cannot move the terminal's cursor,
colour it or reorder the line, and the caret stays under its column.
"""
from __future__ import annotations

from typing import Iterable, List, Optional, Sequence

from mldsl.errors import MldslError

#: Widest source line a diagnostic shows whole; a longer one is cut to a window around the caret.
SHOWN_LINE_WIDTH = 120

#: Characters that would act on a terminal rather than show: C0 controls and DEL as their Control
#: Pictures symbol, C1 controls and the bidirectional embeddings, overrides and isolates as U+FFFD.
_SHOWN_CONTROLS = {**{c: chr(0x2400 + c) for c in range(0x20)}, 0x7F: "\u2421",
                   **{c: "\ufffd" for c in [*range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]}}

#: code -> one-line description (for ``mldsl check --codes`` and the docs).
ERROR_CODES = {
    "E001": "syntax error: unexpected token",
    "E002": "syntax error: missing token",
    "E003": "syntax error: invalid character, unterminated string or bad escape",
    "E004": "duplicate definition or reserved word used as a name",
    "E005": "undefined name",
    "E006": "wrong kind of definition for this place",
    "E007": "nested too deeply (brackets in .mlx, arrays and objects in JSON)",
    "E010": "imported file not found",
    "E011": "import cycle",
    "E012": "file cannot be read: not UTF-8 text, too large, not a regular file",
    "E013": "import refused: not a .mlx file, outside the allowed folders, nested too deep",
    "E020": "unknown component",
    "E021": "unknown parameter",
    "E022": "missing required parameter",
    "E023": "too many arguments or parameter given twice",
    "E024": "invalid value",
    "E025": "invalid key in a dict",
    "E030": "bad path in a patch",
    "E031": "unknown patcher",
    "E032": "patch cannot be applied",
    "E033": "`with` needs a symbolic object",
    "E040": "bad search statement",
    "E041": "unknown search algorithm, objective, early-stopping rule or metric",
}


class MlxError(MldslError):
    """One error in a .mlx file, with its position and a stable code (see ``ERROR_CODES``).

    Attributes: ``filename``, ``line``, ``column`` (1-based), ``end_line``, ``end_column`` (exclusive),
    ``code``, ``message``, ``suggestion`` (``"did you mean 'x'?"`` or None), ``notes`` (extra lines),
    ``source_line`` (the text of the line, when known). ``str(err)`` is the full rendering.
    """

    def __init__(self, message: str, *, code: str = "E001", filename: str = "<string>",
                 line: int = 0, column: int = 0, end_line: Optional[int] = None,
                 end_column: Optional[int] = None, suggestion: Optional[str] = None,
                 notes: Sequence[str] = (), source_line: Optional[str] = None) -> None:
        self.message = message
        self.code = code
        self.filename = filename
        self.line = line
        self.column = column
        self.end_line = line if end_line is None else end_line
        self.end_column = (column + 1) if end_column is None else end_column
        self.suggestion = suggestion
        self.notes = list(notes)
        self.source_line = source_line
        super().__init__(message)

    @property
    def errors(self) -> List["MlxError"]:
        """The errors carried (just this one)."""
        return [self]

    @property
    def location(self) -> str:
        """``file.mlx:12:5`` (just ``file.mlx`` for an error about the whole file: line 0)."""
        if self.line <= 0:
            return self.filename
        return f"{self.filename}:{self.line}:{self.column}"

    def sort_key(self):
        return (self.filename, self.line, self.column, self.code, self.message)

    def render(self) -> str:
        """The compiler-style rendering: header, source line, caret, help and notes."""
        out = [f"{self.location}: error[{self.code}]: {self.message}"]
        num = str(self.line)
        gutter = " " * (len(num) + 1)
        if self.source_line is not None and self.line > 0:
            text = self.source_line.rstrip("\r\n").replace("\t", " ").translate(_SHOWN_CONTROLS)
            start = max(self.column, 1)
            if self.end_line == self.line:
                width = max(self.end_column - start, 1)
            else:  # a multi-line span: underline to the end of the first line
                width = max(len(text) - start + 1, 1)
            text, start, width = _window(text, start, width)
            out.append(f" {num} | {text}".rstrip())
            out.append(f"{gutter} | " + " " * (start - 1) + "^" * width)
        if self.suggestion:
            out.append(f"{gutter} = help: {self.suggestion}")
        for note in self.notes:
            out.append(f"{gutter} = note: {note}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"MlxError({self.code}, {self.location}, {self.message!r})"


def _window(text: str, start: int, width: int):
    """(text, caret start, caret width) cut to about ``SHOWN_LINE_WIDTH`` characters around the
    caret, with ``...`` where the line was cut."""
    if len(text) <= SHOWN_LINE_WIDTH:
        return text, start, width
    width = min(width, SHOWN_LINE_WIDTH // 2)
    begin = max(0, min(start - 1 - SHOWN_LINE_WIDTH // 4, len(text) - SHOWN_LINE_WIDTH))
    end = begin + SHOWN_LINE_WIDTH
    shown = text[begin:end]
    if begin > 0:
        shown, start = "..." + shown, start - begin + 3
    if end < len(text):
        shown += "..."
    return shown, start, width


class MlxErrors(MlxError):
    """Several independent errors, reported together (sorted by position). ``.errors`` lists them;
    the position attributes are those of the first."""

    def __init__(self, errors: Iterable[MlxError]) -> None:
        flat: List[MlxError] = []
        for err in errors:
            flat.extend(err.errors)
        flat.sort(key=MlxError.sort_key)
        self._errors = flat
        first = flat[0]
        super().__init__(first.message, code=first.code, filename=first.filename, line=first.line,
                         column=first.column, end_line=first.end_line, end_column=first.end_column,
                         suggestion=first.suggestion, notes=first.notes,
                         source_line=first.source_line)

    @property
    def errors(self) -> List[MlxError]:
        return list(self._errors)

    def render(self) -> str:
        n = len(self._errors)
        body = "\n\n".join(e.render() for e in self._errors)
        return f"{body}\n\n{n} error{'s' if n != 1 else ''}"

    def __repr__(self) -> str:
        return f"MlxErrors({self._errors!r})"


def raise_collected(errors: Sequence[MlxError]) -> None:
    """Raises nothing for no errors, the error itself for one, ``MlxErrors`` for several."""
    if not errors:
        return
    if len(errors) == 1:
        raise errors[0]
    raise MlxErrors(errors)
