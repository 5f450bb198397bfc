"""``mldsl.parse`` / ``mldsl.load_mlx``: .mlx text or files to a ``Module`` of named symbolic values;
``mldsl.load``: the value ``mldsl.save`` wrote (PyGlove's ``pg.load``); ``load_module``: either kind of
file as a ``Module``, for the command line and the REPL."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Iterable, List, Union

from mldsl.dsl.diagnostics import MlxError, raise_collected
from mldsl.dsl.module import Module
from mldsl.dsl.spelling import name_for
from mldsl.errors import MldslError

PathLike = Union[str, "os.PathLike[str]"]


def parse(text: str, filename: str = "<string>", *, registry=None,
          import_roots: Iterable[str] = ()) -> Module:
    """Compiles .mlx ``text`` into a ``Module`` (ordered name -> symbolic value).

    Imports are resolved relative to ``filename``'s folder (the current folder for ``<string>``) and
    may read only ``.mlx`` files inside that folder, ``$MLDSL_PATH`` or ``import_roots``
    (``mldsl.dsl.imports``). Raises ``MlxError`` (one error) or ``MlxErrors`` (several, all reported
    together).
    """
    module, errors = compile_source(text, filename, registry=registry, import_roots=import_roots)
    raise_collected(errors)
    return module


def compile_source(text: str, filename: str = "<string>", *, registry=None,
                   import_roots: Iterable[str] = ()):
    """(module, errors): like ``parse`` but returns the errors instead of raising them."""
    from mldsl.dsl.compiler import Session
    from mldsl.gcpause import full_collections_paused
    from mldsl.dsl.imports import ImportPolicy

    session = Session(registry, ImportPolicy.for_source(filename, import_roots))
    chain = (os.path.realpath(filename),) if not filename.startswith("<") else ()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 8000))  # deeply nested values recurse through several layers
    try:
        with full_collections_paused():
            module = session.compile_text(text, filename, chain)
    except RecursionError:  # a backstop: the nesting and import limits keep the stack far from this
        err = MlxError("expressions are nested too deeply", code="E007", filename=filename, line=1,
                       column=1)
        return Module(filename, text), [err]
    finally:
        sys.setrecursionlimit(limit)
    return module, sorted(session.errors, key=MlxError.sort_key)


def check(path: PathLike, *, registry=None) -> List[MlxError]:
    """Every error in the file at ``path`` (and the files it imports), sorted; [] when it is fine."""
    path = os.fspath(path)
    if path.endswith(".json"):
        try:
            load(path, registry=registry)
        except MlxError as exc:
            return exc.errors
        return []
    try:
        text = read_source(path)
    except MlxError as exc:
        return [exc]
    return compile_source(text, path, registry=registry)[1]


def load_mlx(path: PathLike, *, registry=None) -> Module:
    """Compiles the ``.mlx`` file at ``path`` into a ``Module`` (its named definitions, imports
    included); ``module["NAME"]`` is one value. A ``.json`` file is refused: ``load`` reads those."""
    path = os.fspath(path)
    if path.endswith(".json"):
        raise MldslError(f"{path} is JSON: mldsl.load(path) reads a value saved with mldsl.save "
                         f"(mldsl.load_mlx reads .mlx programs)")
    return parse(read_source(path), path, registry=registry)


def load(path: PathLike, *, registry=None) -> Any:
    """The value ``mldsl.save(value, path)`` wrote: ``load`` is the inverse of ``save``, as PyGlove's
    ``pg.load`` is of ``pg.save``. Types resolve only through the plugin registry and the registered
    symbolic types; nothing named in the file is imported.

    A ``.mlx`` file defines several named values, not one, so it is refused with an error pointing to
    :func:`load_mlx`, which returns its ``Module``. Bad JSON or an unknown type raises ``MlxError``
    naming the file and line."""
    path = os.fspath(path)
    if path.endswith(".mlx"):
        raise MldslError(f"{path} is an .mlx program (several named definitions): load it with "
                         f"mldsl.load_mlx(path), which returns its Module; mldsl.load reads one value "
                         f"saved with mldsl.save")
    try:
        return _read_saved(path, registry)[1]
    except MlxError as exc:
        if exc.code == "E003":  # not JSON: perhaps an .mlx program under another name
            exc.notes.append("mldsl.load reads a value saved with mldsl.save; an .mlx program is read "
                             "with mldsl.load_mlx(path)")
        raise


def load_module(path: PathLike, *, registry=None) -> Module:
    """The definitions of a file given to the command line or the REPL: a ``.json`` file written by
    ``mldsl.save`` gives a module of one value named after the file's stem; any other file is ``.mlx``."""
    path = os.fspath(path)
    if path.endswith(".json"):
        return _load_json(path, registry)
    return load_mlx(path, registry=registry)


