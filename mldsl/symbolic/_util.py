"""Small private helpers shared by the symbolic modules."""
from __future__ import annotations

import inspect
from typing import Any, Callable, Optional, Union

from mldsl.errors import ValidationError


def path_error(message: str, path: Any, cls: type = ValidationError, **attrs: Any) -> Exception:
    """An error whose text ends with ``(path=...)``; ``.path`` and ``.reason`` are kept as attributes."""
    err = cls(f"{message} (path={path if path is not None else ''})")
    err.path = str(path) if path is not None else ""
    err.reason = message
    for k, v in attrs.items():
        setattr(err, k, v)
    return err


def positional_arity(fn: Callable) -> Optional[int]:
    """How many positional arguments ``fn`` takes (those with defaults included); None when it takes
    ``*args`` or its signature cannot be read."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return len([p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])


def type_label(value: Any) -> str:
    """A short name of a value's type for messages."""
    return type(value).__name__


class LazyAttributeError(AttributeError):
    """An ``AttributeError`` whose message is built only when it is read.

    ``LazyAttributeError(render)`` calls ``render()`` (once) the first time the message is needed
    (``str(e)``, ``e.args``, a traceback), so probes such as ``hasattr(obj, name)`` or
    ``getattr(obj, name, default)``, which catch the error unread, do not pay for the "did you mean"
    suggestions the message carries. ``LazyAttributeError("text")`` is a plain message.

    It reads exactly like the plain ``AttributeError`` it stands for: its name, repr and traceback
    line say ``AttributeError``, and it pickles as one.
    """

    def __init__(self, message: Union[str, Callable[[], str]]) -> None:
        super().__init__()
        self._message = None if callable(message) else str(message)
        self._render = message if callable(message) else None

    @property
    def message(self) -> str:
        """The message text (rendered on first use)."""
        if self._message is None:
            self._message = self._render()
            self._render = None
        return self._message

    @property
    def args(self) -> tuple:  # type: ignore[override]
        return (self.message,)

    @args.setter
    def args(self, value: tuple) -> None:
        self._message = str(value[0]) if value else ""
        self._render = None

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    def __reduce__(self):
        return (AttributeError, (self.message,))


# Printed (``type(e).__name__``, tracebacks) as the builtin it replaces; the class stays importable
# from here by its Python name.
LazyAttributeError.__name__ = LazyAttributeError.__qualname__ = "AttributeError"
LazyAttributeError.__module__ = "builtins"
