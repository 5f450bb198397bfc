"""``sym.List``: a symbolic list (a ``list`` subclass) validated against an optional List spec."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from mldsl.errors import IndexOutOfRangeError, KeyPathError
from mldsl.symbolic import typing as pt
from mldsl.symbolic._util import path_error
from mldsl.symbolic.base import _ATOMIC, Symbolic, _clone_child, eq as _eq, sym_hash as _hash
from mldsl.symbolic.formatting import Formattable
from mldsl.symbolic.json_io import JSONConvertible
from mldsl.symbolic.key_path import KeyPath
from mldsl.symbolic.missing import MISSING

__all__ = ["List"]

_setattr = object.__setattr__
_FREE = pt.List(pt.ANY)


class List(Symbolic, Formattable, JSONConvertible, list):
    """A symbolic list.

    ``List(items, value_spec=None)``: ``value_spec`` is a ``sym.typing.List`` (element spec and size
    bounds). Every change is validated; assigning past the end is an error (use ``append``/``insert``).
    """

    def __init__(self, items: Optional[Iterable] = None, value_spec: Optional[pt.List] = None, *,
                 allow_partial: bool = False, root_path: Any = None) -> None:
        list.__init__(self)
        self._sym_init_state(allow_partial, root_path)
        _setattr(self, "_sym_spec", None)
        if value_spec is not None and not isinstance(value_spec, pt.List):
            raise TypeError(f"List value_spec must be a sym.typing.List, got {value_spec!r}")
        self._sym_assign_all(value_spec, list(items or ()), self.sym_path, allow_partial)

    @classmethod
    def _sym_make(cls, items: Iterable, spec: Optional[pt.List], path: KeyPath, allow_partial: bool) -> "List":
        out = cls.__new__(cls)
        list.__init__(out)
        out._sym_init_state(allow_partial)
        _setattr(out, "_sym_spec", None)
        out._sym_assign_all(spec, list(items), path, allow_partial)
        return out

    def _sym_adopt_spec(self, spec: pt.List, path: KeyPath, allow_partial: bool) -> None:
        self._sym_assign_all(spec, list(list.__iter__(self)), path, allow_partial)
        if allow_partial:
            _setattr(self, "_sym_partial", True)

    def _sym_assign_all(self, spec: Optional[pt.List], items: list, path: KeyPath, allow_partial: bool) -> None:
        validated = self._sym_validate_children(
            enumerate(list.__iter__(self)),
            lambda: (spec or _FREE).validate_items(items, path, allow_partial or self._sym_partial))
        list.clear(self)
        _setattr(self, "_sym_spec", spec)
        for i, v in enumerate(validated):
            list.append(self, self._sym_adopt(i, v))

    def _sym_replace(self, items: list) -> None:
        self._sym_check_sealed()
        self._sym_assign_all(self._sym_spec, items, self.sym_path, self._sym_partial)

    # ------------------------------------------------------------------ node protocol
    @property
    def value_spec(self) -> Optional[pt.List]:
        """The List spec this list is validated against (None: free-form)."""
        return self._sym_spec

    def _sym_child_items(self):
        return enumerate(list.__iter__(self))

    def _sym_get_child(self, key: Any) -> Any:
        if isinstance(key, int) and not isinstance(key, bool) and 0 <= key < list.__len__(self):
            return list.__getitem__(self, key)
        raise KeyPathError(f"List index {key!r} is out of range (length {list.__len__(self)}).")

    def _sym_child_spec(self, key: Any):
        return (self._sym_spec or _FREE).element_spec

    def _sym_set_child(self, key: Any, value: Any, path: Optional[KeyPath] = None) -> None:
        n = list.__len__(self)
        if isinstance(key, bool) or not isinstance(key, int):
            raise path_error(f"List index must be an int, got {key!r}.", self.sym_path)
        self._sym_check_sealed(key)
        if not 0 <= key < n:
            raise path_error(f"Index {key} is out of range for a list of length {n}; writing past the "
                             "end of a list is not allowed (use append/insert).", self.sym_path + key,
                             cls=IndexOutOfRangeError)
        if value is MISSING:
            items = list(list.__iter__(self))
            del items[key]
            self._sym_replace(items)
            return
        if path is None:
            path = self.sym_path + key
        new = self._sym_child_spec(key).apply(value, path, self._sym_partial)
        old = list.__getitem__(self, key)
        if old is not new:
            self._sym_release(old)
        list.__setitem__(self, key, self._sym_adopt(key, new))

    def _sym_clone(self, deep: bool, memo: Optional[dict] = None, keep_seal: bool = False) -> "List":
        out = type(self).__new__(type(self))
        list.__init__(out)
        out._sym_init_state(self._sym_partial)
        _setattr(out, "_sym_spec", self._sym_spec)
        for i, v in enumerate(list.__iter__(self)):
            if type(v) not in _ATOMIC:
                v = _clone_child(v, deep, keep_seal, memo, out, i)
            list.append(out, v)
        if keep_seal:
            _setattr(out, "_sym_sealed", self._sym_sealed)
        return out

    def sym_eq(self, other: Any) -> bool:
        """Equal to a List or plain list with symbolically equal elements."""
        if self is other:
            return True
        if not isinstance(other, list) or list.__len__(self) != len(other):
            return False
        return all(_eq(a, b) for a, b in zip(list.__iter__(self), other))

    def sym_hash(self) -> int:
        """Hash of the elements."""
        return hash(("seq", tuple(_hash(v) for v in list.__iter__(self))))

    __hash__ = Symbolic.__hash__
    __eq__ = Symbolic.__eq__
    __ne__ = Symbolic.__ne__
    __repr__ = Formattable.__repr__
    __str__ = Formattable.__str__

    def __reduce__(self):
        return (_restore_list, (type(self), list(list.__iter__(self)), self._sym_spec, self._sym_partial,
                                self._sym_sealed))

    # ------------------------------------------------------------------ list API
    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            items = list(list.__iter__(self))
            items[index] = list(value)
            self._sym_replace(items)
            return
        if isinstance(index, int) and not isinstance(index, bool) and index < 0:
            index += list.__len__(self)
            if index < 0:
                raise path_error(f"Index {index - list.__len__(self)} is out of range for a list of "
                                 f"length {list.__len__(self)}.", self.sym_path, cls=IndexOutOfRangeError)
        self._sym_set_child(index, value)

    def __delitem__(self, index: Any) -> None:
        items = list(list.__iter__(self))
        del items[index]
        self._sym_replace(items)

    def append(self, value: Any) -> None:
        """Append a validated element."""
        self._sym_check_sealed()
        n = list.__len__(self)
        spec = self._sym_spec or _FREE
        spec.check_size(n + 1, self.sym_path)
        new = spec.element_spec.apply(value, self.sym_path + n, self._sym_partial)
        list.append(self, self._sym_adopt(n, new))

    def extend(self, values: Iterable) -> None:
        """Append several validated elements."""
        self._sym_replace(list(list.__iter__(self)) + list(values))

    def insert(self, index: int, value: Any) -> None:
        """Insert a validated element before ``index``."""
        items = list(list.__iter__(self))
        items.insert(index, value)
        self._sym_replace(items)

    def pop(self, index: int = -1) -> Any:
        """Remove and return the element at ``index``."""
        items = list(list.__iter__(self))
        value = items.pop(index)
        self._sym_replace(items)
        return value

    def remove(self, value: Any) -> None:
        """Remove the first element symbolically equal to ``value``."""
        for i, v in enumerate(list.__iter__(self)):
            if _eq(v, value):
                del self[i]
                return
        raise ValueError(f"{value!r} is not in list")

    def clear(self) -> None:
        """Remove every element (subject to ``min_size``)."""
        self._sym_replace([])

    def sort(self, *, key: Any = None, reverse: bool = False) -> None:
        """Sort in place."""
        self._sym_replace(sorted(list.__iter__(self), key=key, reverse=reverse))

    def reverse(self) -> None:
        """Reverse in place."""
        self._sym_replace(list(reversed(list(list.__iter__(self)))))

    def __iadd__(self, values: Iterable) -> "List":
        self.extend(values)
        return self

    def __imul__(self, n: int) -> "List":
        self._sym_replace(list(list.__iter__(self)) * n)
        return self

    def copy(self) -> "List":
        """A shallow clone (see ``clone``)."""
        return self.clone()


Symbolic.ListType = List


def _restore_list(cls, items, spec, partial, sealed):
    out = cls._sym_make(items, spec, KeyPath(), partial)
    if sealed:
        out.seal()
    return out
