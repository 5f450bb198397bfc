"""The table of known symbolic types: the only way a JSON ``_type`` name becomes a class.

Nothing here ever imports a module: a name resolves only if a class was registered under it
(every ``sym.Object`` subclass registers itself under its ``type_name``).
"""
from __future__ import annotations

from typing import Optional

from mldsl.errors import RegistryError, UnknownTypeError, suggestion_text
from mldsl.symbolic.base import Symbolic

__all__ = ["register_type", "lookup_type", "find_type", "registered_types"]

_TYPES: dict[str, type] = {}


def register_type(name: str, cls: type) -> type:
    """Register symbolic class ``cls`` under ``name`` (a later registration replaces an earlier one)."""
    if not isinstance(name, str) or not name:
        raise RegistryError(f"A type name must be a non-empty str, got {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Symbolic.ObjectType)):
        raise RegistryError(f"Only sym.Object subclasses can be registered as types, got {cls!r}")
    _TYPES[name] = cls
    return cls


def find_type(name: str) -> Optional[type]:
    """The class registered under ``name`` or None (never imports anything)."""
    return _TYPES.get(name) if isinstance(name, str) else None


def lookup_type(name: str) -> type:
    """The class registered under ``name``; raises UnknownTypeError naming it (never imports anything)."""
    cls = find_type(name)
    if cls is None:
        msg = f"Unknown type {name!r}: no symbolic type is registered under this name"
        hint = suggestion_text(str(name), _TYPES)
        msg += f"; {hint}" if hint else "."
        raise UnknownTypeError(msg)
    return cls


def registered_types() -> dict[str, type]:
    """A copy of the table ``{name: class}``."""
    return dict(_TYPES)
