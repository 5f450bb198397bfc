"""Tab completion for the REPL (a prompt_toolkit ``Completer``).

``.mlx`` statements complete through :func:`mldsl.service.completion.complete_mlx` (the same code the
language server uses) in the session's scope; ``:commands`` complete here: command names, defined
names, key paths (``:show NAME PATH``, ``:query NAME``), file names (``:load``, ``:save``) and options.
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator, Optional

from prompt_toolkit.completion import Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from mldsl.repl.commands import ALIASES, COMMANDS
from mldsl.service.completion import (RegistryInfo, Suggestion, complete_mlx, matching, names_of_kinds,
                                      path_suggestions)
from mldsl.service.inspect import value_paths

__all__ = ["MlxCompleter", "RegistryInfo", "value_paths"]


def _completion(s: Suggestion) -> Completion:
    return Completion(s.text, start_position=s.start, display=s.display, display_meta=s.meta)


class MlxCompleter(Completer):
    """Completes ``.mlx`` statements and ``:commands`` in the context of a REPL session."""

    def __init__(self, session, registry: Optional[RegistryInfo] = None) -> None:
        self.session = session
        self.registry = registry or RegistryInfo()
        self._paths = PathCompleter(expanduser=True)

    def get_completions(self, document: Document, complete_event) -> Iterator[Completion]:
        text = document.text_before_cursor
        if not (text.lstrip().startswith(":") and "\n" not in text):
            yield from (_completion(s) for s in complete_mlx(text, self.session, self.registry))
            return
        try:
            items = list(self._command_completions(text, complete_event))
        except Exception:  # completion must never break the prompt
            return
        seen = set()
        for c in items:
            if (c.text, c.start_position) not in seen:
                seen.add((c.text, c.start_position))
                yield c


    def _matching(self, word: str, candidates: Iterable[str], meta=None) -> Iterator[Completion]:
        return (_completion(s) for s in matching(word, candidates, meta))

    def _path_completions(self, word: str, paths: Iterable[str], value=None) -> Iterator[Completion]:
        return (_completion(s) for s in path_suggestions(word, paths, value))

    def _value_of(self, name: str):
        if name in self.session:
            return self.session.value(name)
        return None

    def _command_completions(self, text: str, complete_event) -> Iterator[Completion]:
        body = text.lstrip()
        if " " not in body:
            for name, c in COMMANDS.items():
                if (":" + name).startswith(body):
                    yield Completion(":" + name, start_position=-len(body), display_meta=c.help[:60])
            return
        cmd_word, _, rest = body.partition(" ")
        cmd = ALIASES.get(cmd_word[1:], cmd_word[1:])
        args = rest.split()
        if rest and not rest[-1].isspace():
            current = args.pop() if args else ""
        else:
            current = ""
        n = len(args)
        if current.startswith("-"):
            yield from self._matching(current, COMMANDS[cmd].options if cmd in COMMANDS else (), "option")
            return
        positional = [a for a in args if not a.startswith("-")]
        n = len(positional)
        if cmd == "help":
            if n == 0:
                yield from self._matching(current.lstrip(":"), list(COMMANDS), "command")
            return
        if cmd in ("load",) or (cmd == "save" and n >= 1):
            yield from self._file_completions(current, complete_event)
            return
        if cmd in ("show", "query", "space", "run", "search", "diff", "save", "patch") and (
                n == 0 or (cmd == "diff" and n == 1)):
            if any(ch in current for ch in ".[") and re.match(r"[A-Za-z_]\w*", current):
                name = re.match(r"[A-Za-z_]\w*", current).group()
                value = self._value_of(name)
                if value is not None:
                    inner = current[len(name):].lstrip(".")
                    for c in self._path_completions(inner, value_paths(value), value):
                        yield Completion(f"{name}.{c.text}" if not c.text.startswith("[") else name + c.text,
                                         start_position=-len(current), display=c.display,
                                         display_meta=c.display_meta)
                return
            kinds = {"run": ("experiment",), "search": ("search", "experiment"),
                     "space": ("experiment", "let")}.get(cmd)
            yield from self._matching(current, names_of_kinds(self.session, kinds), lambda x: self.session.kind(x) or "")
            return
        if cmd in ("show", "query") and n == 1:
            value = self._value_of(positional[0])
            if value is not None:
                yield from self._path_completions(current, value_paths(value), value)
            return
        if cmd == "patch" and n >= 1:
            yield from self._matching(current, names_of_kinds(self.session, ("patch",)), "patch")
            yield from self._matching(current, self.registry.patchers(), "patcher")

    def _file_completions(self, current: str, complete_event) -> Iterator[Completion]:
        doc = Document(current, len(current))
        for c in self._paths.get_completions(doc, complete_event):
            yield c
