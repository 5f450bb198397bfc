"""``mldsl.parse`` / ``mldsl.load_mlx``: .mlx text or files to a ``Module`` of named symbolic values;
``mldsl.load``: the value ``mldsl.save`` wrote (PyGlove's ``pg.load``); ``load_module``: either kind of
file as a ``Module``, for the command line and the REPL."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, List, Union

from mldsl.dsl.diagnostics import MlxError, raise_collected
from mldsl.dsl.module import Module
from mldsl.errors import MldslError

PathLike = Union[str, "os.PathLike[str]"]


def parse(text: str, filename: str = "<string>", *, registry=None) -> Module:
    """Compiles .mlx ``text`` into a ``Module`` (ordered name -> symbolic value).

    Imports are resolved relative to ``filename``'s folder (the current folder for ``<string>``).
    Raises ``MlxError`` (one error) or ``MlxErrors`` (several, all reported together).
    """
    module, errors = compile_source(text, filename, registry=registry)
    raise_collected(errors)
    return module


def compile_source(text: str, filename: str = "<string>", *, registry=None):
    """(module, errors): like ``parse`` but returns the errors instead of raising them."""
    from mldsl.dsl.compiler import Session

    session = Session(registry)
    chain = (os.path.abspath(filename),) if filename != "<string>" else ()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 8000))  # deeply nested values recurse through several layers
    try:
        module = session.compile_text(text, filename, chain)
    except RecursionError:
        err = MlxError("expressions are nested too deeply", code="E001", filename=filename, line=1,
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
            load_module(path, registry=registry)
        except MlxError as exc:
            return exc.errors
        return []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return compile_source(text, path, registry=registry)[1]


def load_mlx(path: PathLike, *, registry=None) -> Module:
    """Compiles the ``.mlx`` file at ``path`` into a ``Module`` (its named definitions, imports
    included); ``module["NAME"]`` is one value. A ``.json`` file is refused: ``load`` reads those."""
    path = os.fspath(path)
    if path.endswith(".json"):
        raise MldslError(f"{path} is JSON: mldsl.load(path) reads a value saved with mldsl.save "
                         f"(mldsl.load_mlx reads .mlx programs)")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return parse(text, path, registry=registry)


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


def _read_saved(path: str, registry):
    """(text, value) of a JSON file written by ``mldsl.save``; MlxError for bad JSON or types."""
    import json

    from mldsl import symbolic as sym
    from mldsl.dsl.search import Search  # noqa: F401 - registers the Search types for JSON

    if registry is None:
        from mldsl.registry import get_registry

        registry = get_registry()
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MlxError(f"invalid JSON: {exc.msg}", code="E003", filename=path, line=exc.lineno,
                       column=exc.colno, source_line=(text.splitlines() or [""])[exc.lineno - 1]
                       if exc.lineno <= len(text.splitlines()) else None) from None
    try:
        value = sym.from_json(data, resolver=registry.json_resolver)
    except MldslError as exc:
        raise MlxError(str(exc), code="E020", filename=path, line=1, column=1) from None
    return text, value


def _load_json(path: str, registry) -> Module:
    from mldsl.dsl.ir import Span
    from mldsl.dsl.module import Definition, Origin, Provenance
    from mldsl.dsl.search import Search

    text, value = _read_saved(path, registry)
    name = Path(path).stem
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
