"""The errors of a document as LSP diagnostics: the codes, spans, help and notes of ``mldsl check``, and,
when it compiles, what a backend named explicitly cannot run (``E050``), as ``check`` says next.

An error inside an imported file is shown on the ``import`` statement that brought it in (or at the
start of the document), its message prefixed with the file's location. A misspelt name whose help says
``did you mean 'x'?`` carries the candidates in the diagnostic's ``data`` (``{"replacements": [...]}``),
which the quick fixes of :mod:`mldsl.lsp.actions` offer."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import List, Optional

from lsprotocol import types

from mldsl.dsl.diagnostics import MlxError
from mldsl.dsl.vocabulary import is_name
from mldsl.lsp.analysis import Analysis, same_file
from mldsl.lsp.positions import UTF16, Position, code_units, source_lines, span_range

SOURCE = "mldsl"
_DID_YOU_MEAN = re.compile(r"did you mean ('[^']*'(?: or '[^']*')*)\?\Z")


def message_of(err: MlxError) -> str:
    """The message with its help and notes, one per line, as ``mldsl check`` prints them after the caret."""
    lines = [err.message]
    if err.suggestion:
        lines.append(f"help: {err.suggestion}")
    lines += [f"note: {note}" for note in err.notes]
    return "\n".join(lines)


def diagnostics(analysis: Analysis, encoding: str = UTF16) -> List[types.Diagnostic]:
    """One diagnostic per error of ``analysis``, in the order ``mldsl check`` lists them."""
    lines = source_lines(analysis.text)
    out = []
    for err in analysis.errors:
        message = message_of(err)
        data = related = None
        if same_file(err.filename, analysis.path):
            start, end = span_range(analysis.text, err.line, err.column, err.end_line, err.end_column, encoding)
            replacements = replacements_for(err, analysis.text.split("\n"))
            data = {"replacements": replacements} if replacements else None
        else:
            start, end = _import_range(lines, err.filename, encoding)
            message = f"{err.location}: {message}"
            related = _where_in_other_file(err, encoding)
        out.append(types.Diagnostic(range=to_range(start, end), message=message, code=err.code, source=SOURCE,
                                    severity=types.DiagnosticSeverity.Error, data=data,
                                    related_information=related))
    if not analysis.errors:
        out += _backend_diagnostics(analysis, lines, encoding)
    return out


def _backend_diagnostics(analysis: Analysis, lines: List[str], encoding: str) -> List[types.Diagnostic]:
    """The errors ``mldsl check`` reports next, when the document compiles: what a definition's explicit
    backend cannot run (``E050``), on the definition's name (an imported one: on its ``import``). Its
    notes (``auto`` will pick keras) are left to ``check``."""
    from mldsl.service.inspect import BACKEND_CODE, backend_findings

    out = []
    for finding in [f for f in backend_findings(analysis.module) if f.error]:
        span = analysis.module.definitions[finding.name].name_span
        if same_file(span.file, analysis.path):
            start, end = span_range(analysis.text, span.line, span.column, span.end_line, span.end_column, encoding)
        else:
            start, end = _import_range(lines, span.file, encoding)
        out.append(types.Diagnostic(range=to_range(start, end), message=f"{finding.name}: {finding.message}",
                                    code=BACKEND_CODE, source=SOURCE, severity=types.DiagnosticSeverity.Error))
    return out


def replacements_for(err: MlxError, lines: List[str]) -> List[str]:
    """The names ``did you mean 'x'?`` proposes for the misspelt name the error's span covers in
    ``lines`` (the document's lines as mldsl counts them: at ``\\n`` only); [] when the help is something
    else or the span is not one name."""
    found = _DID_YOU_MEAN.match(err.suggestion or "")
    if not found or err.line <= 0 or err.end_line != err.line or err.line > len(lines):
        return []
    written = lines[err.line - 1][err.column - 1:err.end_column - 1]
    candidates = re.findall(r"'([^']*)'", found.group(1))
    if not is_name(written) or not all(is_name(c) for c in candidates):
        return []
    return candidates


def to_range(start: Position, end: Position) -> types.Range:
    """An LSP range of two (line, character) positions."""
    return types.Range(start=types.Position(line=start[0], character=start[1]),
                       end=types.Position(line=end[0], character=end[1]))


def _where_in_other_file(err: MlxError, encoding: str) -> Optional[List[types.DiagnosticRelatedInformation]]:
    """The error's place in the imported file, for editors that link to it: in the file's text as it is
    now (its LSP lines may differ from mldsl's), else in the error's own line."""
    from mldsl.dsl.api import read_source

    if err.filename.startswith("<") or err.line <= 0:
        return None
    line = (err.source_line or "").rstrip("\r\n")
    try:
        text = read_source(err.filename)
    except MlxError:  # gone since it was compiled
        text = "\n" * (err.line - 1) + line
    start, end = span_range(text, err.line, err.column, err.line,
                            err.end_column if err.end_line == err.line else len(line) + 1, encoding)
    location = types.Location(uri=Path(err.filename).resolve().as_uri(), range=to_range(start, end))
    return [types.DiagnosticRelatedInformation(location=location, message=err.message)]


def _import_range(lines: List[str], filename: str, encoding: str):
    """The range of the ``import`` line naming ``filename`` (by its base name); the file's start if none."""
    base = os.path.basename(filename)
    for number, line in enumerate(lines):
        if re.match(r"\s*import\b", line) and base in line:
            return (number, 0), (number, code_units(line.rstrip(), encoding))
    return (0, 0), (0, 0)
