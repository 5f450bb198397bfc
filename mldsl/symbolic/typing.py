"""Value specs: the types of symbolic fields (``sym.typing``, also ``mldsl.typing``).

Every spec takes ``default=`` (omitted: the value is required) and has ``.noneable()``.
``spec.apply(value, path)`` returns the validated (possibly converted) value or raises
:class:`mldsl.errors.ValidationError` whose message ends with ``(path=...)``, e.g.
``Value 0 is out of range (min=1, max=None). (path=training.batch_size)``.
"""
from __future__ import annotations

import collections.abc as _abc
import copy as _copy
import inspect
import numbers
import re
import types as _types
import typing as _t
from typing import Any as _AnyT, Iterable, Optional, Sequence

from mldsl.errors import ValidationError, suggestion_text
from mldsl.symbolic._util import path_error, type_label
from mldsl.symbolic.base import Symbolic
from mldsl.symbolic.key_path import KeyPath
from mldsl.symbolic.missing import MISSING

__all__ = [
    "CustomTyping", "ValueSpec", "Int", "Float", "Str", "Bool", "Enum", "List", "Dict", "Object",
    "Callable", "Any", "Union", "Field", "Schema", "from_annotation", "MISSING",
]


class CustomTyping:
    """Mixin for values that validate themselves against a spec (hyper primitives such as ``oneof``).

    When a value that is a ``CustomTyping`` is applied to any spec, the spec calls
    ``value.custom_apply(path, value_spec, allow_partial)`` instead of its normal check.
    It returns ``(accepted, value)``: ``(True, v)`` accepts ``v`` as the field's value;
    ``(False, v)`` continues with the spec's normal validation of ``v``.
    To reject, raise :class:`~mldsl.errors.ValidationError` (carrying ``(path=...)``).
    """

    def custom_apply(self, path: KeyPath, value_spec: "ValueSpec", allow_partial: bool):
        """Validate ``self`` against ``value_spec``; return ``(accepted, value)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement custom_apply")


def _type_error(expected: str, value: _AnyT, path: KeyPath) -> ValidationError:
    return path_error(f"Expected {expected} but got {type_label(value)}: {value!r}.", path,
                      type_mismatch=True)


def _copy_default(value: _AnyT) -> _AnyT:
    if isinstance(value, Symbolic):
        return value.clone(deep=True)
    if isinstance(value, (list, dict, set)):
        return _copy.deepcopy(value)
    return value


class ValueSpec:
    """Base class of value specs.

    Attributes: ``default`` (``MISSING`` when required), ``has_default``, ``is_noneable``.
    """

    def __init__(self, default: _AnyT = MISSING) -> None:
        self._noneable = False
        self._default = MISSING
        if default is None:
            self._noneable = True
        self._set_default(default)

    def _set_default(self, default: _AnyT) -> None:
        if default is not MISSING and default is not None:
            try:
                self.apply(_copy_default(default), KeyPath())
            except ValidationError as e:
                raise ValidationError(f"Invalid default for {type(self).__name__}: {e}") from None
        self._default = default

    # -- properties -----------------------------------------------------------------------------
    @property
    def default(self) -> _AnyT:
        """The default value (``MISSING`` if the value is required)."""
        return self._default

    @property
    def has_default(self) -> bool:
        """Whether the spec has a default (a field with one may be omitted)."""
        return self._default is not MISSING

    @property
    def is_noneable(self) -> bool:
        """Whether None is accepted."""
        return self._noneable

    def noneable(self) -> "ValueSpec":
        """A copy of this spec that also accepts None (default None unless one was given)."""
        spec = _copy.copy(self)
        spec._noneable = True
        if spec._default is MISSING:
            spec._default = None
        return spec

    def with_default(self, default: _AnyT) -> "ValueSpec":
        """A copy of this spec whose default is ``default`` (None makes it accept None): how a
        signature's default completes a spec written without one (``@patcher``, ``@symbolize``)."""
        if default is None:
            return self.noneable()
        spec = _copy.copy(self)
        spec._set_default(default)
        return spec

    # -- validation -------------------------------------------------------------------------------
    def apply(self, value: _AnyT, path: _AnyT = None, allow_partial: bool = False) -> _AnyT:
        """Validate ``value`` (at ``path``) and return it, converted where the spec converts.

        ``MISSING`` becomes (a copy of) the default; a required value that is missing is an error
        unless ``allow_partial``. Plain lists/dicts become ``sym.List``/``sym.Dict``.
        """
        path = KeyPath.from_value(path)
        if value is MISSING:
            if self.has_default:
                value = _copy_default(self._default)
                if value is None:
                    return None
            elif allow_partial:
                return MISSING
            else:
                raise path_error("Required value is not specified.", path)
        if value is None:
            if self._noneable:
                return None
            raise path_error(f"Value cannot be None (expected {self!r}).", path, type_mismatch=True)
        if isinstance(value, CustomTyping):
            accepted, value = value.custom_apply(path, self, allow_partial)
            if accepted:
                return value
        return self._apply(value, path, allow_partial)

    def _apply(self, value: _AnyT, path: KeyPath, allow_partial: bool) -> _AnyT:
        return value

    # -- printing -----------------------------------------------------------------------------------
    def _repr_args(self) -> list[str]:
        return []

    def _common_args(self) -> list[str]:
        args = []
        if self._default is not MISSING and not (self._default is None and self._noneable):
            args.append(f"default={self._default!r}")
        elif self._default is None:
            args.append("default=None")
        if self._noneable:
            args.append("noneable=True")
        return args

    def _lead_args(self) -> list[str]:
        return []

    def __repr__(self) -> str:
        args = self._lead_args() + self._common_args() + self._repr_args()
        return f"{type(self).__name__}({', '.join(args)})"

    def format(self, **kwargs: _AnyT) -> str:
        """The spec as text (for schema printing)."""
        return repr(self)


