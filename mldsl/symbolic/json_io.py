"""JSON for symbolic values: ``to_json``/``from_json``, ``*_str``, ``save``/``load``, and the
:class:`JSONConvertible` mixin that gives the node types ``to_json()``, ``to_json_str()`` and ``save()``.

Shape: an Object is ``{"_type": type_name, field: value, ...}``; Dict -> JSON object; List -> array;
tuple -> ``{"_tuple": [...]}``; nan/inf -> ``{"_float": "nan"|"inf"|"-inf"}``; a dict whose keys
collide with these markers -> ``{"_dict": {...}}``.

Safety: a ``_type`` name resolves ONLY through the optional ``resolver`` and the registered-type
table (``sym.register_type``); nothing is ever imported, unpickled, unmarshalled or evaluated.
"""
from __future__ import annotations

import json
import math
import os
from typing import Any, Callable, Optional

from mldsl.errors import SerializationError, UnknownTypeError, suggestion_text
from mldsl.symbolic._util import path_error
from mldsl.symbolic.base import Symbolic, eq
from mldsl.symbolic.key_path import KeyPath
from mldsl.symbolic.missing import MISSING
from mldsl.symbolic.type_table import find_type, registered_types

__all__ = ["to_json", "from_json", "to_json_str", "from_json_str", "save", "load", "JSONConvertible"]

_MARKERS = frozenset({"_type", "_tuple", "_float", "_dict"})

Resolver = Callable[[str], Optional[type]]


def to_json(value: Any, hide_default_values: bool = False, **kwargs: Any) -> Any:
    """The JSON value (dict/list/str/int/float/bool/None) of a symbolic value or plain value.

    Object fields that are ``MISSING`` (partial objects) are left out; with ``hide_default_values``
    fields equal to their default are left out too.
    """
    return _encode(value, KeyPath(), hide_default_values)


def _encode(value: Any, path: KeyPath, hide: bool) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            return {"_float": "nan"}
        if math.isinf(value):
            return {"_float": "inf" if value > 0 else "-inf"}
        return float(value)
    if isinstance(value, Symbolic.ObjectType):
        out = {"_type": type(value).type_name}
        for k, v in value._sym_child_items():
            if v is MISSING:
                continue
            if hide:
                spec = value._sym_child_spec(k)
                if spec is not None and spec.has_default and eq(v, spec.default):
                    continue
            out[k] = _encode(v, path + k, hide)
        return out
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise path_error(f"Cannot convert a dict with key {k!r} ({type(k).__name__}) to JSON: "
                                 "keys must be str.", path, cls=SerializationError)
            if v is MISSING:
                continue
            out[k] = _encode(v, path + k, hide)
        return {"_dict": out} if _MARKERS.intersection(out) else out
    if isinstance(value, list):
        items = []
        for i, v in enumerate(value):
            if v is MISSING:
                raise path_error("Cannot convert MISSING list element to JSON.", path + i,
                                 cls=SerializationError)
            items.append(_encode(v, path + i, hide))
        return items
    if isinstance(value, tuple):
        return {"_tuple": [_encode(v, path + i, hide) for i, v in enumerate(value)]}
    if value is MISSING:
        raise path_error("Cannot convert MISSING to JSON.", path, cls=SerializationError)
    raise path_error(f"Cannot convert {type(value).__name__} value {value!r} to JSON: only symbolic "
                     "objects, dicts, lists, tuples, str, int, float, bool and None are supported.", path,
                     cls=SerializationError)


def from_json(json_value: Any, resolver: Optional[Resolver] = None, allow_partial: bool = False,
              root_path: Any = None) -> Any:
    """Rebuild a symbolic value from its JSON value.

    ``resolver(type_name) -> cls | None`` is consulted before the registered-type table. An unknown
    ``_type`` raises UnknownTypeError naming it. Values are validated as on construction.
    """
    return _decode(json_value, KeyPath.from_value(root_path), resolver, allow_partial)


def _resolve(name: Any, resolver: Optional[Resolver], path: KeyPath) -> type:
    if not isinstance(name, str):
        raise path_error(f"'_type' must be a str, got {type(name).__name__}: {name!r}.", path,
                         cls=SerializationError)
    cls = resolver(name) if resolver is not None else None
    if cls is None:
        cls = find_type(name)
    if cls is None:
        msg = (f"Unknown type {name!r}: it is not a registered symbolic type (mldsl never imports "
               "modules named in JSON; load the plugin that defines it)")
        hint = suggestion_text(name, registered_types())
        msg += f"; {hint}" if hint else "."
        raise path_error(msg, path, cls=UnknownTypeError, type_name=name)
    if not (isinstance(cls, type) and issubclass(cls, Symbolic.ObjectType)):
        raise path_error(f"Type name {name!r} resolved to {cls!r}, which is not a sym.Object class.", path,
                         cls=UnknownTypeError, type_name=name)
    return cls


