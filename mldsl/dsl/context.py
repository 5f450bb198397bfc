"""What the parts of the compiler share: the ``ERROR`` value of an expression that failed, the context
of the statement being compiled, and how values and places are named in messages."""
from __future__ import annotations

import copy
import os
import re
from typing import Any, Dict, Optional, Tuple

from mldsl import symbolic as sym
from mldsl.dsl import ir
from mldsl.dsl.module import Provenance
from mldsl.errors import KeyPathError

PLUGINS_HINT = "run `mldsl plugins` to list what is installed"
_PATH_IN_MESSAGE = re.compile(r"\(path=([^()]*)\)\s*$")


class _Error:
    """The value of an expression that failed (its error is already reported)."""

    def __repr__(self) -> str:
        return "ERROR"


#: The value of an expression whose error was reported; it silences the errors that would follow.
ERROR = _Error()


def is_error(value: Any) -> bool:
    return value is ERROR


class StatementContext:
    """Per-statement state: what is being defined (for provenance) and where each path came from."""

    def __init__(self, how: str, prov: Optional[Provenance] = None) -> None:
        self.how = how
        self.prov = prov if prov is not None else Provenance()
        self.spans: Dict[Tuple, ir.Span] = {}


# --------------------------------------------------------------------------------- naming things

def where(span: ir.Span) -> str:
    return f"{span.file}:{span.line}:{span.column}"


def display_path(path: str) -> str:
    """A file path as messages show it: relative to the current folder when below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return path
    return path if rel.startswith("..") else rel


def article(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def type_name(value) -> str:
    return getattr(type(value), "type_name", None) or type(value).__name__


def describe_value(value) -> str:
    """``an int (3)``, ``a string ('x')``, ``a Dense``, ... for messages."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"a bool ({str(value).lower()})"
    if isinstance(value, int):
        return f"an int ({value})"
    if isinstance(value, float):
        return f"a float ({value!r})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a dict"
    return article(type_name(value))


def path_text(keys) -> str:
    """``('model', 'layers', 1)`` -> ``model.layers[1]``."""
    return str(sym.KeyPath(keys))


def path_in_message(message: str) -> Optional[Tuple]:
    """The keys of a validation message's trailing ``(path=...)``, or None."""
    m = _PATH_IN_MESSAGE.search(message)
    if not m:
        return None
    try:
        return tuple(sym.KeyPath.parse(m.group(1).strip()))
    except KeyPathError:
        return None


def strip_path(message: str) -> str:
    """A patch error without its trailing ``(path=)`` when that is the root (the caret shows where)."""
    m = _PATH_IN_MESSAGE.search(message)
    return message[:m.start()].rstrip() if m and not m.group(1) else message


def clone(value):
    """A copy of a defined value for one use (a reference copies what it names)."""
    if isinstance(value, sym.Symbolic):
        return value.clone(deep=True)
    if isinstance(value, (list, dict)):
        return copy.deepcopy(value)
    return value
