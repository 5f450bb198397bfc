"""The REPL's session: every accepted statement, and the module they compile to.

Each new input is compiled in the context of the earlier statements by parsing the accumulated text
followed by the new text; only input that compiles is kept, so the session is always a valid ``.mlx``
program (``Session.source()``). Errors in the new input are reported with positions relative to it
(``<repl>:1:12``), with the caret under the offending text.

Redefining a name replaces its earlier definition. Statements that used the old definition keep the
value they had (like variables in Python): they are first rewritten as their current value, printed
as ``.mlx`` (snapshots). Values made outside the language (``:patch``, ``:load x.json``) are added the
same way.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, List, Optional, Tuple

from mldsl.dsl.module import Module
from mldsl.errors import MldslError, suggestion_text
from mldsl.dsl.lexing import Statement, referenced_names, split_statements

FILENAME = "<repl>"


def to_mlx(value: Any, name: str, kind: Optional[str]) -> str:
    """The statement defining ``name`` as ``value`` (``kind``: let, experiment, patch, search; None: the
    printer picks it from the value)."""
    from mldsl.dsl.printer import to_mlx as print_mlx

    return print_mlx(value, name=name, kind=kind).rstrip("\n")


def _each_error(exc: Exception) -> List[Any]:
    """The ``MlxError`` values ``exc`` carries (itself, and those of an ``MlxErrors``), each once."""
    from mldsl.dsl.diagnostics import MlxError

    if not isinstance(exc, MlxError):
        return []
    found = {id(err): err for err in exc.errors + [exc]}
    return list(found.values())


def _shift_errors(exc: Exception, offset: int, filename: str) -> None:
    """Makes the positions of ``exc`` (an MlxError/MlxErrors) relative to the new input, which starts
    on line ``offset + 1`` of the parsed text."""
    for err in _each_error(exc):
        if err.filename == filename and err.line > offset:
            err.line -= offset
            err.end_line = max(err.end_line - offset, err.line)


class Session:
    """The statements accepted so far and the values they define.

    ``names()`` lists the defined names in order, ``value(name)`` gives one, ``kind(name)`` says which
    statement made it (``let``, ``experiment``, ``patch``, ``search``).
    """

    def __init__(self, filename: str = FILENAME) -> None:
        self.filename = filename
        self.statements: List[Statement] = []
        self.module = Module(filename)
        #: folders imports may read besides the current one: those of the files given to ``load``
        self.import_roots: List[str] = []

    # ------------------------------------------------------------------------------------ queries
    def names(self, kind: Optional[str] = None) -> List[str]:
        """Defined names (of a statement kind, if given), in definition order."""
        return self.module.names(kind)

    def __contains__(self, name: str) -> bool:
        return name in self.module

    def value(self, name: str) -> Any:
        """The value defined as ``name``; a helpful :class:`MldslError` when there is none."""
        if name not in self.module:
            hint = suggestion_text(name, list(self.module))
            raise MldslError(f"{name!r} is not defined; " + (hint or f"defined: {', '.join(self.module) or 'nothing yet'}"))
        return self.module[name]

    def kind(self, name: str) -> Optional[str]:
        """``let``, ``experiment``, ``patch`` or ``search``: the statement that defined ``name``."""
        return self.module.kinds.get(name)

    def experiments(self) -> List[str]:
        """Names of the defined experiments (statement kind ``experiment``)."""
        return self.names("experiment")

    def source(self) -> str:
        """The session as one ``.mlx`` program."""
        return "\n".join(s.text for s in self.statements) + ("\n" if self.statements else "")

    # ------------------------------------------------------------------------------------ changes
    def execute(self, text: str, *, where: Optional[Tuple[str, int]] = None) -> List[str]:
        """Compiles ``text`` (one or more statements) after the earlier ones and keeps it if it
        compiles; returns the names it defined. Raises the DSL's error (positions relative to
        ``text``, or to ``where = (name, first line)``: ``("<stdin>", 12)``) and leaves the session
        unchanged otherwise."""
        new = split_statements(text)
        if not new:
            return []
        bad = [s for s in new if s.keyword is None]
        if bad:
            # not a statement: let the parser explain, at the right position
            self._compile(self.statements, text, where=where)
            raise MldslError("expected a statement (let, experiment, patch, search or import)")
        defined = [s.name for s in new if s.name]
        context = self._context_without(defined)
        module = self._compile(context, text, where=where)
        self.statements = context + new
        self.module = module
        return defined

    def evaluate(self, text: str, *, where: Optional[Tuple[str, int]] = None) -> Any:
        """The value of an expression, in the session's context (nothing is kept)."""
        name = "__repl_value__"
        context = list(self.statements)
        prefix = f"let {name} = "
        module = self._compile(context, prefix + text, column_shift=len(prefix), where=where)
        return module[name]

    def define(self, name: str, value: Any, keyword: str = "experiment") -> None:
        """Defines (or redefines) ``name`` as ``value`` (a value made outside the language) by adding
        the statement ``<keyword> <name> = <value as .mlx>``."""
        self.execute(to_mlx(value, name=name, kind=keyword))

    def load(self, path: str | os.PathLike) -> List[str]:
        """Loads a ``.mlx`` or ``.json`` file (no other) into the session; returns the names it defined.

        A ``.mlx`` file is checked on its own first (errors point into the file), then its
        statements are added; ``import`` statements in it are made absolute so they still resolve.
        A ``.json`` file (saved by ``mldsl.symbolic.save``) holds one value, named after the file's stem.
        The file's folder joins the folders imports may read (``mldsl.dsl.imports``).
        """
        p = Path(path).expanduser()
        if p.suffix.lower() not in (".mlx", ".json"):
            raise MldslError(f"load reads .mlx and .json files, not {path}")
        if not p.exists():
            raise MldslError(f"no such file: {path}")
        if p.suffix.lower() == ".json":
            from mldsl.dsl.api import load_module

            module = load_module(str(p))
            for name in module:  # named after the file's stem, made a valid name (``dsl.spelling.name_for``)
                self.define(name, module[name], module.kinds[name])
            return list(module)
        from mldsl.dsl.api import parse, read_source

        text = read_source(str(p))
        parse(text, filename=str(p))  # errors point into the file itself
        folder = str(p.parent.resolve())
        if folder not in self.import_roots:
            self.import_roots.append(folder)
        stmts = split_statements(text)
        fixed = []
        for s in stmts:
            if s.keyword == "import":
                fixed.append(_absolute_import(s.text, p.parent))
            else:
                fixed.append(s.text)
        return self.execute("\n".join(fixed))

    def reset(self) -> None:
        """Forgets everything."""
        self.statements = []
        self.module = Module(self.filename)
        self.import_roots = []

    # ------------------------------------------------------------------------------------ helpers
    def _compile(self, context: List[Statement], text: str, column_shift: int = 0,
                 where: Optional[Tuple[str, int]] = None) -> Any:
        head = "".join(s.text + "\n" for s in context)
        offset = head.count("\n")
        from mldsl.dsl.api import parse

        try:
            return parse(head + text, filename=self.filename, import_roots=self.import_roots)
        except MldslError as exc:
            _shift_errors(exc, offset, self.filename)
            if column_shift:
                _shift_columns(exc, column_shift)
            if where is not None:
                _relocate(exc, self.filename, *where)
            raise

    def _context_without(self, redefined: Iterable[str]) -> List[Statement]:
        """The earlier statements with the definitions of ``redefined`` dropped; statements that used
        them are replaced by snapshots of their values."""
        redefined = {n for n in redefined if n in self.module or any(s.name == n for s in self.statements)}
        if not redefined:
            return list(self.statements)
        imported = [n for n in self.module if n not in self.module.own]
        inline_imports = bool(redefined & set(imported))
        out: List[Statement] = []
        for stmt in self.statements:
            if stmt.keyword == "import" and inline_imports:
                # a name an import brought in is redefined: the imports become snapshots of what
                # they defined (all at the first import, so every later statement still sees them)
                for n in imported:
                    if n not in redefined:
                        out.append(self._snapshot(Statement("", self.kind(n), n)))
                imported = []
                continue
            if stmt.name in redefined:
                continue
            if stmt.name and referenced_names(stmt.text) & redefined:
                out.append(self._snapshot(stmt))
            else:
                out.append(stmt)
        return out

    def _snapshot(self, stmt: Statement) -> Statement:
        if not stmt.name or stmt.name not in self.module:
            return stmt
        try:
            text = to_mlx(self.module[stmt.name], name=stmt.name, kind=stmt.keyword)
        except TypeError:  # .mlx cannot write this value: keep the text (it sees the new definition)
            if not stmt.text:
                raise MldslError(f"cannot redefine {stmt.name!r}: the definitions imported with it "
                                 "cannot be printed back as .mlx") from None
            return stmt
        return Statement(text, stmt.keyword, stmt.name)


def _relocate(exc: Exception, filename: str, name: str, first_line: int) -> None:
    """Renames ``filename`` to ``name`` in the errors and moves them down to ``first_line``."""
    for err in _each_error(exc):
        if err.filename != filename:
            continue
        err.filename = name
        if err.line > 0:
            err.line += first_line - 1
            err.end_line += first_line - 1


def _shift_columns(exc: Exception, shift: int) -> None:
    """Moves the columns of errors on the first line ``shift`` to the left (the text compiled there had
    ``let __repl_value__ = `` before the input)."""
    for err in _each_error(exc):
        if err.line == 1 and err.column > shift:
            err.column -= shift
            if err.end_line == 1:
                err.end_column = max(err.end_column - shift, err.column + 1)
            if err.source_line is not None and len(err.source_line) >= shift:
                err.source_line = err.source_line[shift:]


def _absolute_import(text: str, folder: Path) -> str:
    import re

    m = re.match(r'(\s*import\s+)(["\'])(.*)\2(.*)$', text, re.S)
    if not m:
        return text
    target = m.group(3)
    if os.path.isabs(target):
        return text
    resolved = (folder / target).resolve()
    return f'{m.group(1)}"{resolved.as_posix()}"{m.group(4)}'
