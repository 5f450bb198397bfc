"""Errors raised by mldsl. This module imports nothing else from mldsl (the bottom layer)."""
from __future__ import annotations

import difflib
from typing import Iterable, Optional


class MldslError(Exception):
    """Base class of every error mldsl raises on purpose (a user-facing failure)."""

    def render(self) -> str:
        """The error as the command line and the REPL print it: ``error: message``. Language
        diagnostics override it with ``file:line:col``, the source line and a caret."""
        return f"error: {self}"


class SymbolicError(MldslError):
    """A symbolic-object operation failed (bad value, unknown key, sealed object, ...)."""


class ValidationError(SymbolicError, ValueError):
    """A value does not match its value spec. The message ends with ``(path=...)``; one that reports
    several bad entries of a value at once has a line per entry and lists them in ``errors``."""


class SealedError(SymbolicError, PermissionError):
    """A change was attempted on a sealed symbolic object."""


class UnknownTypeError(SymbolicError, KeyError):
    """A JSON document or DSL text names a type that is not registered."""

    def __str__(self) -> str:  # KeyError quotes its message; we do not.
        return str(self.args[0]) if self.args else ""


class KeyPathError(SymbolicError, KeyError):
    """A key path does not exist in a symbolic tree, or cannot be parsed."""

    def __str__(self) -> str:  # KeyError quotes its message; we do not.
        return str(self.args[0]) if self.args else ""


class IndexOutOfRangeError(ValidationError, IndexError):
    """A list index is out of range (writing past the end of a symbolic list is an error)."""


class SerializationError(SymbolicError, ValueError):
    """A value cannot be converted to or from JSON (unsupported value, malformed document)."""


class RegistryError(MldslError):
    """A name could not be registered or resolved."""


class PluginError(MldslError):
    """A plugin failed to load or register."""


class DataError(MldslError):
    """A dataset could not be loaded (missing file, offline, bad format)."""


class BackendError(MldslError):
    """A backend cannot run an experiment (unsupported component, missing dependency, NaN loss)."""


class SearchError(MldslError):
    """A search could not be set up, run or resumed."""


class StoreError(MldslError):
    """The trial/run store is unreadable, locked or corrupt."""


def did_you_mean(name: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The candidates closest to ``name`` (case-insensitive), best first."""
    cands = sorted(set(candidates))
    lowered = {c.lower(): c for c in cands}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=cutoff)
    return [lowered[c] for c in close]


def suggestion_text(name: str, candidates: Iterable[str]) -> Optional[str]:
    """``"did you mean 'x'?"`` (or ``'x' or 'y'``) for the closest candidates, or None."""
    close = did_you_mean(name, candidates)
    if not close:
        return None
    return "did you mean " + " or ".join(repr(c) for c in close) + "?"


class UnknownComponentError(RegistryError, UnknownTypeError):
    """A name (in a ``.mlx`` or JSON file, or passed to the registry) is not a registered component.

    The message carries a "did you mean" suggestion and the hint to run ``mldsl plugins``."""


class PatchError(ValidationError):
    """A patch is malformed or cannot be applied: a bad argument or patch string, or a patcher that
    failed."""
