"""``textDocument/formatting``: the document through ``mldsl.format_source``, the formatter of
``mldsl fmt``, as one edit of the whole text (none when it is already canonical or does not parse: the
diagnostics say why)."""
from __future__ import annotations

from typing import List

from lsprotocol import types

from mldsl.dsl.diagnostics import MlxError
from mldsl.lsp.diagnostics import to_range
from mldsl.lsp.positions import UTF16, code_units, source_lines


def format_edits(text: str, path: str, encoding: str = UTF16) -> List[types.TextEdit]:
    """The edits turning ``text`` into its canonical form."""
    from mldsl.dsl.formatter import format_source

    try:
        formatted = format_source(text, path)
    except MlxError:
        return []
    if formatted == text:
        return []
    lines = source_lines(text)
    end = (len(lines) - 1, code_units(lines[-1], encoding))
    return [types.TextEdit(range=to_range((0, 0), end), new_text=formatted)]
