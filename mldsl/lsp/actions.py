"""``textDocument/codeAction``: quick fixes replacing a misspelt name by what its diagnostic's help
proposes (``did you mean 'units'?``), one action per candidate."""
from __future__ import annotations

from typing import List

from lsprotocol import types

from mldsl.lsp.diagnostics import SOURCE


def quick_fixes(uri: str, diagnostics: List[types.Diagnostic]) -> List[types.CodeAction]:
    """The fixes of the ``diagnostics`` the editor sends for a range of the document ``uri``."""
    actions = []
    for diagnostic in diagnostics:
        data = diagnostic.data if diagnostic.source == SOURCE and isinstance(diagnostic.data, dict) else {}
        candidates = [c for c in data.get("replacements", []) if isinstance(c, str)]
        for candidate in candidates:
            actions.append(types.CodeAction(
                title=f"Replace with '{candidate}'", kind=types.CodeActionKind.QuickFix,
                diagnostics=[diagnostic], is_preferred=len(candidates) == 1,
                edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=diagnostic.range,
                                                                       new_text=candidate)]})))
    return actions