def read_source(path: str) -> str:
    """The text of the ``.mlx`` or JSON file ``path`` a user named (``mldsl.textfile.read_text``:
    UTF-8, BOM skipped, at most 1 MiB, a regular file); an ``MlxError`` (E012) otherwise, at the first
    invalid byte when the file is not UTF-8 (its line is shown with the byte replaced)."""
    from mldsl.textfile import TextFileError, read_text

    try:
        return read_text(path)
    except TextFileError as exc:
        advice = f"; {exc.advice}" if exc.advice else ""
        raise MlxError(f"the file {exc.reason}{advice}", code="E012", filename=path, line=exc.line,
                       column=exc.column, source_line=exc.line_text) from None


def _read_saved(path: str, registry):
    """(text, value) of a JSON file written by ``mldsl.save``; MlxError for bad JSON or types."""
    from mldsl import symbolic as sym
    from mldsl.dsl.search_statement import Search  # noqa: F401 - registers the Search types for JSON
    from mldsl.errors import UnknownTypeError

    if registry is None:
        from mldsl.registry import get_registry

        registry = get_registry()
    text = read_source(path)
    data = _parse_json(text, path)
    try:
        value = sym.from_json(data, resolver=registry.json_resolver)
    except MldslError as exc:  # an unknown type (E020), or a value its spec refuses (E024)
        code = "E020" if isinstance(exc, UnknownTypeError) else "E024"
        raise MlxError(str(exc), code=code, filename=path, line=1, column=1) from None
    return text, value


def _load_json(path: str, registry) -> Module:
    from mldsl.dsl.ir import Span
    from mldsl.dsl.module import Definition, Origin, Provenance
    from mldsl.dsl.search_statement import Search

    text, value = _read_saved(path, registry)
    name = name_for(Path(path).stem)
    kind = "experiment" if getattr(type(value), "kind", None) == "experiment" else "let"
    if isinstance(value, Search):
        kind = "search"
    module = Module(path, text)
    span = Span(path, 1, 1, 1, 2)
    prov = Provenance()
    prov.add((), Origin.at(span, f"loaded from {path}"))
    module.definitions[name] = Definition(name, kind, value, span, span, prov)
    module.own.append(name)
    return module


def _parse_json(text: str, path: str):
    """JSON data of ``text`` within the limits of ``mldsl.symbolic.json_io.parse_json_text``; an
    ``MlxError`` at the problem otherwise (E003 bad JSON, E007 nested too deeply, E024 a number out
    of range)."""
    from mldsl.dsl.parser import source_line, split_lines
    from mldsl.symbolic.json_io import JSONTextError, parse_json_text

    try:
        return parse_json_text(text, path)
    except JSONTextError as exc:
        code = {"depth": "E007", "number": "E024"}.get(exc.kind, "E003")
        raise MlxError(exc.reason, code=code, filename=path, line=exc.line, column=exc.column,
                       source_line=source_line(split_lines(text), exc.line)) from None
