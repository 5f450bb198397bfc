"""``sym.Object``: the base class of symbolic types, and the ``members`` decorator."""
from __future__ import annotations

from typing import Any, ClassVar, Iterable, Optional

from mldsl.errors import KeyPathError, ValidationError, suggestion_text
from mldsl.symbolic import typing as pt
from mldsl.symbolic._util import LazyAttributeError, path_error
from mldsl.symbolic.base import _ATOMIC, Symbolic, _clone_child, eq as _eq, sym_hash as _hash
from mldsl.symbolic.dict import Dict
from mldsl.symbolic.formatting import Formattable
from mldsl.symbolic.json_io import JSONConvertible
from mldsl.symbolic.key_path import KeyPath
from mldsl.symbolic.missing import MISSING
from mldsl.symbolic.type_table import register_type

__all__ = ["Object", "members"]

_setattr = object.__setattr__


class Object(Symbolic, Formattable, JSONConvertible):
    """Base class of symbolic types.

    Declare fields with ``@sym.members([(key, spec, docstring), ...])`` (inherited and extendable).
    Construct with positional arguments in field order, then keywords. Fields read as attributes;
    assigning a field (``obj.units = 3``) validates like ``rebind``. Each subclass is registered for
    JSON under ``Cls.type_name`` (default ``"module.QualName"``).

    Subclasses customise initialisation by overriding ``_on_bound()`` (called after construction,
    cloning, loading and every change), not ``__init__`` (clone and ``from_json`` bypass ``__init__``).

    Keyword-only construction options: ``allow_partial=True`` lets required fields stay ``MISSING``
    (same as ``Cls.partial(...)``); ``root_path`` is the path used in error messages while the object
    has no parent (e.g. ``root_path="model.layers[1]"``).
    """

    type_name: ClassVar[str] = "mldsl.symbolic.Object"
    __schema__: ClassVar[pt.Schema] = pt.Schema([], name="Object")
    _sym_declared: ClassVar[tuple] = ()
    _sym_default_partial: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "type_name" not in cls.__dict__:
            cls.type_name = f"{cls.__module__}.{cls.__qualname__}"
        if "_sym_declared" not in cls.__dict__:
            cls._sym_declared = ()
        cls._sym_rebuild_schema()
        register_type(cls.type_name, cls)

    @classmethod
    def _sym_rebuild_schema(cls) -> None:
        fields: dict[str, pt.Field] = {}
        for klass in reversed(cls.__mro__):
            for f in klass.__dict__.get("_sym_declared", ()):
                fields[f.key] = f
        cls.__schema__ = pt.Schema(fields.values(), name=cls.__name__, description=cls.__doc__)

    # ------------------------------------------------------------------ construction
    def __init__(self, *args: Any, allow_partial: bool = False, root_path: Any = None, **kwargs: Any) -> None:
        self._sym_init_fields(args, kwargs, allow_partial, root_path)

    def _sym_init_fields(self, args: tuple, kwargs: dict, allow_partial: bool, root_path: Any) -> None:
        cls = type(self)
        allow_partial = allow_partial or cls._sym_default_partial
        self._sym_init_state(allow_partial, root_path)
        _setattr(self, "_sym_values", {})
        fields = cls.__schema__.fields
        keys = list(fields)
        path = self.sym_path
        if len(args) > len(keys):
            raise path_error(f"{cls.__name__}() takes {len(keys)} positional argument(s) "
                             f"({', '.join(keys) or 'no fields'}) but {len(args)} were given.", path)
        given = dict(zip(keys, args))
        for k, v in kwargs.items():
            if k in given:
                raise path_error(f"{cls.__name__}() got multiple values for field {k!r}.", path + k)
            if k not in fields:
                raise pt.unknown_key_error(k, keys, cls.__name__, path + k)
            given[k] = v
        if not allow_partial:
            missing = [k for k, f in fields.items()
                       if given.get(k, MISSING) is MISSING and not f.value_spec.has_default]
            if len(missing) == 1:
                raise path_error(f"Required field {missing[0]!r} of {cls.__name__} is missing.",
                                 path + missing[0])
            if missing:
                raise path_error(f"Required fields {', '.join(map(repr, missing))} of {cls.__name__} "
                                 "are missing.", path)
        values = {k: f.value_spec.apply(given.get(k, MISSING), path + k, allow_partial)
                  for k, f in fields.items()}
        for k, v in values.items():
            self._sym_store(k, v)
        self._on_bound()

    @classmethod
    def partial(cls, *args: Any, **kwargs: Any) -> "Object":
        """Construct allowing required fields to stay ``MISSING`` (fill them later with ``rebind``)."""
        return cls(*args, allow_partial=True, **kwargs)

    def _on_bound(self) -> None:
        """Hook called after construction, clone, JSON load and every change of a field."""

    def _sym_store(self, key: str, value: Any) -> None:
        value = self._sym_adopt(key, value)
        self._sym_values[key] = value
        self.__dict__[key] = value

    # ------------------------------------------------------------------ node protocol
    @property
    def sym_init_args(self):
        """A read-only (sealed) ``sym.Dict`` of field -> value (use ``rebind`` to change fields)."""
        return Dict._sym_view(self._sym_values.items())

    def _sym_child_items(self):
        return self._sym_values.items()

    def _sym_get_child(self, key: Any) -> Any:
        if key in self._sym_values:
            return self._sym_values[key]
        hint = suggestion_text(str(key), list(self._sym_values))
        raise KeyPathError(f"{type(self).__name__} has no field {key!r}" + (f"; {hint}" if hint else "."))

    def _sym_child_spec(self, key: Any):
        f = type(self).__schema__.fields.get(key)
        return f.value_spec if f is not None else None

    def _sym_child_description(self, key: Any) -> Optional[str]:
        f = type(self).__schema__.fields.get(key)
        return f.description if f is not None else None

    def _sym_set_child(self, key: Any, value: Any, path: Optional[KeyPath] = None) -> None:
        cls = type(self)
        fields = cls.__schema__.fields
        if path is None:
            path = self.sym_path + key if isinstance(key, (str, int)) else self.sym_path
        if key not in fields:
            raise pt.unknown_key_error(str(key), list(fields), cls.__name__, path)
        if self._sym_sealed:
            self._sym_check_sealed(key)
        new = fields[key].value_spec.apply(value, path, self._sym_partial)
        old = self._sym_values.get(key, MISSING)
        if old is not new:
            self._sym_release(old)
        self._sym_store(key, new)
        self._on_bound()

    def _sym_clone(self, deep: bool, memo: Optional[dict] = None, keep_seal: bool = False) -> "Object":
        cls = type(self)
        out = cls.__new__(cls)
        out._sym_init_state(self._sym_partial)
        values: dict = {}
        attrs = out.__dict__
        attrs["_sym_values"] = values
        for k, v in self._sym_values.items():  # what _sym_store does, for fresh unowned copies
            if type(v) not in _ATOMIC:
                v = _clone_child(v, deep, keep_seal, memo, out, k)
            values[k] = v
            attrs[k] = v
        if keep_seal:
            _setattr(out, "_sym_sealed", self._sym_sealed)
        out._on_bound()
        return out

    def sym_eq(self, other: Any) -> bool:
        """Same class and symbolically equal fields."""
        if self is other:
            return True
        if type(other) is not type(self):
            return False
        return all(_eq(v, other._sym_values.get(k, MISSING)) for k, v in self._sym_values.items())

    def sym_hash(self) -> int:
        """Hash of the class and the fields."""
        return hash((type(self), tuple(_hash(v) for v in self._sym_values.values())))

    def __reduce__(self):
        return (_restore_object, (type(self), dict(self._sym_values), self._sym_partial, self._sym_sealed))

    # ------------------------------------------------------------------ attributes
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name.startswith("_sym"):
            raise AttributeError(name)
        cls = type(self)
        fields = cls.__schema__.fields

        def message() -> str:  # built only if the error is read (hasattr probes never do)
            hint = suggestion_text(name, list(fields))
            return f"{cls.__name__} has no field or attribute {name!r}" + (f"; {hint}" if hint else "")

        raise LazyAttributeError(message)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or self.__dict__.get("_sym_raw_setattr"):
            _setattr(self, name, value)
            return
        cls = type(self)
        if name in cls.__schema__.fields:
            self._sym_set_child(name, value)
            return
        if isinstance(getattr(cls, name, None), property):
            _setattr(self, name, value)
            return
        err = pt.unknown_key_error(name, list(cls.__schema__.fields), cls.__name__, self.sym_path + name)
        raise path_error(err.reason + " (Non-field attributes of symbolic objects must start with '_'.)",
                         self.sym_path + name)

    def __delattr__(self, name: str) -> None:
        if name in type(self).__schema__.fields:
            raise path_error(f"Cannot delete field {name!r}; rebind it (MISSING resets it to its default).",
                             self.sym_path + name)
        object.__delattr__(self, name)


