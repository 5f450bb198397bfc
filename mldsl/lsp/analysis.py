"""One open document compiled: its module, its errors, and the names it defines, for every feature of the
server. Compiling is ``mldsl.dsl.api.compile_source``, the path of ``mldsl check``."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from mldsl.dsl.diagnostics import MlxError
from mldsl.dsl.lexing import Token, tokenize
from mldsl.dsl.module import Definition, Module
from mldsl.errors import MldslError


@dataclass
class Analysis:
    """``text`` of the document at ``path`` compiled to ``module`` (what compiled) and ``errors``
    (sorted, as ``mldsl check`` reports them). ``fallback``: the definitions of the last version
    without errors, for what the current text does not define while it is being edited."""

    text: str
    path: str
    module: Module
    errors: List[MlxError]
    fallback: Dict[str, Definition] = field(default_factory=dict)

    def definition(self, name: str) -> Optional[Definition]:
        """The definition of ``name``: the current text's, else that of the last version without errors."""
        return self.module.definitions.get(name) or self.fallback.get(name)

    def names(self, kind: Optional[str] = None) -> List[str]:
        """The defined names (of a statement kind), the current text's first."""
        names = list(self.module.definitions) + [n for n in self.fallback if n not in self.module.definitions]
        return [n for n in names if kind is None or self.definition(n).kind == kind]

    # the completion scope of mldsl.service.completion
    def kind(self, name: str) -> Optional[str]:
        d = self.definition(name)
        return d.kind if d is not None else None

    def value(self, name: str) -> Any:
        return self.definition(name).value

    def __contains__(self, name: str) -> bool:
        return self.definition(name) is not None


def analyse(text: str, path: str, previous: Optional[Analysis] = None) -> Analysis:
    """Compiles ``text`` (the document at ``path``; imports resolve from its folder). ``previous``: the
    analysis of the earlier version, whose definitions fill in while this one has errors."""
    from mldsl.dsl.api import compile_source

    try:
        module, errors = compile_source(text, path)
    except MldslError as exc:  # a plugin refusing something: still an error in this file, not a crash
        module, errors = Module(path, text), [MlxError(str(exc), code="E024", filename=path, line=1, column=1)]
    fallback: Dict[str, Definition] = {}
    if previous is not None:
        fallback = dict(previous.module.definitions) if not previous.errors else dict(previous.fallback)
    return Analysis(text, path, module, errors, {} if not errors else fallback)


def name_at(text: str, offset: int) -> Optional[Token]:
    """The name token under (or just before) the code-point ``offset`` of ``text``; None elsewhere."""
    for tok in tokenize(text):
        if tok.start <= offset <= tok.end and tok.kind == "name":
            return tok
        if tok.start > offset:
            break
    return None


def token_at(text: str, offset: int) -> Optional[Token]:
    """The token under the code-point ``offset`` of ``text``: a name touching it first (the cursor just
    after a word is on it), else the token containing it."""
    return name_at(text, offset) or next((t for t in tokenize(text) if t.start <= offset < t.end), None)


def same_file(a: str, b: str) -> bool:
    """Whether the file names ``a`` and ``b`` (as spans and errors carry them) are the same file;
    ``<...>`` pseudo-names only equal themselves."""
    return a == b or (not a.startswith("<") and not b.startswith("<")
                      and os.path.realpath(a) == os.path.realpath(b))
