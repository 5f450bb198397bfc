"""JSON for symbolic values: ``to_json``/``from_json``, ``*_str``, ``save``/``load``, and the
:class:`JSONConvertible` mixin that gives the node types ``to_json()``, ``to_json_str()`` and ``save()``.

Shape: an Object is ``{"_type": type_name, field: value, ...}``; Dict -> JSON object; List -> array;
tuple -> ``{"_tuple": [...]}``; nan/inf -> ``{"_float": "nan"|"inf"|"-inf"}``; a dict whose keys
collide with these markers -> ``{"_dict": {...}}``.

Safety: a ``_type`` name resolves ONLY through the optional ``resolver`` and the registered-type
table (``sym.register_type``); nothing is ever imported, unpickled, unmarshalled or evaluated.

Limits on JSON text (``parse_json_text``, used by ``from_json_str`` and ``load``): arrays and objects
nest at most ``MAX_JSON_DEPTH`` deep, integers fit in a signed 64-bit integer and no number overflows
a float (as in ``.mlx``); strings hold no lone surrogate (``"\\ud800"``). A violation is a
``JSONTextError`` with the line and column.
"""
from __future__ import annotations

import json
import math
import os
import re
from typing import Any, Callable, Optional

from mldsl.errors import SerializationError, UnknownTypeError, suggestion_text
from mldsl.textfile import TextFileError, read_text
from mldsl.symbolic._util import path_error
from mldsl.symbolic.base import Symbolic, eq
from mldsl.symbolic.key_path import KeyPath
from mldsl.symbolic.missing import MISSING
from mldsl.symbolic.type_table import find_type, registered_types

__all__ = ["to_json", "from_json", "to_json_str", "from_json_str", "save", "load", "parse_json_text",
           "JSONTextError", "MAX_JSON_DEPTH", "number_problem", "JSONConvertible"]

#: Deepest nesting of arrays and objects accepted in JSON text: twice the ``.mlx`` limit, since a
#: saved value may wrap each level (``{"_tuple": [...]}``), with room for the leaves.
MAX_JSON_DEPTH = 200
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

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
    if isinstance(value, str):
        return _check_text(value, path)
    if value is None or isinstance(value, (bool, int, float)):
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
        return Symbolic.DictType({_check_text(k, path): _decode(v, path + k, resolver, allow_partial)
                                  for k, v in value.items()}, root_path=path, allow_partial=allow_partial)
    raise path_error(f"Not a JSON value: {type(value).__name__} {value!r}.", path, cls=SerializationError)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_text(text: Any, path: KeyPath) -> Any:
    """``text``, refused when it holds a lone surrogate (it could never be written out as UTF-8)."""
    if isinstance(text, str):
        m = _SURROGATE.search(text)
        if m:
            raise path_error(f"A string holds the lone surrogate \\u{ord(m.group()):04x} (half of a UTF-16 "
                             "pair, not a character); write the character itself.", path,
                             cls=SerializationError)
    return text


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
    data = parse_json_text(text, source)
    return _reset_root(from_json(data, resolver=resolver, allow_partial=allow_partial))


def save(value: Any, path: "str | os.PathLike", indent: Optional[int] = 2, **kwargs: Any) -> str:
    """Write ``value`` as JSON to the file ``path``; returns the path."""
    text = to_json_str(value, indent=indent, **kwargs)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    return os.fspath(path)


def load(path: "str | os.PathLike", resolver: Optional[Resolver] = None, allow_partial: bool = False) -> Any:
    """Read a value saved with :func:`save` (types resolve only through the registered table/resolver).

    The file must be UTF-8 text of at most ``mldsl.textfile.MAX_TEXT_BYTES`` within the limits of
    :func:`parse_json_text`; a ``SerializationError`` says what is wrong otherwise."""
    try:
        text = read_text(path)
    except TextFileError as e:
        raise SerializationError(f"Cannot read {e}") from None
    return from_json_str(text, resolver=resolver, allow_partial=allow_partial, source=os.fspath(path))


# ------------------------------------------------------------------------------------ JSON text

class JSONTextError(SerializationError):
    """JSON text that cannot be read: ``source``, ``line`` and ``column`` (1-based), ``reason`` and
    ``kind``: ``"syntax"`` (not JSON), ``"depth"`` (nested too deeply) or ``"number"`` (out of range)."""

    def __init__(self, source: str, reason: str, line: int, column: int, kind: str = "syntax") -> None:
        self.source = source
        self.reason = reason
        self.kind = kind
        self.line = line
        self.column = column
        super().__init__(f"{source}: {reason} (line {line}, column {column})")


# strings (skipped whole), brackets and numbers, outside strings; the string pattern has no
# per-character alternation, so a long string costs no backtracking memory
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{]|[\]}]|-?[0-9][0-9.eE+-]*')


def parse_json_text(text: str, source: str = "<string>") -> Any:
    """``json.loads(text)`` within the limits in this module's docstring: ``JSONTextError`` with the
    position of the first problem (invalid JSON, nesting deeper than ``MAX_JSON_DEPTH``, an integer
    outside 64 bits, a number that overflows a float) instead of a ``RecursionError`` or ``ValueError``."""
    problem = _scan_limits(text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if problem is None or exc.pos < problem[0]:
            problem = (exc.pos, "syntax", f"invalid JSON: {exc.msg}")
    except (RecursionError, ValueError):  # too deep or too many digits: _scan_limits found where
        problem = problem or (0, "syntax", "invalid JSON")
    if problem is not None:
        pos, kind, reason = problem
        line = text.count("\n", 0, pos) + 1
        raise JSONTextError(source, reason, line, pos - (text.rfind("\n", 0, pos) + 1) + 1, kind)
    return data


def _scan_limits(text: str):
    """(offset, kind, reason) of the first bracket nested too deep or number out of range, or None."""
    depth = 0
    for m in _JSON_TOKEN.finditer(text):
        tok = m.group()
        first = tok[0]
        if first == '"':
            continue
        if first in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return m.start(), "depth", f"arrays and objects are nested more than {MAX_JSON_DEPTH} deep"
        elif first in "]}":
            depth = max(depth - 1, 0)
        elif len(tok) > 18 or "e" in tok or "E" in tok:
            reason = number_problem(tok)
            if reason and not reason.startswith("the integer"):
                sign = "-" if tok.startswith("-") else ""
                reason += f'; write {{"_float": "{sign}inf"}} for infinity'
            if reason:
                return m.start(), "number", reason
    return None


def number_problem(text: str) -> Optional[str]:
    """Why the number literal ``text`` (JSON or ``.mlx`` spelling) is out of range, or None: an
    integer must fit in a signed 64-bit integer, a float must not overflow to infinity."""
    if not any(c in text for c in ".eE"):
        sign = "-" if text.startswith("-") else ""
        digits = text.lstrip("+-").lstrip("0") or "0"
        if not digits.isdigit() or (len(digits) <= 19 and INT64_MIN <= int(sign + digits) <= INT64_MAX):
            return None  # in range, or not a number after all (the parser reports it)
        return (f"the integer {_clip(text)} does not fit in a signed 64-bit integer "
                f"({INT64_MIN} to {INT64_MAX})")
    try:
        value = float(text)
    except ValueError:
        return None
    if math.isinf(value):
        return f"the number {_clip(text)} is too large for a 64-bit float"
    return None


def _clip(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else f"{text[:12]}...{text[-6:]} ({len(text)} characters)"


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