class Any(ValueSpec):
    """Any value (None included). Plain lists/dicts become free-form ``sym.List``/``sym.Dict``."""

    def __init__(self, default: _AnyT = MISSING) -> None:
        super().__init__(default)
        self._noneable = True

    def _apply(self, value, path, allow_partial):
        if isinstance(value, Symbolic):
            return value
        if isinstance(value, list):
            return List(ANY)._apply(value, path, allow_partial)
        if isinstance(value, dict):
            return Dict()._apply(value, path, allow_partial)
        return value

    def _common_args(self):
        return [f"default={self._default!r}"] if self._default is not MISSING else []


ANY = Any()


class _Number(ValueSpec):
    _label = "number"

    def __init__(self, default=MISSING, min_value=None, max_value=None) -> None:
        if min_value is not None and max_value is not None and min_value > max_value:
            raise ValidationError(f"{type(self).__name__}: min_value {min_value!r} > max_value {max_value!r}.")
        self.min_value = min_value
        self.max_value = max_value
        super().__init__(default)

    def _check_range(self, value, path):
        if (self.min_value is not None and value < self.min_value) or (
                self.max_value is not None and value > self.max_value):
            raise path_error(f"Value {value!r} is out of range (min={self.min_value!r}, "
                             f"max={self.max_value!r}).", path)
        return value

    def _repr_args(self):
        args = []
        if self.min_value is not None:
            args.append(f"min_value={self.min_value!r}")
        if self.max_value is not None:
            args.append(f"max_value={self.max_value!r}")
        return args


class Int(_Number):
    """An int (bool is rejected) with optional inclusive ``min_value``/``max_value``."""

    def _apply(self, value, path, allow_partial):
        if type(value) is not int and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
            raise _type_error("int", value, path)
        return self._check_range(int(value), path)


class Float(_Number):
    """A float (ints accepted, stored as float) with optional inclusive ``min_value``/``max_value``."""

    def _apply(self, value, path, allow_partial):
        if type(value) is not float and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
            raise _type_error("float", value, path)
        return self._check_range(float(value), path)


class Str(ValueSpec):
    """A str, optionally matching ``regex`` (``re.match``: anchored at the start)."""

    def __init__(self, default=MISSING, regex: Optional[str] = None) -> None:
        self.regex = re.compile(regex) if isinstance(regex, str) else regex
        super().__init__(default)

    def _apply(self, value, path, allow_partial):
        if not isinstance(value, str):
            raise _type_error("str", value, path)
        if self.regex is not None and not self.regex.match(value):
            raise path_error(f"String {value!r} does not match regex {self.regex.pattern!r}.", path)
        return value

    def _repr_args(self):
        return [f"regex={self.regex.pattern!r}"] if self.regex is not None else []