def _decode(value: Any, path: KeyPath, resolver: Optional[Resolver], allow_partial: bool) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return Symbolic.ListType([_decode(v, path + i, resolver, allow_partial) for i, v in enumerate(value)],
                    root_path=path, allow_partial=allow_partial)
    if isinstance(value, dict):
        if "_type" in value:
            cls = _resolve(value["_type"], resolver, path)
            kwargs = {}
            for k, v in value.items():
                if k == "_type":
                    continue
                if not isinstance(k, str):
                    raise path_error(f"Field names must be str, got {k!r}.", path, cls=SerializationError)
                kwargs[k] = _decode(v, path + k, resolver, allow_partial)
            obj = cls.__new__(cls)
            obj._sym_init_fields((), kwargs, allow_partial, path)
            return obj
        if "_tuple" in value:
            _only(value, "_tuple", path)
            items = value["_tuple"]
            if not isinstance(items, list):
                raise path_error("'_tuple' must be a list.", path, cls=SerializationError)
            return tuple(_decode(v, path + i, resolver, allow_partial) for i, v in enumerate(items))
        if "_float" in value:
            _only(value, "_float", path)
            text = value["_float"]
            if text not in ("nan", "inf", "-inf"):
                raise path_error(f"'_float' must be 'nan', 'inf' or '-inf', got {text!r}.", path,
                                 cls=SerializationError)
            return float(text)
        if "_dict" in value:
            _only(value, "_dict", path)
            value = value["_dict"]
            if not isinstance(value, dict):
                raise path_error("'_dict' must be an object.", path, cls=SerializationError)
        return Symbolic.DictType({k: _decode(v, path + k, resolver, allow_partial) for k, v in value.items()},
                    root_path=path, allow_partial=allow_partial)
    raise path_error(f"Not a JSON value: {type(value).__name__} {value!r}.", path, cls=SerializationError)


def _only(value: dict, marker: str, path: KeyPath) -> None:
    if len(value) != 1:
        raise path_error(f"A {marker!r} object must have no other keys, got {sorted(value)}.", path,
                         cls=SerializationError)


def _reset_root(value: Any) -> Any:
    if isinstance(value, Symbolic) and value.sym_parent is None:
        object.__setattr__(value, "_sym_root_path", KeyPath())
    return value


def to_json_str(value: Any, indent: Optional[int] = None, hide_default_values: bool = False,
                **kwargs: Any) -> str:
    """JSON text of ``value`` (see :func:`to_json`)."""
    return json.dumps(to_json(value, hide_default_values=hide_default_values), indent=indent,
                      allow_nan=False, ensure_ascii=False)


def from_json_str(text: str, resolver: Optional[Resolver] = None, allow_partial: bool = False,
                  source: str = "<string>") -> Any:
    """Rebuild a value from JSON text (see :func:`from_json`)."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise SerializationError(f"{source}: invalid JSON: {e}") from None
    return _reset_root(from_json(data, resolver=resolver, allow_partial=allow_partial))


def save(value: Any, path: "str | os.PathLike", indent: Optional[int] = 2, **kwargs: Any) -> str:
    """Write ``value`` as JSON to the file ``path``; returns the path."""
    text = to_json_str(value, indent=indent, **kwargs)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    return os.fspath(path)


def load(path: "str | os.PathLike", resolver: Optional[Resolver] = None, allow_partial: bool = False) -> Any:
    """Read a value saved with :func:`save` (types resolve only through the registered table/resolver)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise SerializationError(f"Cannot read {os.fspath(path)}: {e.strerror or e}") from None
    return from_json_str(text, resolver=resolver, allow_partial=allow_partial, source=os.fspath(path))


class JSONConvertible:
    """Mixin of the node types: ``to_json()``, ``to_json_str()`` and ``save(path)`` (as in PyGlove)."""

    def to_json(self, **kwargs: Any) -> Any:
        """The JSON value (dicts/lists/scalars) of this node; see :func:`to_json`."""
        return to_json(self, **kwargs)

    def to_json_str(self, **kwargs: Any) -> str:
        """The JSON text of this node; see :func:`to_json_str`."""
        return to_json_str(self, **kwargs)

    def save(self, path: "str | os.PathLike", **kwargs: Any) -> str:
        """Writes this node as JSON to ``path`` (see :func:`save`); returns the path."""
        return save(self, path, **kwargs)
