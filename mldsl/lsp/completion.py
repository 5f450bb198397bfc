"""``textDocument/completion``: :func:`mldsl.service.completion.complete_mlx` (the REPL's completion) on
the document's text before the cursor, in the scope of the document's definitions; in ``import "``, the
``.mlx`` files and folders beside the document."""
from __future__ import annotations

import os
import re
from typing import List, Optional

from lsprotocol import types

from mldsl.dsl.vocabulary import STATEMENT_KEYWORDS
from mldsl.lsp.analysis import Analysis, same_file
from mldsl.lsp.diagnostics import to_range
from mldsl.lsp.positions import UTF16, Position, offset_at, position_at
from mldsl.service.completion import RegistryInfo, Suggestion, complete_mlx

#: A line starting with a word (statements start at the start of a line, as ``mldsl fmt`` writes them).
_WORD_LINE = re.compile(r"^[A-Za-z_]\w*", re.M)
#: An ``import`` whose file name is being written.
_IMPORT_NAME = re.compile(r"import\s+[\"']([^\"'\n]*)\Z")

_KINDS = {
    "keyword": types.CompletionItemKind.Keyword,
    "name": types.CompletionItemKind.Variable,
    "component": types.CompletionItemKind.Class,
    "primitive": types.CompletionItemKind.Function,
    "constant": types.CompletionItemKind.Constant,
    "parameter": types.CompletionItemKind.Property,
    "choice": types.CompletionItemKind.EnumMember,
    "patch": types.CompletionItemKind.Module,
    "patcher": types.CompletionItemKind.Function,
    "path": types.CompletionItemKind.Field,
    "setting": types.CompletionItemKind.Property,
    "key": types.CompletionItemKind.Field,
    "file": types.CompletionItemKind.File,
    "folder": types.CompletionItemKind.Folder,
}


def current_statement(before: str) -> str:
    """The end of ``before`` (a document's text before the cursor) from the start of the last line that
    begins with a statement keyword (or, on the cursor's line, with the start of one): completion looks
    at the statement being written, so that a broken statement above (an unclosed bracket) does not
    mislead it."""
    last_line = before.rfind("\n") + 1
    for m in reversed(list(_WORD_LINE.finditer(before))):
        word = m.group()
        if word in STATEMENT_KEYWORDS or (m.start() == last_line and m.end() == len(before)
                                          and any(k.startswith(word) for k in STATEMENT_KEYWORDS)):
            return before[m.start():]
    return before


def import_suggestions(statement: str, path: str) -> List[Suggestion]:
    """In ``import "...``: the ``.mlx`` files (but the document itself) and the folders where the
    written part of the name points, relative to the document at ``path``; [] elsewhere."""
    found = _IMPORT_NAME.match(statement)
    if not found or path.startswith("<"):
        return []
    folder, _, prefix = found.group(1).rpartition("/")
    try:
        entries = sorted(os.scandir(os.path.join(os.path.dirname(path), folder)), key=lambda e: e.name)
    except OSError:
        return []
    out = []
    for entry in entries:
        if entry.name.startswith(".") or not entry.name.startswith(prefix):
            continue
        if entry.is_dir():
            out.append(Suggestion(entry.name + "/", -len(prefix), entry.name + "/", "folder", "folder"))
        elif entry.name.endswith(".mlx") and not same_file(entry.path, path):
            out.append(Suggestion(entry.name, -len(prefix), entry.name, "file", "file"))
    return out


def completion_items(analysis: Analysis, position: Position, registry: Optional[RegistryInfo] = None,
                     encoding: str = UTF16) -> List[types.CompletionItem]:
    """The completions at ``position`` of the analysed document, in the order the REPL offers them;
    each replaces the word before the cursor (a text edit)."""
    text = analysis.text
    cursor = offset_at(text, position, encoding)
    items = []
    statement = current_statement(text[:cursor])
    suggestions = import_suggestions(statement, analysis.path) or \
        complete_mlx(statement, analysis, registry, after=text[cursor:])
    for number, s in enumerate(suggestions):
        start = position_at(text, cursor + s.start, encoding)
        end = position_at(text, cursor, encoding)
        items.append(types.CompletionItem(
            label=s.display, kind=_KINDS.get(s.category), detail=s.meta or None,
            sort_text=f"{number:05d}", filter_text=s.text,
            text_edit=types.TextEdit(range=to_range(start, end), new_text=s.text)))
    return items