Symbolic.ObjectType = Object


def _restore_object(cls, values, partial, sealed):
    out = cls.__new__(cls)
    out._sym_init_state(partial)
    _setattr(out, "_sym_values", {})
    for k, v in values.items():
        out._sym_store(k, v)
    out._on_bound()
    if sealed:
        out.seal()
    return out


_RESERVED = frozenset(n for n in dir(Object) if not n.startswith("_")) | {"root_path"}


def members(fields: Iterable, metadata: Optional[dict] = None):
    """Class decorator declaring the fields of a ``sym.Object`` subclass.

    ``fields``: ``[(key, value_spec, docstring), ...]`` (docstring optional). Fields of base classes are
    inherited; a field with an existing key overrides it (keeping its position).
    """
    declared = [pt.Field.make(f) for f in fields]
    for f in declared:
        if f.key.startswith("_") or f.key in _RESERVED:
            raise ValidationError(f"Field name {f.key!r} is reserved (it starts with '_' or is a "
                                  "sym.Object method/attribute); choose another name.")

    def decorator(cls):
        if not (isinstance(cls, type) and issubclass(cls, Object)):
            raise TypeError(f"@members applies to sym.Object subclasses, got {cls!r}")
        cls._sym_declared = tuple(cls.__dict__.get("_sym_declared", ())) + tuple(declared)
        cls._sym_rebuild_schema()
        if metadata:
            cls._sym_metadata = dict(metadata)
        return cls

    return decorator
