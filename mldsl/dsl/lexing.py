"""A forgiving tokenizer of (possibly incomplete) ``.mlx`` text, for the REPL and the language server.

The real parser (``mldsl.dsl``) rejects incomplete input; the front ends need to look at text while it is
being typed: is a statement finished (:func:`needs_more`), where does each statement of a pasted block
start (:func:`split_statements`), which names does a statement use (:func:`referenced_names`), and what
surrounds the cursor (used by completion, ``mldsl.service.completion``). Its keywords and token patterns come from the grammar
(``mldsl.dsl.vocabulary``); nothing else of mldsl is imported.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional

from mldsl.dsl.vocabulary import DEFINING_KEYWORDS, STATEMENT_KEYWORDS, TOKEN_PATTERNS

#: after one of these tokens the statement goes on (on the next line, if the line ends there)
CONTINUATION_TOKENS = ("with", ",", "=", "over")
OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {v: k for k, v in OPENERS.items()}

# the grammar's tokens, in the order the grammar's lexer prefers them, plus what may appear while typing
_TOKEN_RE = re.compile("|".join(f"(?P<{kind}>{pattern})" for kind, pattern in [
    ("ws", r"[ \t\f\r\n]+"),
    ("comment", TOKEN_PATTERNS["COMMENT"]),
    ("string", TOKEN_PATTERNS["STRING"]),
    ("badstring", r"[\"'][^\n]*"),
    ("float", TOKEN_PATTERNS["FLOAT"]),
    ("int", TOKEN_PATTERNS["INT"]),
    ("name", TOKEN_PATTERNS["NAME"]),
    ("punct", r"[(){}\[\],.=?]"),
    ("other", r"."),
]), re.DOTALL)


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is ws, comment, string, badstring, float, int, name, punct or other."""

    kind: str
    text: str
    start: int
    end: int


def tokenize(text: str, *, significant: bool = False) -> List[Token]:
    """Tokens of ``text``; never fails. ``significant=True`` drops whitespace and comments."""
    out = []
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if significant and kind in ("ws", "comment"):
            continue
        out.append(Token(kind, m.group(), m.start(), m.end()))
    return out


def open_brackets(tokens: List[Token]) -> Optional[List[Token]]:
    """The stack of still-open bracket tokens, or None when a closer does not match (an error)."""
    stack: List[Token] = []
    for tok in tokens:
        if tok.kind != "punct":
            continue
        if tok.text in OPENERS:
            stack.append(tok)
        elif tok.text in CLOSERS:
            if not stack or stack[-1].text != CLOSERS[tok.text]:
                return None
            stack.pop()
    return stack


def is_command(text: str) -> bool:
    """A REPL ``:command`` line (``:show mnist``)."""
    return text.lstrip().startswith(":")


def needs_more(text: str) -> bool:
    """Whether ``text`` is an unfinished statement the user will go on typing on the next line.

    True while a bracket or brace is open, or when the last line ends with ``with``, ``,``, ``=`` or
    ``over``, or a ``patch NAME``/``search NAME over SPACE`` statement has no block yet. A blank last
    line ends the input unless a bracket is open. Commands (``:...``) and unterminated strings never
    continue.
    """
    if not text.strip() or is_command(text):
        return False
    toks = tokenize(text, significant=True)
    if not toks or any(t.kind == "badstring" for t in toks):
        return False
    stack = open_brackets(toks)
    if stack is None:
        return False
    if stack:
        return True
    lines = text.split("\n")
    if len(lines) > 1 and not lines[-1].strip():
        return False
    last = toks[-1]
    if last.text in CONTINUATION_TOKENS and last.kind in ("name", "punct"):
        return True
    stmt = statement_tokens(toks)
    if len(stmt) >= 2 and stmt[0].text in ("patch", "search") and stmt[1].kind == "name":
        # `patch NAME` / `search NAME over SPACE` with the block on the next line
        return not any(t.text == "{" for t in stmt)
    return False


def _starts_statement(prev: Optional[Token], tok: Token) -> bool:
    if tok.kind != "name" or tok.text not in STATEMENT_KEYWORDS:
        return False
    if prev is not None and prev.kind == "name" and prev.text in DEFINING_KEYWORDS:
        return False  # the defined name itself (`let let = 3` is valid: keywords are contextual)
    return prev is None or prev.text not in CONTINUATION_TOKENS + (".",)


def statement_starts(tokens: List[Token]) -> List[int]:
    """Indexes (into significant ``tokens``) of the tokens that start a statement at depth 0."""
    starts, depth, prev = [], 0, None
    for i, tok in enumerate(tokens):
        if tok.kind == "punct" and tok.text in OPENERS:
            depth += 1
        elif tok.kind == "punct" and tok.text in CLOSERS:
            depth = max(depth - 1, 0)
        elif depth == 0 and _starts_statement(prev, tok):
            starts.append(i)
        prev = tok
    return starts


def statement_tokens(tokens: List[Token]) -> List[Token]:
    """The significant tokens of the last statement in ``tokens``."""
    starts = statement_starts(tokens)
    return tokens[starts[-1]:] if starts else tokens


@dataclass
class Statement:
    """One statement of REPL input: its text, its keyword and the name it defines (None for import)."""

    text: str
    keyword: Optional[str]
    name: Optional[str]


def split_statements(text: str) -> List[Statement]:
    """Splits text into statements (each keeps the comments and blank lines before it trimmed).

    Text before the first statement keyword (e.g. a bare expression) becomes a statement with
    ``keyword=None``.
    """
    toks = tokenize(text, significant=True)
    if not toks:
        return []
    starts = statement_starts(toks)
    bounds = [toks[i].start for i in starts]
    if not bounds or bounds[0] > toks[0].start:
        bounds.insert(0, toks[0].start)
    out = []
    for k, begin in enumerate(bounds):
        end = bounds[k + 1] if k + 1 < len(bounds) else len(text)
        chunk = text[begin:end].rstrip()
        sig = tokenize(chunk, significant=True)
        keyword = sig[0].text if sig and sig[0].kind == "name" and sig[0].text in STATEMENT_KEYWORDS else None
        name = None
        if keyword and keyword != "import" and len(sig) > 1 and sig[1].kind == "name":
            name = sig[1].text
        out.append(Statement(chunk, keyword, name))
    return out


def referenced_names(text: str) -> set:
    """Names a statement may refer to: name tokens that are not keyword-argument names, path keys
    (``x =``) or path/attribute segments (``.x``)."""
    toks = tokenize(text, significant=True)
    out = set()
    for i, tok in enumerate(toks):
        if tok.kind != "name":
            continue
        prev = toks[i - 1] if i > 0 else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if prev is not None and prev.text == ".":
            continue
        if nxt is not None and nxt.text == "=":
            continue
        out.add(tok.text)
    return out