class Bool(ValueSpec):
    """A bool: ``True``/``False`` (``true``/``false`` in .mlx), or NumPy's bool (stored as ``bool``). An int
    (0, 1) or a string ("true") is refused, as every other type is: a field that takes a flag says so."""

    def _apply(self, value, path, allow_partial):
        if isinstance(value, bool):
            return value
        if type(value).__module__ == "numpy" and type(value).__name__ in ("bool_", "bool"):
            return bool(value)
        raise path_error(f"Expected bool but got {type_label(value)}: {value!r}; this field takes true or "
                         f"false (True or False from Python).", path, type_mismatch=True)


def _enum_match(a, b) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - e.g. arrays with ambiguous truth value
        return False


class Enum(ValueSpec):
    """One of ``values`` (None among them makes the spec noneable)."""

    def __init__(self, default=MISSING, values: Sequence = ()) -> None:
        values = list(values)
        if not values:
            raise ValidationError("Enum needs a non-empty list of values.")
        self.values = values
        super().__init__(default)
        if any(v is None for v in values):
            self._noneable = True

    def _apply(self, value, path, allow_partial):
        for v in self.values:
            if v is not None and _enum_match(v, value):
                return v
        msg = f"Value {value!r} is not in candidate list {self.values!r}."
        if isinstance(value, str):
            hint = suggestion_text(value, [v for v in self.values if isinstance(v, str)])
            if hint:
                msg = msg[:-1] + f"; {hint}"
        raise path_error(msg, path, type_mismatch=not any(isinstance(value, type(v)) for v in self.values))

    def _repr_args(self):
        return [f"values={self.values!r}"]


    def _common_args(self):
        return [f"default={self._default!r}"] if self._default is not MISSING else []


class List(ValueSpec):
    """A list whose elements match ``element_spec``, with ``min_size``/``max_size``. Gives a ``sym.List``."""

    def __init__(self, element_spec: Optional[ValueSpec] = None, default=MISSING, min_size: int = 0,
                 max_size: Optional[int] = None) -> None:
        if element_spec is None:
            element_spec = ANY
        if not isinstance(element_spec, ValueSpec):
            raise TypeError(f"List element_spec must be a ValueSpec, got {element_spec!r}")
        self.element_spec = element_spec
        self.min_size = min_size
        self.max_size = max_size
        super().__init__(default)

    def validate_items(self, items: Iterable, path: KeyPath, allow_partial: bool) -> list:
        """Validate elements and size; returns the list of validated elements."""
        out = [self.element_spec.apply(v, path + i, allow_partial) for i, v in enumerate(items)]
        self.check_size(len(out), path)
        return out

    def check_size(self, n: int, path: KeyPath) -> None:
        """Raise if a list of ``n`` elements violates the size bounds."""
        if n < self.min_size:
            raise path_error(f"Length {n} is less than min size {self.min_size}.", path)
        if self.max_size is not None and n > self.max_size:
            raise path_error(f"Length {n} is greater than max size {self.max_size}.", path)

    def _apply(self, value, path, allow_partial):
        if not isinstance(value, list):
            raise _type_error("list", value, path)
        if isinstance(value, Symbolic.ListType):
            if value.sym_parent is not None:
                value = value.clone()
            value._sym_adopt_spec(self, path, allow_partial)
            return value
        return Symbolic.ListType._sym_make(value, self, path, allow_partial)

    def _lead_args(self):
        return [repr(self.element_spec)]

    def _repr_args(self):
        args = []
        if self.min_size:
            args.append(f"min_size={self.min_size}")
        if self.max_size is not None:
            args.append(f"max_size={self.max_size}")
        return args


class Field:
    """A schema field: ``key``, ``value_spec`` and ``description`` (its docstring)."""

    __slots__ = ("key", "value_spec", "description")

    def __init__(self, key: str, value_spec: ValueSpec, description: Optional[str] = None) -> None:
        if not isinstance(key, str) or not key:
            raise TypeError(f"Field key must be a non-empty str, got {key!r}")
        if not isinstance(value_spec, ValueSpec):
            raise TypeError(f"Field {key!r}: value spec must be a sym.typing ValueSpec, got {value_spec!r}")
        self.key = key
        self.value_spec = value_spec
        self.description = description

    def __repr__(self) -> str:
        return f"Field({self.key!r}, {self.value_spec!r}, {self.description!r})"

    @classmethod
    def make(cls, value: _AnyT) -> "Field":
        """A Field from a Field or a ``(key, spec)``/``(key, spec, docstring)`` tuple."""
        if isinstance(value, Field):
            return value
        if isinstance(value, tuple) and len(value) in (2, 3):
            return cls(*value)
        raise TypeError(f"A field is (key, value_spec[, docstring]), got {value!r}")


