"""``textDocument/hover``, by what is under the cursor:

- a component or a patcher: its schema and docs, the lines of ``mldsl schema NAME``;
- a parameter name in a call (``units=``): that parameter's lines of the component's schema;
- a defined name: its value, printed as ``.mlx``, and where it is defined;
- a value written in the document, or the key it is assigned to (``training.batch_size = 256``): where
  it ends up and the chain of places that set it, as ``mldsl explain FILE:NAME PATH`` shows it (its
  definition, the lets it came through, the patches).
"""
from __future__ import annotations

import os
from typing import Any, List, Optional, Tuple

from lsprotocol import types

from mldsl.dsl.lexing import Token, open_brackets, tokenize
from mldsl.lsp.analysis import Analysis, same_file, token_at
from mldsl.lsp.diagnostics import to_range
from mldsl.lsp.positions import UTF16, Position, offset_at, position_at


def hover(analysis: Analysis, position: Position, registry: Any = None,
          encoding: str = UTF16) -> Optional[types.Hover]:
    """The hover at ``position`` of the analysed document; None where there is nothing to say."""
    text = analysis.text
    offset = offset_at(text, position, encoding)
    token = token_at(text, offset)
    if token is None or token.kind in ("ws", "comment"):
        return None
    markdown = None
    if token.kind == "name":
        markdown = _parameter(text, token, registry) or _component(token.text, registry)
    if markdown is None and token.kind == "name":
        markdown = _definition(analysis, token.text)
    if markdown is None:
        markdown = _provenance(analysis, _assigned_value(text, token) or token)
    if markdown is None:
        return None
    span = (position_at(text, token.start, encoding), position_at(text, token.end, encoding))
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown),
                       range=to_range(*span))


def markdown_block(lines: List[str], language: str = "text") -> str:
    """``lines`` as a fenced code block of ``language``."""
    return f"```{language}\n" + "\n".join(lines).strip("\n") + "\n```"


def _registry(registry: Any):
    if registry is not None:
        return registry
    from mldsl.registry import get_registry

    return get_registry()


def schema_lines(name: str, registry: Any = None) -> Optional[List[str]]:
    """The lines of ``mldsl schema NAME`` for a component or patcher; None if the registry has neither."""
    from mldsl.errors import MldslError
    from mldsl.service.schemas import schema_report

    try:
        return schema_report(_registry(registry), name)
    except MldslError:
        return None


def _component(name: str, registry: Any) -> Optional[str]:
    """The schema of the component or patcher ``name``; None if the registry has neither."""
    lines = schema_lines(name, registry)
    return None if lines is None else markdown_block(lines)


def _parameter(text: str, token: Token, registry: Any) -> Optional[str]:
    """The schema lines of the parameter ``token`` when it is ``NAME=`` inside a component's call."""
    after = tokenize(text[token.end:token.end + 200], significant=True)
    if not after or after[0].text != "=":
        return None
    before = tokenize(text[:token.start], significant=True)
    stack = open_brackets(before) or []
    if not stack or stack[-1].text != "(":
        return None
    index = next(i for i, t in enumerate(before) if t.start == stack[-1].start)
    if index == 0 or before[index - 1].kind != "name":
        return None
    callee = before[index - 1].text
    lines = schema_lines(callee, registry)
    if lines is None:
        return None
    block = field_lines(lines, token.text)
    if not block:
        return None
    return f"**{callee}**.`{token.text}`\n\n" + markdown_block(block) + f"\n\n{lines[0]}"


def field_lines(lines: List[str], name: str) -> List[str]:
    """The lines of the field ``name`` in a schema report (its spec and default, its description)."""
    for i, line in enumerate(lines):
        if line.startswith(f"  {name}:"):
            out = [line.strip()]
            for more in lines[i + 1:]:
                if not more.startswith("      "):
                    break
                out.append(more.strip())
            return out
    return []


def _provenance(analysis: Analysis, token: Token) -> Optional[str]:
    """What ``mldsl explain`` says of the value starting at ``token``, if a definition recorded it."""
    line, column = _line_column(analysis.text, token.start)
    found: Optional[Tuple[bool, int, str, tuple]] = None
    for name, d in analysis.module.definitions.items():
        for path, chain in d.provenance.records.items():
            for origin in chain:
                if origin.line != line or origin.column != column or not same_file(origin.file, analysis.path):
                    continue
                outside = not (same_file(d.span.file, analysis.path) and d.span.line <= line <= d.span.end_line)
                key = (outside, len(path), name, path)
                if found is None or key < found:
                    found = key
    if found is None:
        return None
    _, _, name, path = found
    from mldsl.errors import MldslError

    try:
        explanation = analysis.module.explain(name, path)
    except MldslError:
        return None
    return markdown_block(_relative(str(explanation).splitlines(), analysis.path), "mlx")


def _assigned_value(text: str, token: Token) -> Optional[Token]:
    """The first token of the value after ``token`` when it is (part of) a key path being assigned, as
    in ``training.batch_size = 256`` or a dict's ``batch_size = 32``; None otherwise."""
    if token.kind != "name":
        return None
    after = tokenize(text[token.end:token.end + 400], significant=True)
    for i, tok in enumerate(after):
        if tok.text == "=":
            if i + 1 < len(after):
                value = after[i + 1]
                return Token(value.kind, value.text, token.end + value.start, token.end + value.end)
            return None
        if not (tok.text in (".", "[", "]") or tok.kind in ("name", "int")):
            return None
    return None


def _definition(analysis: Analysis, name: str) -> Optional[str]:
    d = analysis.definition(name)
    if d is None:
        return None
    from mldsl.service.inspect import mlx_text

    where = f"{os.path.basename(d.name_span.file)}:{d.name_span.line}"
    return markdown_block(mlx_text(d.value, name, d.kind, hide_defaults=True).rstrip("\n").splitlines(), "mlx") + \
        f"\n\n{d.kind} `{name}`, {where}"


def _relative(lines: List[str], path: str) -> List[str]:
    folder = os.path.dirname(os.path.abspath(path)) + os.sep
    return [line.replace(folder, "") for line in lines]


def _line_column(text: str, offset: int) -> Tuple[int, int]:
    """1-based line and column (code points) of ``offset``, as the compiler's spans count them."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1

