"""Names: the document's outline (``textDocument/documentSymbol``: its experiments, lets, patches and
searches), go to definition, find references and rename of a defined name (imported ones included)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Mapping, Optional

from lsprotocol import types

from mldsl.dsl.ir import Span
from mldsl.dsl.lexing import open_brackets, tokenize
from mldsl.dsl.module import Definition
from mldsl.lsp.analysis import Analysis, name_at, same_file, token_at
from mldsl.lsp.diagnostics import to_range
from mldsl.lsp.positions import UTF16, Position, offset_at, position_at, span_range

_KINDS = {
    "experiment": types.SymbolKind.Class,
    "let": types.SymbolKind.Variable,
    "patch": types.SymbolKind.Function,
    "search": types.SymbolKind.Event,
}


def document_symbols(analysis: Analysis, encoding: str = UTF16) -> List[types.DocumentSymbol]:
    """The definitions the document itself makes, in order (imported ones are not in its outline)."""
    text = analysis.text
    out = []
    for name in analysis.module.own:
        d = analysis.module.definitions[name]
        out.append(types.DocumentSymbol(
            name=name, detail=d.kind, kind=_KINDS.get(d.kind, types.SymbolKind.Variable),
            range=_range(text, d.span, encoding), selection_range=_range(text, d.name_span, encoding)))
    return out


def definition(analysis: Analysis, uri: str, position: Position,
               encoding: str = UTF16) -> Optional[types.Location]:
    """Where the name under the cursor is defined (in this document or in an imported file); on the
    file name of an ``import``, that file."""
    token = token_at(analysis.text, offset_at(analysis.text, position, encoding))
    if token is not None and token.kind == "string":
        return _imported_file(analysis, token)
    d = analysis.definition(token.text) if token is not None and token.kind == "name" and \
        _is_reference(analysis.text, token) else None
    if d is None:
        return None
    span = d.name_span
    if same_file(span.file, analysis.path):
        return types.Location(uri=uri, range=_range(analysis.text, span, encoding))
    from mldsl.dsl.api import read_source
    from mldsl.dsl.diagnostics import MlxError

    try:
        text = read_source(span.file)
    except MlxError:  # gone or changed since it was compiled
        return None
    return types.Location(uri=Path(span.file).resolve().as_uri(), range=_range(text, span, encoding))


def _imported_file(analysis: Analysis, token) -> Optional[types.Location]:
    """The file ``import "..."`` at ``token`` reads, found by the compiler's own rules (``ImportPolicy``);
    None when the string is not an import's or the import is refused."""
    from mldsl.dsl.imports import ImportPolicy, ImportRefused
    from mldsl.dsl.parser import decode_string

    before = tokenize(analysis.text[:token.start], significant=True)
    if not before or before[-1].text != "import" or analysis.path.startswith("<"):
        return None
    try:
        _, real = ImportPolicy.for_source(analysis.path).resolve(decode_string(token.text), analysis.path)
    except (ImportRefused, ValueError):
        return None
    return types.Location(uri=Path(real).as_uri(), range=to_range((0, 0), (0, 0)))


def references(analysis: Analysis, uri: str, position: Position, include_declaration: bool = True,
               encoding: str = UTF16, others: Optional[Mapping[str, Analysis]] = None) -> List[types.Location]:
    """Every place that names the defined name under the cursor (not a parameter or a key that happens
    to be spelled the same): in this document, and in the ``others`` (the open documents, by URI) that
    have the same definition (that file's, or one they import)."""
    text = analysis.text
    token = name_at(text, offset_at(text, position, encoding))
    d = analysis.definition(token.text) if token is not None else None
    if d is None or not _is_reference(text, token):
        return []
    out = _uses(analysis, uri, token.text, d, include_declaration, encoding)
    for other_uri, other in (others or {}).items():
        same = other.definition(token.text)
        if other_uri != uri and same is not None and same.name_span.start == d.name_span.start and \
                same_file(same.name_span.file, d.name_span.file):
            out += _uses(other, other_uri, token.text, same, include_declaration, encoding)
    return out


def _uses(analysis: Analysis, uri: str, name: str, d: Definition, include_declaration: bool,
          encoding: str) -> List[types.Location]:
    """The places of one document that name ``name`` defined by ``d``."""
    text = analysis.text
    declaration = d.name_span.start if same_file(d.name_span.file, analysis.path) else None
    out = []
    for tok in tokenize(text, significant=True):
        if tok.kind != "name" or tok.text != name or not _is_reference(text, tok):
            continue
        if tok.start == declaration and not include_declaration:
            continue
        start, end = position_at(text, tok.start, encoding), position_at(text, tok.end, encoding)
        out.append(types.Location(uri=uri, range=to_range(start, end)))
    return out


def rename(analysis: Analysis, uri: str, position: Position, new_name: str, encoding: str = UTF16,
           others: Optional[Mapping[str, Analysis]] = None) -> Optional[types.WorkspaceEdit]:
    """The edit renaming the name under the cursor: its definition and every use in this document and in
    the open ``others`` that import it (files that are not open are not changed). Raises
    ``MldslError`` for a new name the language refuses, one already defined, or a name defined in
    another file (rename it there)."""
    from mldsl.dsl.vocabulary import KEYWORDS, can_define
    from mldsl.errors import MldslError

    token = name_at(analysis.text, offset_at(analysis.text, position, encoding))
    d = analysis.definition(token.text) if token is not None else None
    if d is None or not _is_reference(analysis.text, token):
        return None
    if not can_define(new_name) or new_name in KEYWORDS:
        raise MldslError(f"{new_name!r} cannot name a definition: use letters, digits and _, not a keyword "
                         "or a constant")
    if new_name != token.text and analysis.definition(new_name) is not None:
        raise MldslError(f"{new_name!r} is already defined")
    if not same_file(d.name_span.file, analysis.path):
        raise MldslError(f"{token.text!r} is defined in {Path(d.name_span.file).name}: rename it there")
    changes: Dict[str, List[types.TextEdit]] = {}
    for location in references(analysis, uri, position, True, encoding, others):
        changes.setdefault(location.uri, []).append(types.TextEdit(range=location.range, new_text=new_name))
    return types.WorkspaceEdit(changes=changes)


def _is_reference(text: str, token) -> bool:
    """Whether the name ``token`` stands for a definition: not ``NAME=`` in a call, not a key of a
    block or dict (``NAME =``, ``a.NAME``), not a callee's name."""
    after = tokenize(text[token.end:token.end + 100], significant=True)
    following = after[0].text if after else ""
    if following in ("=", "(", "."):
        return following == "=" and _defines(text, token)
    before = tokenize(text[max(0, token.start - 1):token.start], significant=True)
    return not (before and before[-1].text == ".")


def _defines(text: str, token) -> bool:
    """``NAME =`` at depth 0 is a definition's name (``let NAME = ...``), else a parameter or key."""
    return open_brackets(tokenize(text[:token.start], significant=True)) == []


def _range(text: str, span: Span, encoding: str) -> types.Range:
    return to_range(*span_range(text, span.line, span.column, span.end_line, span.end_column, encoding))
