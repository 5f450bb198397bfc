"""``textDocument/signatureHelp``: inside a component's call, its parameters, the one being written
highlighted, each with its lines of ``mldsl schema NAME``."""
from __future__ import annotations

from typing import Any, List, Optional

from lsprotocol import types

from mldsl.dsl.lexing import OPENERS, open_brackets, tokenize
from mldsl.lsp.analysis import Analysis
from mldsl.lsp.completion import current_statement
from mldsl.lsp.hover import field_lines, markdown_block, schema_lines
from mldsl.lsp.positions import UTF16, Position, code_units, offset_at
from mldsl.service.completion import RegistryInfo

#: Characters after which an editor asks for the signature without being told to.
TRIGGER_CHARACTERS = ["(", ","]


def signature_help(analysis: Analysis, position: Position, registry: Optional[RegistryInfo] = None,
                   encoding: str = UTF16) -> Optional[types.SignatureHelp]:
    """The signature of the component whose call holds the cursor; None outside a component's call."""
    registry = registry or RegistryInfo()
    before = current_statement(analysis.text[:offset_at(analysis.text, position, encoding)])
    tokens = tokenize(before, significant=True)
    calls = [t for t in open_brackets(tokens) or [] if t.text == "("]
    if not calls:
        return None
    index = next(i for i, t in enumerate(tokens) if t.start == calls[-1].start)
    if index == 0 or tokens[index - 1].kind != "name":
        return None
    callee = tokens[index - 1].text
    fields = [name for name, _ in registry.fields(callee)]
    lines = schema_lines(callee, None) if fields else None
    if not lines:
        return None
    label = f"{callee}({', '.join(fields)})"
    parameters, start = [], len(callee) + 1
    for name in fields:
        offsets = (code_units(label[:start], encoding), code_units(label[:start + len(name)], encoding))
        documentation = types.MarkupContent(kind=types.MarkupKind.Markdown,
                                            value=markdown_block(field_lines(lines, name)))
        parameters.append(types.ParameterInformation(label=offsets, documentation=documentation))
        start += len(name) + 2
    summary = markdown_block(lines[:1] + _summary(lines))
    signature = types.SignatureInformation(
        label=label, parameters=parameters,
        documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=summary))
    return types.SignatureHelp(signatures=[signature], active_signature=0,
                               active_parameter=_active(tokens[index + 1:], fields))


def _summary(lines: List[str]) -> List[str]:
    """The docstring lines of a schema report (between its header and its fields)."""
    out = []
    for line in lines[1:]:
        if line.startswith("fields:") or line.startswith("arguments:"):
            break
        out.append(line)
    return out


def _active(arguments: List[Any], fields: List[str]) -> Optional[int]:
    """The index of the parameter being written: the one named before ``=`` in the current argument,
    else the argument's position (None past the last parameter)."""
    depth, position, start = 0, 0, 0
    for i, tok in enumerate(arguments):
        if tok.text in OPENERS:
            depth += 1
        elif tok.text in (")", "]", "}"):
            depth -= 1
        elif depth == 0 and tok.text == ",":
            position, start = position + 1, i + 1
    current = arguments[start:]
    if len(current) >= 2 and current[0].kind == "name" and current[1].text == "=":
        return fields.index(current[0].text) if current[0].text in fields else None
    return position if position < len(fields) else None