class Schema:
    """Ordered fields of a symbolic type (``Cls.__schema__``) or of a ``Dict`` spec."""

    def __init__(self, fields: Iterable = (), name: Optional[str] = None,
                 description: Optional[str] = None) -> None:
        self.name = name
        self.description = description
        self.fields: dict[str, Field] = {}
        for f in fields:
            f = Field.make(f)
            self.fields[f.key] = f

    def get_field(self, key: str) -> Optional[Field]:
        """The field named ``key`` or None."""
        return self.fields.get(key)

    def keys(self) -> list[str]:
        """Field names in order."""
        return list(self.fields)

    def extend(self, fields: Iterable, name: Optional[str] = None) -> "Schema":
        """A new schema with ``fields`` added (a field with an existing key overrides it in place)."""
        out = Schema(list(self.fields.values()), name or self.name, self.description)
        for f in fields:
            f = Field.make(f)
            out.fields[f.key] = f
        return out

    def __contains__(self, key: object) -> bool:
        return key in self.fields

    def __iter__(self):
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def format(self, verbose: bool = True, **kwargs: _AnyT) -> str:
        """Multi-line text: one line per field, ``key: Spec  # description``."""
        lines = [f"Schema({self.name or ''})" + (":" if self.fields else "")]
        for f in self.fields.values():
            line = f"  {f.key}: {f.value_spec!r}"
            if verbose and f.description:
                line += "  # " + " ".join(f.description.split())
            lines.append(line)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return self.format()


class Dict(ValueSpec):
    """A dict. ``fields``: list of ``(key, spec, docstring)``; None means free-form (str keys, Any values).

    Gives a ``sym.Dict``. Its default is ``{}`` (filled with field defaults) when every field has one.
    """

    def __init__(self, fields: Optional[Iterable] = None, default=MISSING) -> None:
        if isinstance(fields, Schema):
            self.schema = fields
        else:
            self.schema = None if fields is None else Schema(fields)
        implicit = default is MISSING and (self.schema is None or all(
            f.value_spec.has_default for f in self.schema.fields.values()))
        super().__init__(default)
        if implicit:
            self._default = {}  # valid by construction: every field has a default

    def validate_items(self, items: _abc.Mapping, path: KeyPath, allow_partial: bool) -> dict:
        """Validate the entries of a mapping; returns a new dict of validated values in schema order."""
        out = {}
        for k in items:
            if not isinstance(k, str):
                raise path_error(f"Dict keys must be str, got {type_label(k)}: {k!r}.", path)
        if self.schema is None:
            for k, v in items.items():
                out[k] = ANY.apply(v, path + k, allow_partial)
            return out
        errors = [unknown_key_error(k, list(self.schema.fields), "Dict", path + k)
                  for k in items if k not in self.schema.fields]
        for k, f in self.schema.fields.items():
            try:
                out[k] = f.value_spec.apply(items.get(k, MISSING), path + k, allow_partial)
            except ValidationError as exc:
                errors.append(exc)
        if errors:
            raise combined_error(errors, path)
        return out

    def _apply(self, value, path, allow_partial):
        if not isinstance(value, dict):
            raise _type_error("dict", value, path)
        if isinstance(value, Symbolic.DictType):
            if value.sym_parent is not None:
                value = value.clone()
            value._sym_adopt_spec(self, path, allow_partial)
            return value
        return Symbolic.DictType._sym_make(value, self, path, allow_partial)

    def _lead_args(self):
        if self.schema is None:
            return []
        return ["[" + ", ".join(f"({f.key!r}, {f.value_spec!r})" for f in self.schema.fields.values()) + "]"]

    def _common_args(self):
        args = super()._common_args()
        return [a for a in args if a != "default={}"]


class Object(ValueSpec):
    """An instance of ``cls`` (any class; usually a ``sym.Object`` subclass)."""

    def __init__(self, cls: type, default=MISSING) -> None:
        if not isinstance(cls, type):
            raise TypeError(f"Object spec needs a class, got {cls!r}")
        self.cls = cls
        super().__init__(default)

    def _apply(self, value, path, allow_partial):
        if not isinstance(value, self.cls):
            raise _type_error(self.cls.__name__, value, path)
        return value

    def _lead_args(self):
        return [self.cls.__name__]


class Callable(ValueSpec):
    """Any callable (function, class, callable object)."""

    def _apply(self, value, path, allow_partial):
        if not callable(value):
            raise _type_error("callable", value, path)
        return value


