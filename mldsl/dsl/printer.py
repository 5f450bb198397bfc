"""Symbolic values -> canonical ``.mlx`` text.

``to_mlx(value)`` prints an expression; ``to_mlx(value, name="x")`` a statement (``experiment x = ...``,
``let x = ...``, ``patch x { ... }`` or ``search x over ... { ... }``, by the kind of value).
``parse(to_mlx(x, name="x"))["x"] == x`` and printing is a fixpoint.

Canonical form: components print their fields in schema order, leaving out fields equal to their
default; up to two leading required fields holding a scalar or a list print positionally
(``Dense(512, activation="relu")``), the rest as keywords. Lists and calls stay on one line when they fit
in 100 columns, else one item per line with a trailing comma; dicts print as ``{ key = value, ... }``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from mldsl import symbolic as sym
from mldsl.dsl import docs
from mldsl.dsl.layout import render

#: DSL names of the hyper primitives, as the language writes them.
HYPER_NAMES = ("oneof", "manyof", "floatv", "intv")


def to_mlx(value: Any, name: Optional[str] = None, kind: Optional[str] = None) -> str:
    """Canonical .mlx text of ``value``: an expression, or a statement defining ``name``.

    ``kind`` ("let", "experiment", "patch", "search") overrides the statement keyword guessed from the
    value. A module (``mldsl.parse`` result) prints all its own definitions.
    """
    from mldsl.dsl.module import Module

    if isinstance(value, Module):
        return value.to_mlx()
    if name is None:
        return render(value_doc(value)) + "\n"
    return render(statement_doc(name, value, kind)) + "\n"


def statement_doc(name: str, value: Any, kind: Optional[str] = None, space_name: Optional[str] = None):
    """The document of one statement defining ``name``."""
    from mldsl.dsl.module import Patch
    from mldsl.dsl.search import Search

    if kind is None:
        if isinstance(value, Patch):
            kind = "patch"
        elif isinstance(value, Search):
            kind = "search"
        elif getattr(type(value), "kind", None) == "experiment":
            kind = "experiment"
        else:
            kind = "let"
    if kind == "patch":
        return ["patch ", name, " ", patch_block(value)]
    if kind == "search":
        space = space_name if space_name is not None else value_doc(value.space)
        return ["search ", name, " over ", space, " ", search_block(value)]
    return [kind, " ", name, " = ", value_doc(value)]


def patch_block(patch) -> Any:
    """``{ path = value ... }`` for a mapping of path -> value."""
    return docs.block([[str(path), " = ", value_doc(v)] for path, v in patch.items()])


def search_block(search) -> Any:
    entries = [["algorithm = ", value_doc(search.algorithm)],
               ["trials = ", value_doc(search.trials)],
               ["objective = ", value_doc(search.objective)]]
    if search.early_stopping is not None:
        entries.append(["early_stopping = ", value_doc(search.early_stopping)])
    return docs.block(entries)


# --------------------------------------------------------------------------------------- values

def value_doc(value: Any):
    """The layout document of a value."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return docs.float_text(value)
    if isinstance(value, str):
        return docs.quote_string(value)
    if hasattr(value, "to_mlx_doc"):
        return value.to_mlx_doc()
    if isinstance(value, sym.Object):
        return object_doc(value)
    if isinstance(value, dict):
        return docs.seq("{", "}", [[docs.key_text(str(k)), " = ", value_doc(v)]
                                   for k, v in dict_items(value)], padded=True)
    if isinstance(value, (list, tuple)):
        return docs.seq("[", "]", [value_doc(v) for v in value])
    try:  # numpy scalars and friends
        import numbers

        if isinstance(value, numbers.Integral):
            return str(int(value))
        if isinstance(value, numbers.Real):
            return docs.float_text(float(value))
    except Exception:  # pragma: no cover
        pass
    raise TypeError(f"cannot print a {type(value).__name__} as .mlx: {value!r}")


def dict_items(value) -> List[tuple]:
    """Items of a dict to print: a dict with a schema leaves out entries equal to their default."""
    spec = getattr(value, "value_spec", None)
    schema = getattr(spec, "schema", None)
    if schema is None:
        return list(value.items())
    out = []
    for k, v in value.items():
        f = schema.fields.get(k)
        if f is not None and f.value_spec.has_default and _equal_default(v, f.value_spec.default,
                                                                         f.value_spec):
            continue
        out.append((k, v))
    return out


def _is_plain(value: Any) -> bool:
    """A scalar, a list or a hyper primitive: may be printed positionally."""
    if isinstance(value, sym.Object):
        return type(value) in _hyper_names()
    return not isinstance(value, dict)


def object_fields(value) -> List[tuple]:
    """``[(key, value, required)]`` of a symbolic object's fields that differ from the default."""
    schema = type(value).__schema__
    args = value.sym_init_args
    out = []
    for key, field in schema.fields.items():
        if key not in args:
            continue
        v = args[key]
        if v is sym.MISSING:
            continue
        spec = field.value_spec
        if spec.has_default:
            default = spec.default
            if _equal_default(v, default, spec):
                continue
        out.append((key, v, not spec.has_default))
    return out


def _equal_default(value, default, spec) -> bool:
    try:
        if sym.eq(value, default):
            return True
        if isinstance(default, (dict, list)) and isinstance(value, (dict, list)):
            return sym.eq(value, spec.apply(docs_copy(default)))
    except Exception:  # noqa: BLE001 - a default that cannot be compared is printed
        return False
    return False


def docs_copy(value):
    import copy

    return copy.deepcopy(value)


def call_name(value) -> str:
    """The name a symbolic object is called by in .mlx."""
    hyper = _hyper_names()
    name = hyper.get(type(value))
    if name:
        return name
    return getattr(type(value), "type_name", None) or type(value).__name__


def object_doc(value):
    fields = object_fields(value)
    positional: List[Any] = []
    keywords: List[Any] = []
    for i, (key, v, required) in enumerate(fields):
        if not keywords and required and len(positional) < 2 and _is_plain(v) \
                and list(type(value).__schema__.fields)[i] == key:
            positional.append(value_doc(v))
        else:
            keywords.append([key, "=", value_doc(v)])
    args = positional + keywords
    hug = len(args) == 1 and len(positional) == 1 and isinstance(fields[0][1], (list, dict))
    return docs.call(call_name(value), args, hug=hug)


_HYPER_CACHE: Dict[type, str] = {}


def _hyper_names() -> Dict[type, str]:
    """Hyper-primitive class -> DSL name (``OneOf`` -> ``oneof``), found from ``mldsl.hyper``."""
    if not _HYPER_CACHE:
        from mldsl.dsl.compiler import _hyper_function

        samples = {"oneof": lambda f: f([0, 1]), "manyof": lambda f: f(1, [0, 1]),
                   "floatv": lambda f: f(0.0, 1.0), "intv": lambda f: f(0, 1)}
        for name, make in samples.items():
            try:
                fn = _hyper_function(name)
            except ImportError:
                fn = None
            if fn is None:
                continue
            try:
                _HYPER_CACHE[type(make(fn))] = name
            except Exception:  # noqa: BLE001
                continue
    return _HYPER_CACHE
