"""``mldsl.parse`` / ``mldsl.load``: .mlx text or files (or JSON saved by the symbolic core) to a
``Module`` of named symbolic values."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Union

from mldsl.dsl.diagnostics import MlxError, raise_collected
from mldsl.dsl.module import Module

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
            load(path, registry=registry)
        except MlxError as exc:
            return exc.errors
        return []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return compile_source(text, path, registry=registry)[1]


def load(path: PathLike, *, registry=None) -> Module:
    """Loads a ``.mlx`` file, or a ``.json`` file saved by ``mldsl.symbolic.save`` (a module holding
    one value named after the file's stem; types resolve through the plugin registry)."""
    path = os.fspath(path)
    if path.endswith(".json"):
        return _load_json(path, registry)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return parse(text, path, registry=registry)


def _load_json(path: str, registry) -> Module:
    import json

    from mldsl import symbolic as sym
    from mldsl.dsl.ir import Span
    from mldsl.dsl.module import Definition, Origin, Provenance
    from mldsl.dsl.search_statement import Search  # registers the Search types for JSON
    from mldsl.errors import MldslError

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
