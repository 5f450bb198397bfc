"""``textDocument/semanticTokens/full``: the tokens of the Pygments lexer (``mldsl.highlight.MlxLexer``,
built on the grammar's vocabulary), so that an editor colours ``.mlx`` as ``mldsl show`` and the REPL do.
Each Pygments token type maps to one LSP token type (and modifiers)."""
from __future__ import annotations

from bisect import bisect_right
from typing import List, Optional, Tuple

from pygments.token import Comment, Keyword, Name, Number, Operator, String

from mldsl.lsp.positions import UTF16, code_units, source_lines

#: The legend the server announces: token types and modifiers, by index.
TOKEN_TYPES = ["keyword", "variable", "class", "function", "property", "string", "number", "comment", "operator"]
TOKEN_MODIFIERS = ["declaration", "defaultLibrary"]

#: Pygments token type -> (LSP token type, modifiers), the first that contains a token's type wins.
_MAPPING = [
    (Keyword, "keyword", ()),
    (Name.Variable, "variable", ("declaration",)),
    (Name.Builtin, "function", ("defaultLibrary",)),
    (Name.Class, "class", ()),
    (Name.Function, "function", ()),
    (Name.Attribute, "property", ()),
    (Name, "variable", ()),
    (String, "string", ()),
    (Number, "number", ()),
    (Comment, "comment", ()),
    (Operator, "operator", ()),
]


def classify(token_type) -> Optional[Tuple[str, Tuple[str, ...]]]:
    """(LSP token type, modifiers) of a Pygments token type; None for whitespace and punctuation."""
    for pygments_type, lsp_type, modifiers in _MAPPING:
        if token_type in pygments_type:
            return lsp_type, modifiers
    return None


def semantic_tokens(text: str, encoding: str = UTF16) -> List[int]:
    """The LSP encoding of the tokens of ``text``: five integers per token (line delta, start delta,
    length, type index, modifier bits). Only whitespace spans lines in the lexer's tokens."""
    from mldsl.highlight import MlxLexer

    lines = source_lines(text)
    starts = _line_starts(text)
    data: List[int] = []
    previous = (0, 0)
    for index, token_type, value in MlxLexer().get_tokens_unprocessed(text):
        kind = classify(token_type)
        if kind is None:
            continue
        lsp_type, modifiers = kind
        bits = sum(1 << TOKEN_MODIFIERS.index(m) for m in modifiers)
        value = value.rstrip("\r\n")
        if not value:
            continue
        row = bisect_right(starts, index) - 1
        start = code_units(lines[row][:index - starts[row]], encoding)
        delta_line = row - previous[0]
        data += [delta_line, start - previous[1] if delta_line == 0 else start, code_units(value, encoding),
                 TOKEN_TYPES.index(lsp_type), bits]
        previous = (row, start)
    return data


def _line_starts(text: str) -> List[int]:
    """The offset at which each line of ``text`` starts (lines as ``source_lines`` cuts them)."""
    starts = [0]
    i = 0
    while i < len(text):
        if text[i] == "\r" and text[i + 1:i + 2] == "\n":
            i += 2
            starts.append(i)
        elif text[i] in "\r\n":
            i += 1
            starts.append(i)
        else:
            i += 1
    return starts

