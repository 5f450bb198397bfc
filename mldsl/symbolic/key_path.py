"""Key paths: locations in a symbolic tree, e.g. ``model.layers[1].units``."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Union

from mldsl.errors import KeyPathError

__all__ = ["KeyPath"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")  # \Z, not $: a key ending in a newline is quoted
_BARE = re.compile(r"[^.\[\]\s'\"]+")
_INDEX = re.compile(r"\[\s*(-?\d+)\s*\]")
_QUOTED = re.compile(r"\[\s*(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')\s*\]")

Key = Union[str, int]


class KeyPath:
    """An immutable sequence of keys (str for fields/dict keys, int for list indices).

    ``str(KeyPath.parse("a.b[1].c")) == "a.b[1].c"``; the root path is empty (``""``) and falsy.
    A key path compares equal to its string form.
    """

    __slots__ = ("_keys", "_text")

    def __init__(self, keys: Any = ()) -> None:
        if keys is None:
            keys = ()
        elif isinstance(keys, (str, int)) and not isinstance(keys, bool):
            keys = (keys,)
        elif isinstance(keys, KeyPath):
            keys = keys._keys
        keys = tuple(keys)
        for k in keys:
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise KeyPathError(f"A key path key must be a str or an int, got {k!r}.")
        _set_keys(self, keys)

    @classmethod
    def _of(cls, keys: tuple) -> "KeyPath":
        """A KeyPath over ``keys``, a tuple already known to hold only valid keys (no checks)."""
        out = _new(cls)
        _set_keys(out, keys)
        return out

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("KeyPath is immutable")

    @classmethod
    def parse(cls, path: Any) -> "KeyPath":
        """Parse ``"a.b[1].c"`` (also ``a["key with.dots"]``); a KeyPath is returned unchanged."""
        if isinstance(path, KeyPath):
            return path
        if path is None:
            return cls()
        if isinstance(path, int) and not isinstance(path, bool):
            return cls((path,))
        if not isinstance(path, str):
            raise KeyPathError(f"Cannot parse a key path from {path!r}.")
        if cls is KeyPath:
            return _parse_cached(path)  # immutable, so one instance per distinct string is shared
        return cls._of(_parse_keys(path))

    @classmethod
    def from_value(cls, value: Any) -> "KeyPath":
        """A KeyPath from a KeyPath, a path string, an int key, a sequence of keys or None (root)."""
        if isinstance(value, KeyPath):
            return value
        if value is None:
            return _ROOT if cls is KeyPath else cls()
        if isinstance(value, (str, int)):
            return cls.parse(value)
        return cls(value)

    @property
    def keys(self) -> tuple:
        """The keys, root first."""
        return self._keys

    @property
    def key(self) -> Any:
        """The last key (None for the root)."""
        return self._keys[-1] if self._keys else None

    @property
    def parent(self) -> "KeyPath":
        """The path without its last key (the root's parent is the root)."""
        return KeyPath._of(self._keys[:-1])

    @property
    def depth(self) -> int:
        """Number of keys."""
        return len(self._keys)

    @property
    def is_root(self) -> bool:
        """True for the empty path."""
        return not self._keys

    @property
    def path(self) -> str:
        """The string form."""
        return str(self)

    def __add__(self, other: Any) -> "KeyPath":
        if isinstance(other, KeyPath):
            if not self._keys and type(other) is KeyPath:
                return other  # immutable: the root plus a path is that path
            return KeyPath._of(self._keys + other._keys)
        if other is None:
            return self
        if isinstance(other, bool) or not isinstance(other, (str, int)):
            return KeyPath(self._keys + (other,))  # raises the usual KeyPathError
        return KeyPath._of(self._keys + (other,))

    def __radd__(self, other: Any) -> "KeyPath":
        return KeyPath.from_value(other) + self

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return KeyPath._of(self._keys[index])
        return self._keys[index]

    def __str__(self) -> str:
        try:
            return self._text  # the string form, cached on first use
        except AttributeError:
            text = self._format()
            _set_text(self, text)
            return text

    def _format(self) -> str:
        """The string form, computed (``__str__`` caches it)."""
        out = []
        for i, k in enumerate(self._keys):
            if isinstance(k, int):
                out.append(f"[{k}]")
            elif _IDENT.match(k):
                out.append(k if i == 0 else "." + k)
            else:
                out.append("[" + json.dumps(k) + "]")
        return "".join(out)

    def __repr__(self) -> str:
        return f"KeyPath({str(self)!r})"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, KeyPath):
            return self._keys == other._keys
        if isinstance(other, str):
            return str(self) == other
        return NotImplemented

    def __ne__(self, other: Any) -> bool:
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    def __hash__(self) -> int:
        return hash(str(self))

    def __lt__(self, other: "KeyPath") -> bool:
        return _sort_key(self) < _sort_key(KeyPath.from_value(other))

    def is_prefix_of(self, other: "KeyPath") -> bool:
        """True if ``other`` starts with this path."""
        other = KeyPath.from_value(other)
        return other._keys[: len(self._keys)] == self._keys


_new = object.__new__
_set_keys = KeyPath.__dict__["_keys"].__set__  # slot setters (KeyPath.__setattr__ refuses changes)
_set_text = KeyPath.__dict__["_text"].__set__


def _parse_keys(path: str) -> tuple:
    """The keys of a path string (see ``KeyPath.parse``); raises KeyPathError if malformed."""
    keys: list[Key] = []
    pos, n = 0, len(path)
    first = True
    while pos < n:
        ch = path[pos]
        if ch == "[":
            m = _INDEX.match(path, pos)
            if m:
                keys.append(int(m.group(1)))
                pos = m.end()
                first = False
                continue
            m = _QUOTED.match(path, pos)
            if m:
                tok = m.group(1)
                if tok.startswith("'"):
                    tok = '"' + tok[1:-1].replace('\\\'', "'").replace('"', '\\"') + '"'
                try:
                    keys.append(json.loads(tok))
                except ValueError:
                    raise KeyPathError(f"Cannot parse key path {path!r}: bad quoted key at {pos}.") from None
                pos = m.end()
                first = False
                continue
            raise KeyPathError(f"Cannot parse key path {path!r}: bad '[...]' at position {pos}.")
        if ch == ".":
            if first:
                raise KeyPathError(f"Cannot parse key path {path!r}: it starts with '.'.")
            pos += 1
        elif not first:
            raise KeyPathError(f"Cannot parse key path {path!r}: expected '.' or '[' at position {pos}.")
        m = _BARE.match(path, pos)
        if not m:
            raise KeyPathError(f"Cannot parse key path {path!r}: expected a key at position {pos}.")
        keys.append(m.group(0))
        pos = m.end()
        first = False
    return tuple(keys)


@lru_cache(maxsize=4096)
def _parse_cached(path: str) -> KeyPath:
    return KeyPath._of(_parse_keys(path))


def _sort_key(p: KeyPath) -> tuple:
    return tuple((0, k, "") if isinstance(k, int) else (1, 0, k) for k in p.keys)


_ROOT = KeyPath()  # the root path, shared (KeyPaths are immutable)
