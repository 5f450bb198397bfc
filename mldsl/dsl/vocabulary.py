"""The words and tokens of the ``.mlx`` language, read once from its grammar (``grammars/mlx.lark``).

The grammar is the one home of the statement keywords, the literal constants and the token patterns;
the parser's error recovery, the tokenizer of text being typed (``mldsl.dsl.lexing``) and the Pygments lexer
(``mldsl.highlight``) take them from here. Reading uses Lark's grammar loader only (no parse tables,
a few milliseconds) and imports nothing else of mldsl.

- ``STATEMENT_KEYWORDS``: the first word of each statement (``import``, ``let``, ...).
- ``DEFINING_KEYWORDS``: the statement keywords followed by the name they define.
- ``KEYWORDS``: every keyword (the statement keywords, ``over``, ``with``).
- ``CONSTANTS``: the words that are literal values (``true``, ``None``, ``inf``, ...); they cannot
  name a definition. ``NEGATIVE_CONSTANTS`` holds ``-inf``.
- ``TOKEN_PATTERNS``: terminal name -> regular expression (``NAME``, ``INT``, ``FLOAT``, ``STRING``,
  ``COMMENT``).

The language's built-in callee names are listed here as well, since they are not components:
``HYPER_PRIMITIVES`` (``oneof``..., the factories of ``mldsl.hyper``), ``OBJECTIVES``
(``maximize``, ``minimize``) and the settings of a ``search`` block (``SEARCH_SETTINGS``).
"""
from __future__ import annotations

import re
from typing import Dict, List, Tuple

#: The hyper primitives as the language writes them: each is the factory of that name in
#: ``mldsl.hyper`` and the ``type_name`` of the class it returns.
HYPER_PRIMITIVES: Tuple[str, ...] = ("oneof", "manyof", "floatv", "intv")
#: The goals of a search's ``objective`` (``maximize("accuracy")``).
OBJECTIVES: Tuple[str, ...] = ("maximize", "minimize")
#: The settings of a ``search NAME over SPACE { ... }`` block, in canonical order.
SEARCH_SETTINGS: Tuple[str, ...] = ("algorithm", "trials", "objective", "early_stopping")
#: The settings a ``search`` block must give.
REQUIRED_SEARCH_SETTINGS: Tuple[str, ...] = ("trials", "objective")

_WORD = re.compile(r"[A-Za-z_]\w*\Z")


def grammar_text() -> str:
    """The text of ``mlx.lark`` as installed with the package."""
    from importlib import resources

    return resources.files("mldsl.grammars").joinpath("mlx.lark").read_text(encoding="utf-8")


def read_vocabulary(text: str):
    """(statement keywords, defining keywords, keywords, constants, negative constants, token patterns)
    of the grammar ``text``: a statement keyword begins an alternative of ``statement`` (a defining one
    is followed by NAME); a constant is a word that alone is an alternative of ``expr``; a keyword is
    any other word the grammar spells out; the token patterns are its named regular-expression
    terminals."""
    from lark.load_grammar import load_grammar

    grammar, _ = load_grammar(text, "mlx.lark", [], False)
    terminals, rules, _ = grammar.compile(["start"], set())
    patterns = {t.name: t.pattern for t in terminals}

    def literal(symbol) -> str:
        pattern = patterns.get(symbol.name) if symbol.is_term else None
        return pattern.value if pattern is not None and pattern.type == "str" else ""

    statements: List[str] = []
    defining: List[str] = []
    constants: List[str] = []
    for rule in rules:
        first = literal(rule.expansion[0]) if rule.expansion else ""
        if rule.origin.name == "statement" and first and first not in statements:
            statements.append(first)
            if len(rule.expansion) > 1 and rule.expansion[1].name == "NAME":
                defining.append(first)
        elif rule.origin.name == "expr" and len(rule.expansion) == 1 and first and first not in constants:
            constants.append(first)
    words = [p.value for p in patterns.values() if p.type == "str" and _WORD.match(p.value)]
    keywords = statements + [w for w in words if w not in statements and w not in constants]
    tokens = {name: p.to_regexp() for name, p in patterns.items() if p.type == "re" and not name.startswith("_")}
    return (tuple(statements), tuple(defining), tuple(keywords),
            tuple(c for c in constants if _WORD.match(c)), tuple(c for c in constants if not _WORD.match(c)),
            tokens)


(STATEMENT_KEYWORDS, DEFINING_KEYWORDS, KEYWORDS, CONSTANTS, NEGATIVE_CONSTANTS,
 TOKEN_PATTERNS) = read_vocabulary(grammar_text())
TOKEN_PATTERNS: Dict[str, str]

_NAME = re.compile(TOKEN_PATTERNS["NAME"] + r"\Z")


def is_name(text: str) -> bool:
    """Whether ``text`` is a NAME token (an identifier the language reads as one word)."""
    return isinstance(text, str) and bool(_NAME.match(text))


def can_define(text: str) -> bool:
    """Whether ``text`` may name a definition: a NAME that is not a literal constant."""
    return is_name(text) and text not in CONSTANTS
