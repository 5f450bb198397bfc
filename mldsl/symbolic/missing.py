"""The ``MISSING`` sentinel: a field or key that has no value (yet)."""
from __future__ import annotations

__all__ = ["MISSING", "MissingType"]


class MissingType:
    """Type of the :data:`MISSING` singleton. It is falsy and prints as ``MISSING``."""

    _instance: "MissingType | None" = None

    def __new__(cls) -> "MissingType":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self):
        return (MissingType, ())

    def __copy__(self) -> "MissingType":
        return self

    def __deepcopy__(self, memo) -> "MissingType":
        return self


MISSING = MissingType()
"""A value that is not specified: a required field of a partial object, or "no default"."""
