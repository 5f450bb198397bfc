"""Looking at values without running them: as ``.mlx``, by path and type, as a search space, and what
their backend cannot run. ``show``, ``query``, ``space`` and ``check`` on the command line and ``:show``,
``:query`` and ``:space`` in the REPL print what these return.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from mldsl.errors import MldslError


def mlx_text(value: Any, name: Optional[str] = None, kind: Optional[str] = None, *, hide_defaults: bool = False,
             verbose: bool = False) -> str:
    """``value`` as ``.mlx`` (``mldsl.dsl.printer.to_mlx``: an expression, or with ``name`` the statement
    defining it), without the final newline. A value ``.mlx`` cannot write (a ``Diff``, a Python object)
    gives its symbolic ``format()``, else its ``repr``."""
    from mldsl.dsl.printer import to_mlx

    try:
        return to_mlx(value, name=name, kind=kind, hide_defaults=hide_defaults, verbose=verbose).rstrip("\n")
    except TypeError:
        from mldsl import symbolic as sym

        return sym.format(value) if isinstance(value, sym.Symbolic) else repr(value)


def _type_matches(value: Any, wanted: str) -> bool:
    """Whether ``value``'s class, a base class, or its component kind is called ``wanted``."""
    if value is None:
        return False
    names = set()
    for cls in type(value).__mro__:
        names.update((cls.__name__, getattr(cls, "type_name", None), getattr(cls, "kind", None)))
    return wanted in names


def query(value: Any, regex: str, where_type: Optional[str] = None) -> Dict[Any, Any]:
    """``path -> value`` for every path of ``value`` matching ``regex`` (``re.search``), only values of
    type or component kind ``where_type`` when given (``Dense``, ``layer``)."""
    from mldsl import symbolic as sym

    try:
        re.compile(regex)
    except re.error as exc:
        raise MldslError(f"bad regular expression {regex!r}: {exc}") from None
    where = (lambda v: _type_matches(v, where_type)) if where_type else None
    return sym.query(value, path_regex=regex or None, where=where)


def space_lines(value: Any, name: str = "the value") -> List[str]:
    """The decision points of a search space, or of a ``search`` statement's space (as ``dna_spec``
    prints them), and its size; for a value without hyper primitives, one line saying so."""
    from mldsl.dsl.search_statement import Search
    from mldsl.hyper import dna_spec, is_deterministic

    space = value.space if isinstance(value, Search) else value
    if is_deterministic(space):
        return [f"{name} has no hyper primitives (oneof, manyof, floatv, intv): space size 1"]
    spec = dna_spec(space)
    return [str(spec), f"space size: {size_text(spec.space_size)}"]


def size_text(size: Any) -> str:
    """A space size: ``1,024``, or ``infinite (continuous values)``."""
    try:
        return "infinite (continuous values)" if size == float("inf") else f"{int(size):,}"
    except (TypeError, ValueError, OverflowError):
        return str(size)


#: The code of what an experiment's backend cannot run (LANGUAGE.md's table of codes).
BACKEND_CODE = "E050"


@dataclass
class BackendFinding:
    """What the backend of the definition ``name`` cannot run: an ``error`` (its explicit backend
    would fail) or a note (``auto`` will pick another backend)."""

    name: str
    error: bool
    message: str


def backend_findings(module: Any) -> List[BackendFinding]:
    """For each experiment and search space of ``module`` (once per distinct value), what its backend
    cannot run (``backend_notes``)."""
    from mldsl.backends.base import backend_notes
    from mldsl.hyper import is_deterministic
    from mldsl.registry import get_registry

    found, seen = [], []
    for name, kind in module.kinds.items():
        if kind not in ("experiment", "search"):
            continue
        value = module[name].space if kind == "search" else module[name]
        if any(value is v or value == v for v in seen):
            continue
        seen.append(value)
        notes, errors = backend_notes(value, get_registry(), is_deterministic(value))
        found += [BackendFinding(name, bool(errors), note) for note in notes]
    return found


def backend_problems(module: Any, path: str) -> Tuple[List[str], bool]:
    """:func:`backend_findings` as ``mldsl check`` prints them, ``FILE:NAME: error[E050]: ...`` or
    ``FILE:NAME: note: ...`` lines; and whether any is an error."""
    findings = backend_findings(module)
    lines = [f"{path}:{f.name}: {f'error[{BACKEND_CODE}]' if f.error else 'note'}: {f.message}" for f in findings]
    return lines, any(f.error for f in findings)


#: The most paths :func:`value_paths` lists (a completion menu needs no more).
MAX_PATHS = 5000


def _children(value: Any) -> Optional[List[Tuple[Any, Any]]]:
    from mldsl import symbolic as sym

    if isinstance(value, sym.Object):
        return list(value.sym_init_args.items())
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, (list, tuple)):
        return list(enumerate(value))
    return None


def value_paths(value: Any) -> List[str]:
    """Every key path inside ``value`` (``model``, ``model.layers``, ``model.layers[0]``, ...), in field
    order, at most :data:`MAX_PATHS`."""
    from mldsl.symbolic import KeyPath

    out: List[str] = []

    def walk(v: Any, prefix: KeyPath, depth: int) -> None:
        if len(out) >= MAX_PATHS or depth > 30:
            return
        for key, child in _children(v) or ():
            path = prefix + key
            out.append(str(path))
            if _children(child):
                walk(child, path, depth + 1)

    walk(value, KeyPath(), 0)
    return out
