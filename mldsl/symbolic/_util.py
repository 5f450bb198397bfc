"""Small private helpers shared by the symbolic modules."""
from __future__ import annotations

from typing import Any

from mldsl.errors import ValidationError


def path_error(message: str, path: Any, cls: type = ValidationError, **attrs: Any) -> Exception:
    """An error whose text ends with ``(path=...)``; ``.path`` and ``.reason`` are kept as attributes."""
    err = cls(f"{message} (path={path if path is not None else ''})")
    err.path = str(path) if path is not None else ""
    err.reason = message
    for k, v in attrs.items():
        setattr(err, k, v)
    return err


def type_label(value: Any) -> str:
    """A short name of a value's type for messages."""
    return type(value).__name__
