"""Completion of ``.mlx`` text being typed, for every front end (the REPL's tab completion, the
language server's ``textDocument/completion``).

:func:`complete_mlx` takes the text before the cursor and a *scope* (what is defined: any object with
``names(kind=None)``, ``kind(name)``, ``value(name)`` and ``in``, such as the REPL's session or the
language server's analysis of a document) and returns :class:`Suggestion` values. What is offered
depends on where the cursor is:

* at the start of a statement: the statement keywords (``let``, ``experiment``, ...);
* where a value goes: component names (from the registry, so installed plugins' too), hyper
  primitives, defined names;
* inside a component's parentheses, where an argument starts: its parameter names (``units=``) from
  the component's schema; after ``param=`` the choices of an enum parameter;
* after ``with``: defined patches and the registry's patchers;
* inside ``with { ... }`` (and ``patch NAME { ... }``): the key paths of the experiment being derived
  (``training.optimizer.learning_rate``); inside a ``search`` block its settings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from mldsl.dsl.lexing import (CONTINUATION_TOKENS, OPENERS, Token, open_brackets, statement_starts,
                              statement_tokens, tokenize)
from mldsl.dsl.vocabulary import CONSTANTS, HYPER_PRIMITIVES, SEARCH_SETTINGS, STATEMENT_KEYWORDS
from mldsl.service.inspect import mlx_text, value_paths
from mldsl.service.output import shorten

#: The constants completion offers: the language's canonical (lower-case) spellings.
CANONICAL_CONSTANTS = tuple(c for c in CONSTANTS if c.islower())
_PATH_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\.|\[[0-9]*\]?)*$|\[?$")


@dataclass(frozen=True)
class Suggestion:
    """One completion: ``text`` replaces the ``-start`` characters before the cursor (``start`` <= 0);
    ``display`` is shown in the menu with ``meta`` (a short description); ``category`` says what it
    is: keyword, name, component, primitive, constant, parameter, choice, patch, patcher, path,
    setting or key."""

    text: str
    start: int
    display: str
    meta: str
    category: str


def _short(value: Any, width: int = 40) -> str:
    """A value on one line, defaults left out, cut to ``width`` (a completion's description)."""
    return shorten(mlx_text(value, hide_defaults=True), width)


def matching(word: str, candidates: Iterable[str], meta=None, category: str = "name",
             suffix: str = "") -> Iterator[Suggestion]:
    """The ``candidates`` that complete ``word`` (``meta``: a string, or a function of the candidate)."""
    for c in candidates:
        if c.startswith(word) and (c + suffix) != word:
            yield Suggestion(c + suffix, -len(word), c + suffix, meta(c) if callable(meta) else (meta or ""),
                             category)


def path_suggestions(word: str, paths: Iterable[str], value: Any = None) -> Iterator[Suggestion]:
    """The key ``paths`` that complete ``word``, each described by its value in ``value`` if given."""
    for p in paths:
        if p.startswith(word) and p != word:
            meta = ""
            if value is not None:
                try:
                    meta = _short(value.sym_get(p))
                except Exception:
                    meta = ""
            yield Suggestion(p, -len(word), p, meta, "path")


def complete_mlx(text: str, scope: Any, registry: Optional["RegistryInfo"] = None,
                 after: str = "") -> List[Suggestion]:
    """The suggestions for the cursor at the end of ``text`` (``.mlx`` being typed), each once, in
    order; never raises (an empty list when something goes wrong). ``after``: the text after the
    cursor, when there is some (in an editor): the parameters a call gives there are not offered."""
    try:
        items = list(_MlxCompletion(scope, registry or RegistryInfo(), after).complete(text))
    except Exception:  # completion must never break the editor or the prompt
        return []
    seen = set()
    out = []
    for s in items:
        if (s.text, s.start) not in seen:
            seen.add((s.text, s.start))
            out.append(s)
    return out


class RegistryInfo:
    """Lazy, cached look-ups in the component registry (empty when it cannot be loaded)."""

    def __init__(self) -> None:
        self._names: Optional[List[str]] = None
        self._kinds: Dict[str, str] = {}
        self._patchers: Optional[List[str]] = None
        self._fields: Dict[str, List[Tuple[str, Any]]] = {}

    def _registry(self):
        from mldsl.registry import get_registry

        return get_registry()

    def names(self) -> List[str]:
        """Every registered component name."""
        if self._names is None:
            try:
                reg = self._registry()
                self._names = list(reg.names())
                for n in self._names:
                    try:
                        self._kinds[n] = reg.kind_of(n)
                    except Exception:
                        pass
            except Exception:
                self._names = []
        return self._names

    def kind(self, name: str) -> str:
        """The kind of component ``name`` (``layer``, ``optimizer``, ...; empty if unknown)."""
        self.names()
        return self._kinds.get(name, "")

    def patchers(self) -> List[str]:
        """Every registered patcher name."""
        if self._patchers is None:
            try:
                self._patchers = list(self._registry().patchers())
            except Exception:
                self._patchers = []
        return self._patchers

    def fields(self, name: str) -> List[Tuple[str, Any]]:
        """``[(parameter name, Field)]`` of component ``name`` (empty if unknown)."""
        if name not in self._fields:
            out: List[Tuple[str, Any]] = []
            try:
                cls = self._registry().resolve(name)
                for key, field in cls.__schema__.fields.items():
                    out.append((str(key), field))
            except Exception:
                pass
            self._fields[name] = out
        return self._fields[name]


def _field_meta(field: Any) -> str:
    spec = getattr(field, "value_spec", None)
    desc = getattr(field, "description", None) or ""
    text = repr(spec) if spec is not None else ""
    if desc:
        text = f"{desc} {text}".strip()
    return text[:70]


def _spec_choices(spec: Any, depth: int = 0) -> Tuple[List[Any], List[str]]:
    """``(literal choices, component kinds)`` a value spec accepts (Enum values; the ``kind`` of
    Object specs; through Union candidates and List elements)."""
    literals: List[Any] = []
    kinds: List[str] = []
    if spec is None or depth > 5:
        return literals, kinds
    values = getattr(spec, "values", None)
    if isinstance(values, (list, tuple)):
        literals.extend(v for v in values if v is None or isinstance(v, (str, int, float, bool)))
    cls = getattr(spec, "cls", None)
    kind = getattr(cls, "kind", None) if isinstance(cls, type) else None
    if isinstance(kind, str):
        kinds.append(kind)
    for inner in list(getattr(spec, "candidates", None) or ()) + [getattr(spec, "element_spec", None)]:
        if inner is not None:
            more_literals, more_kinds = _spec_choices(inner, depth + 1)
            literals.extend(v for v in more_literals if v not in literals)
            kinds.extend(k for k in more_kinds if k not in kinds)
    return literals, kinds


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def names_of_kinds(scope: Any, kinds: Optional[Iterable[str]] = None) -> List[str]:
    """The names ``scope`` defines (a REPL session or an editor's document: ``names()`` and ``kind(name)``),
    only those of ``kinds`` (``"let"``, ``"experiment"``, ``"patch"``, ``"search"``) when given."""
    names = scope.names()
    if kinds is None:
        return names
    kinds = set(kinds)
    return [n for n in names if scope.kind(n) in kinds]


class _MlxCompletion:
    """The suggestions for ``.mlx`` text in one scope (the REPL's session, a document's module)."""

    def __init__(self, scope: Any, registry: RegistryInfo, after: str = "") -> None:
        self.session = scope
        self.registry = registry
        self.after = after

    def _rest_of_call(self) -> List[Token]:
        """The significant tokens after the cursor, up to the bracket that closes the enclosing one."""
        out: List[Token] = []
        depth = 0
        for t in tokenize(self.after, significant=True):
            if t.text in OPENERS:
                depth += 1
            elif t.text in (")", "]", "}"):
                if depth == 0:
                    break
                depth -= 1
            out.append(t)
        return out

    def _session_names(self, kinds: Optional[Iterable[str]] = None) -> List[str]:
        return names_of_kinds(self.session, kinds)

    def _value_completions(self, word: str) -> Iterator[Suggestion]:
        yield from matching(word, self._session_names(("let", "experiment")),
                            lambda n: self.session.kind(n) or "", "name")
        yield from matching(word, self.registry.names(), self.registry.kind, "component")
        yield from matching(word, HYPER_PRIMITIVES, "hyper primitive", "primitive")
        yield from matching(word, CANONICAL_CONSTANTS, "constant", "constant")

    def complete(self, text: str) -> Iterator[Suggestion]:
        toks = tokenize(text)
        if toks and toks[-1].kind == "badstring":
            yield from self._in_string(text, toks[-1])
            return
        if toks and toks[-1].kind == "comment":
            return
        m = _PATH_WORD.search(text)
        path_word = m.group() if m else ""
        word_m = re.search(r"[A-Za-z_][A-Za-z0-9_]*$", text)
        word = word_m.group() if word_m else ""
        if word and len(text) > len(word) and re.match(r"[0-9]", text[-len(word) - 1]):
            return  # part of a number (1e5)
        if not word and text and (text[-1].isalnum() or text[-1] in "\"')]}_") and not path_word:
            return  # right after a number, a string or a closing bracket
        before = text[: len(text) - len(word)]
        sig = tokenize(before, significant=True)
        stack = open_brackets(sig) or []
        prev = sig[-1] if sig else None

        if stack:
            opener = stack[-1]
            idx = next(i for i, t in enumerate(sig) if t.start == opener.start)
            if opener.text == "(":
                yield from self._in_call(word, sig, idx, prev)
                return
            if opener.text == "{":
                yield from self._in_block(word, path_word, text, sig, idx, prev)
                return
            yield from self._value_completions(word)  # in a list
            return

        stmt = statement_tokens(sig)
        if not stmt:  # the start of a statement (or of an expression to evaluate)
            yield from matching(word, STATEMENT_KEYWORDS, "keyword", "keyword")
            yield from matching(word, self._session_names(), lambda n: self.session.kind(n) or "", "name")
            return
        head = stmt[0].text if stmt[0].kind == "name" else None
        if prev.text == "with" or (prev.text == "," and any(t.text == "with" for t in stmt)):
            yield from matching(word, self._session_names(("patch",)), "patch", "patch")
            yield from matching(word, self.registry.patchers(), "patcher", "patcher")
            return
        if head == "search" and prev.text == "over":
            yield from matching(word, self._session_names(("experiment",)), "experiment", "name")
            return
        if prev.text == "=":
            yield from self._value_completions(word)
            return
        if head == "search" and len(stmt) == 2:
            yield from matching(word, ["over"], "keyword", "keyword")
            return
        if _ends_statement(stmt) or head not in STATEMENT_KEYWORDS:
            if head in ("let", "experiment"):
                yield from matching(word, ["with"], "keyword", "keyword")
            yield from matching(word, STATEMENT_KEYWORDS, "keyword", "keyword")

    def _in_string(self, text: str, tok: Token) -> Iterator[Suggestion]:
        """An unterminated string after ``param=`` in a call: the parameter's string choices."""
        sig = tokenize(text[: tok.start], significant=True)
        stack = open_brackets(sig) or []
        if not stack or stack[-1].text != "(" or len(sig) < 2 or sig[-1].text != "=" or sig[-2].kind != "name":
            return
        idx = next(i for i, t in enumerate(sig) if t.start == stack[-1].start)
        callee = sig[idx - 1].text if idx > 0 and sig[idx - 1].kind == "name" else None
        param = dict(self.registry.fields(callee)).get(sig[-2].text) if callee else None
        literals, _ = _spec_choices(getattr(param, "value_spec", None))
        quote = tok.text[0]
        for v in literals:
            if isinstance(v, str) and (quote + v).startswith(tok.text):
                yield Suggestion(quote + v + quote, -len(tok.text), quote + v + quote, "choice", "choice")

    def _in_call(self, word: str, sig: List[Token], idx: int, prev: Optional[Token]) -> Iterator[Suggestion]:
        callee = sig[idx - 1].text if idx > 0 and sig[idx - 1].kind == "name" else None
        fields = self.registry.fields(callee) if callee else []
        if prev is not None and prev.text in ("(", ","):
            given = set()
            depth = 0
            args = sig[idx + 1:] + self._rest_of_call()
            for i, t in enumerate(args):
                if t.text in OPENERS:
                    depth += 1
                elif t.text in (")", "]", "}"):
                    depth -= 1
                elif depth == 0 and t.kind == "name" and i + 1 < len(args) and args[i + 1].text == "=":
                    given.add(t.text)
            meta = {name: _field_meta(f) for name, f in fields}
            yield from matching(word, [n for n, _ in fields if n not in given], meta.get, "parameter", suffix="=")
            yield from self._value_completions(word)
            return
        if prev is not None and prev.text == "=" and len(sig) >= 2 and sig[-2].kind == "name":
            param = dict(fields).get(sig[-2].text)
            literals, kinds = _spec_choices(getattr(param, "value_spec", None))
            yield from matching(word, [_literal(v) for v in literals], "choice", "choice")
            if kinds:
                wanted = [n for n in self.registry.names() if self.registry.kind(n) in kinds]
                yield from matching(word, wanted, self.registry.kind, "component")
        yield from self._value_completions(word)

    def _block_owner(self, sig: List[Token], idx: int) -> Tuple[str, Any]:
        """What a ``{`` at ``sig[idx]`` belongs to: ("with", base value), ("patch", None),
        ("search", None), ("dict", (callee, key)) or ("value", None)."""
        prev = sig[idx - 1] if idx > 0 else None
        starts = statement_starts(sig[:idx + 1])
        stmt_start = starts[-1] if starts else 0
        head = sig[stmt_start].text
        if head == "patch" and idx == stmt_start + 2:
            return "patch", None
        if head == "search" and prev is not None and prev.kind == "name" and \
                any(t.text == "over" for t in sig[stmt_start:idx]):
            return "search", None
        # `base with {` or `base with p, {`
        depth = 0
        for i in range(idx - 1, stmt_start - 1, -1):
            t = sig[i]
            if t.text in (")", "]", "}"):
                depth += 1
            elif t.text in OPENERS:
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and t.text == "with":
                base = sig[i - 1] if i > 0 else None
                if base is not None and base.kind == "name" and base.text in self.session:
                    return "with", self.session.value(base.text)
                return "with", None
        if prev is not None and prev.text == "=" and idx >= 2 and sig[idx - 2].kind == "name":
            # `training = {` inside `Experiment(`
            key = sig[idx - 2].text
            stack = open_brackets(sig[:idx - 2]) or []
            if stack and stack[-1].text == "(":
                j = next(k for k, t in enumerate(sig) if t.start == stack[-1].start)
                if j > 0 and sig[j - 1].kind == "name":
                    return "dict", (sig[j - 1].text, key)
        return "value", None

    def _in_block(self, word: str, path_word: str, text: str, sig: List[Token], idx: int,
                  prev: Optional[Token]) -> Iterator[Suggestion]:
        owner, info = self._block_owner(sig, idx)
        # a key goes after `{`, `,` or (on a new line) after the previous entry; a value after `=`
        before_path = text[: len(text) - len(path_word)]
        psig = tokenize(before_path, significant=True)
        pprev = psig[-1] if psig else None
        if pprev is None:
            return
        if pprev.text in ("{", ","):
            key_pos = True
        elif pprev.kind in ("name", "int", "float", "string") or pprev.text in (")", "]", "}"):
            key_pos = "\n" in before_path[pprev.end:]
        else:
            key_pos = False
        if not key_pos:
            if pprev.text == "=":
                yield from self._value_completions(word)
            return
        if owner == "with":
            if info is not None:
                yield from path_suggestions(path_word, value_paths(info), info)
            return
        if owner == "patch":
            seen: List[str] = []
            for name in self._session_names(("experiment",)):
                for p in value_paths(self.session.value(name)):
                    if p not in seen:
                        seen.append(p)
            yield from path_suggestions(path_word, seen)
            return
        if owner == "search":
            yield from matching(word, SEARCH_SETTINGS, "setting", "setting", suffix=" = ")
            return
        if owner == "dict" and info is not None:
            callee, key = info
            field = dict(self.registry.fields(callee)).get(key)
            for sub in _dict_keys(field):
                if sub.startswith(word) and sub != word:
                    yield Suggestion(sub + " = ", -len(word), sub, "key", "key")


def _ends_statement(stmt: List[Token]) -> bool:
    """Whether the tokens of a statement at depth 0 already form a whole statement."""
    head = stmt[0].text
    if head == "import":
        return len(stmt) >= 2
    if head in ("let", "experiment"):
        return len(stmt) >= 4 and stmt[2].text == "=" and stmt[-1].text not in CONTINUATION_TOKENS
    if head in ("patch", "search"):
        return stmt[-1].text == "}"
    return False


def _dict_keys(field: Any) -> List[str]:
    """Keys of a ``Dict(fields=[...])`` value spec (best effort over the spec's attributes)."""
    spec = getattr(field, "value_spec", None)
    for attr in ("schema", "fields", "_fields"):
        inner = getattr(spec, attr, None)
        if inner is None:
            continue
        inner_fields = getattr(inner, "fields", inner)
        try:
            if isinstance(inner_fields, dict):
                return [str(k) for k in inner_fields]
            return [str(getattr(f, "key", f[0] if isinstance(f, tuple) else f)) for f in inner_fields]
        except Exception:
            continue
    return []