class Union(ValueSpec):
    """A value matching one of ``candidates`` (tried in order; the first match wins)."""

    def __init__(self, candidates: Sequence[ValueSpec], default=MISSING) -> None:
        candidates = list(candidates)
        if len(candidates) < 1:
            raise ValidationError("Union needs at least one candidate spec.")
        for c in candidates:
            if not isinstance(c, ValueSpec):
                raise TypeError(f"Union candidates must be ValueSpecs, got {c!r}")
        self.candidates = candidates
        noneable = any(c.is_noneable for c in candidates)
        super().__init__(default)
        if noneable:
            self._noneable = True

    def _apply(self, value, path, allow_partial):
        errors = []
        for c in self.candidates:
            try:
                return c.apply(value, path, allow_partial)
            except ValidationError as e:
                errors.append(e)
        near = [e for e in errors if not getattr(e, "type_mismatch", False)]
        if len(near) == 1:
            raise near[0]
        raise path_error(f"Value {value!r} matches none of the candidates of {self!r}.", path,
                         type_mismatch=not near)

    def _lead_args(self):
        return ["[" + ", ".join(repr(c) for c in self.candidates) + "]"]


def combined_error(errors: Sequence[ValidationError], path: KeyPath) -> ValidationError:
    """One error reporting every one of ``errors`` (several bad entries of one value): the error itself
    when there is one, else a :class:`ValidationError` with a line per error (each ending with its own
    ``(path=...)``) whose ``errors`` attribute lists them, nested combinations flattened."""
    flat = [e for err in errors for e in getattr(err, "errors", None) or [err]]
    if len(flat) == 1:
        return flat[0]
    err = ValidationError(f"{len(flat)} invalid values in {str(path) or 'the value'}:\n"
                          + "\n".join(f"  {e}" for e in flat))
    err.errors, err.path, err.reason = flat, str(path), str(err)
    return err


def unknown_key_error(key: str, valid: Sequence[str], owner: str, path: KeyPath) -> ValidationError:
    """``Unknown key 'x' for Owner; did you mean 'y'? ... (path=...)``."""
    msg = f"Unknown key {key!r} for {owner}"
    hint = suggestion_text(str(key), valid)
    if hint:
        msg += f"; {hint}"
    else:
        msg += "."
    if valid:
        msg += " Valid keys: " + ", ".join(valid) + "."
    else:
        msg += f" {owner} has no keys."
    return path_error(msg, path)


def from_annotation(annotation: _AnyT, default: _AnyT = MISSING) -> ValueSpec:
    """A value spec from a Python annotation (``int``, ``list[int]``, ``Optional[str]``, ...)."""

    if annotation is inspect.Parameter.empty or annotation is _t.Any or annotation is None:
        return Any(default)
    origin = _t.get_origin(annotation)
    args = _t.get_args(annotation)
    if origin in (_t.Union, getattr(_types, "UnionType", None)):
        non_none = [a for a in args if a is not type(None)]
        has_none = len(non_none) != len(args)
        spec = from_annotation(non_none[0]) if len(non_none) == 1 else Union(
            [from_annotation(a) for a in non_none])
        if has_none:
            spec = spec.noneable()
        return _with_default(spec, default)
    if origin is _t.Literal:
        return Enum(args[0] if default is MISSING else default, list(args))
    if origin in (list, _abc.Sequence, _abc.MutableSequence):
        return List(from_annotation(args[0]) if args else ANY, default=default)
    if origin in (dict, _abc.Mapping, _abc.MutableMapping):
        return Dict(default=default)
    if origin in (_abc.Callable,) or annotation is _abc.Callable or annotation is _t.Callable:
        return Callable(default)
    simple = {bool: Bool, int: Int, float: Float, str: Str}
    if annotation in simple:
        if default is None:
            return simple[annotation]().noneable()
        return simple[annotation](default)
    if annotation is list:
        return List(ANY, default=default)
    if annotation is dict:
        return Dict(default=default)
    if isinstance(annotation, type):
        if default is None:
            return Object(annotation).noneable()
        return Object(annotation, default)
    return Any(default)


def _with_default(spec: ValueSpec, default: _AnyT) -> ValueSpec:
    if default is MISSING:
        return spec
    spec = _copy.copy(spec)
    if default is None:
        spec._noneable = True
        spec._default = None
    else:
        spec._set_default(default)
    return spec
