"""``sym.Dict``: a symbolic dict (a ``dict`` subclass) validated against an optional Dict spec."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from mldsl.errors import KeyPathError, suggestion_text
from mldsl.symbolic import typing as pt
from mldsl.symbolic._util import LazyAttributeError, path_error
from mldsl.symbolic.base import _ATOMIC, Symbolic, _clone_child, eq as _eq, sym_hash as _hash
from mldsl.symbolic.formatting import Formattable
from mldsl.symbolic.json_io import JSONConvertible
from mldsl.symbolic.key_path import KeyPath
from mldsl.symbolic.missing import MISSING

__all__ = ["Dict"]

_setattr = object.__setattr__
_FREE = pt.Dict()


class Dict(Symbolic, Formattable, JSONConvertible, dict):
    """A symbolic dict with str keys.

    ``Dict(value=None, value_spec=None, **kwargs)``: ``value_spec`` is a ``sym.typing.Dict``; with
    fields, unknown keys are errors (naming the nearest valid keys) and missing keys get defaults.
    Every change is validated; items are readable as attributes (``d.batch_size``; a key named
    like a method, e.g. ``'items'``, is read by indexing).
    """

    def __init__(self, value: Any = None, value_spec: Optional[pt.Dict] = None, *,
                 allow_partial: bool = False, root_path: Any = None, **kwargs: Any) -> None:
        dict.__init__(self)
        self._sym_init_state(allow_partial, root_path)
        _setattr(self, "_sym_spec", None)
        if value_spec is not None and not isinstance(value_spec, pt.Dict):
            raise TypeError(f"Dict value_spec must be a sym.typing.Dict, got {value_spec!r}")
        items = dict(value.items() if isinstance(value, dict) else (value or {}))
        items.update(kwargs)
        self._sym_assign_all(value_spec, items, self.sym_path, allow_partial)

    @classmethod
    def _sym_make(cls, items: dict, spec: Optional[pt.Dict], path: KeyPath, allow_partial: bool) -> "Dict":
        out = cls.__new__(cls)
        dict.__init__(out)
        out._sym_init_state(allow_partial)
        _setattr(out, "_sym_spec", None)
        out._sym_assign_all(spec, dict(items), path, allow_partial)
        return out

    @classmethod
    def _sym_view(cls, items: Iterable) -> "Dict":
        """A sealed, read-only Dict over values owned by another node (no re-parenting)."""
        out = cls.__new__(cls)
        dict.__init__(out)
        out._sym_init_state()
        _setattr(out, "_sym_spec", None)
        dict.update(out, items)
        _setattr(out, "_sym_sealed", True)
        return out

    def _sym_adopt_spec(self, spec: pt.Dict, path: KeyPath, allow_partial: bool) -> None:
        self._sym_assign_all(spec, dict(dict.items(self)), path, allow_partial)
        if allow_partial:
            _setattr(self, "_sym_partial", True)

    def _sym_assign_all(self, spec: Optional[pt.Dict], items: dict, path: KeyPath, allow_partial: bool) -> None:
        validated = self._sym_validate_children(
            dict.items(self),
            lambda: (spec or _FREE).validate_items(items, path, allow_partial or self._sym_partial))
        dict.clear(self)
        _setattr(self, "_sym_spec", spec)
        for k, v in validated.items():
            dict.__setitem__(self, k, self._sym_adopt(k, v))

    # ------------------------------------------------------------------ node protocol
    @property
    def value_spec(self) -> Optional[pt.Dict]:
        """The Dict spec this dict is validated against (None: free-form)."""
        return self._sym_spec

    def _sym_fields(self):
        spec = self._sym_spec
        return spec.schema.fields if spec is not None and spec.schema is not None else None

    def _sym_child_items(self):
        return dict.items(self)

    def _sym_get_child(self, key: Any) -> Any:
        if isinstance(key, str) and dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        hint = suggestion_text(str(key), list(dict.keys(self)))
        raise KeyPathError(f"Dict has no key {key!r}" + (f"; {hint}" if hint else "."))

    def _sym_child_spec(self, key: Any):
        fields = self._sym_fields()
        if fields is None:
            return pt.ANY
        f = fields.get(key)
        return f.value_spec if f is not None else None

    def _sym_child_description(self, key: Any) -> Optional[str]:
        fields = self._sym_fields()
        f = fields.get(key) if fields is not None else None
        return f.description if f is not None else None

    def _sym_set_child(self, key: Any, value: Any, path: Optional[KeyPath] = None) -> None:
        if path is None:
            path = self.sym_path + key if isinstance(key, (str, int)) else self.sym_path
        if self._sym_sealed:
            self._sym_check_sealed(key)
        if not isinstance(key, str):
            raise path_error(f"Dict keys must be str, got {type(key).__name__}: {key!r}.", self.sym_path)
        fields = self._sym_fields()
        if fields is not None and key not in fields:
            raise pt.unknown_key_error(key, list(fields), "Dict", path)
        if value is MISSING and fields is None:
            if dict.__contains__(self, key):
                self._sym_detach(dict.pop(self, key))
            return
        spec = self._sym_child_spec(key)
        new = spec.apply(value, path, self._sym_partial)
        old = dict.get(self, key, MISSING)
        if old is not new:
            self._sym_release(old)
        dict.__setitem__(self, key, self._sym_adopt(key, new))

    def _sym_clone(self, deep: bool, memo: Optional[dict] = None, keep_seal: bool = False) -> "Dict":
        out = type(self).__new__(type(self))
        dict.__init__(out)
        out._sym_init_state(self._sym_partial)
        _setattr(out, "_sym_spec", self._sym_spec)
        for k, v in dict.items(self):
            if type(v) not in _ATOMIC:
                v = _clone_child(v, deep, keep_seal, memo, out, k)
            dict.__setitem__(out, k, v)
        if keep_seal:
            _setattr(out, "_sym_sealed", self._sym_sealed)
        return out

    def sym_eq(self, other: Any) -> bool:
        """Equal to a Dict or plain dict with the same keys and symbolically equal values."""
        if self is other:
            return True
        if not isinstance(other, dict):
            return False
        if dict.__len__(self) != len(other) or set(dict.keys(self)) != set(other.keys()):
            return False
        return all(_eq(v, other[k]) for k, v in dict.items(self))

    def sym_hash(self) -> int:
        """Order-independent hash of the items."""
        return hash(("map", frozenset((k, _hash(v)) for k, v in dict.items(self))))

    __hash__ = Symbolic.__hash__
    __eq__ = Symbolic.__eq__
    __ne__ = Symbolic.__ne__
    __repr__ = Formattable.__repr__
    __str__ = Formattable.__str__

    def __reduce__(self):
        return (_restore_dict, (type(self), dict(dict.items(self)), self._sym_spec, self._sym_partial,
                                self._sym_sealed))

    # ------------------------------------------------------------------ dict API
    def __setitem__(self, key: str, value: Any) -> None:
        self._sym_set_child(key, value)

    def __delitem__(self, key: str) -> None:
        self._sym_check_sealed(key)
        if not dict.__contains__(self, key):
            raise KeyError(key)
        if self._sym_fields() is not None:
            raise path_error(f"Cannot delete field {key!r} of a Dict with a schema; assign a new value "
                             "(or MISSING to reset it to its default).", self.sym_path + key)
        self._sym_detach(dict.pop(self, key))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name.startswith("_sym"):
            raise AttributeError(name)
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        keys = list(dict.keys(self))  # the keys now, as the message would have said

        def message() -> str:  # built only if the error is read (hasattr probes never do)
            hint = suggestion_text(name, keys)
            return f"Dict has no key or attribute {name!r}" + (f"; {hint}" if hint else "")

        raise LazyAttributeError(message)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            _setattr(self, name, value)
        else:
            self._sym_set_child(name, value)

    def __delattr__(self, name: str) -> None:
        if name.startswith("_"):
            object.__delattr__(self, name)
        else:
            try:
                del self[name]
            except KeyError:
                raise AttributeError(name) from None

    def update(self, other: Any = (), **kwargs: Any) -> None:  # type: ignore[override]
        """Set several items (each validated; all are validated before any is set)."""
        items = dict(other.items() if hasattr(other, "items") else other)
        items.update(kwargs)
        self._sym_check_sealed()
        staged = []
        for k, v in items.items():
            if not isinstance(k, str):
                raise path_error(f"Dict keys must be str, got {type(k).__name__}: {k!r}.", self.sym_path)
            fields = self._sym_fields()
            if fields is not None and k not in fields:
                raise pt.unknown_key_error(k, list(fields), "Dict", self.sym_path + k)
            if v is MISSING:
                staged.append((k, v))
                continue
            staged.append((k, self._sym_child_spec(k).apply(v, self.sym_path + k, self._sym_partial)))
        for k, v in staged:
            self._sym_set_child(k, v)

    def __ior__(self, other: Any) -> "Dict":
        self.update(other)
        return self

    def setdefault(self, key: str, default: Any = None) -> Any:
        """``d[key]`` if present, else set it to ``default`` (validated) and return it."""
        if not dict.__contains__(self, key):
            self[key] = default
        return dict.__getitem__(self, key)

    def pop(self, key: str, *default: Any) -> Any:
        """Remove ``key`` and return its value (free-form dicts only)."""
        if not dict.__contains__(self, key):
            if default:
                return default[0]
            raise KeyError(key)
        value = dict.__getitem__(self, key)
        del self[key]
        return value

    def popitem(self) -> tuple:
        """Remove and return the last item (free-form dicts only)."""
        if not dict.__len__(self):
            raise KeyError("popitem(): dictionary is empty")
        key = next(reversed(list(dict.keys(self))))
        return key, self.pop(key)

    def clear(self) -> None:
        """Remove every item (free-form dicts only)."""
        for k in list(dict.keys(self)):
            del self[k]

    def copy(self) -> "Dict":
        """A shallow clone (see ``clone``)."""
        return self.clone()


Symbolic.DictType = Dict


def _restore_dict(cls, items, spec, partial, sealed):
    out = cls._sym_make(items, spec, KeyPath(), partial)
    if sealed:
        out.seal()
    return out
