"""A compiled ``.mlx`` call, ``evolution(population_size=5)`` or ``median(after=2)``, read as plain values.

The language compiles such a call to a symbolic object with exactly the fields ``name``, ``args`` and
``kwargs`` (``mldsl.dsl.search_statement.Invocation``); the engine and the early-stopping rules, which
sit below the language, read those fields and build what is registered under ``name``.
"""
from __future__ import annotations

from typing import Any, Optional

from mldsl import symbolic as sym

CALL_FIELDS = frozenset({"name", "args", "kwargs"})


def plain(value: Any) -> Any:
    """``value`` with symbolic lists and dicts turned into Python ones (recursively)."""
    if isinstance(value, sym.List):
        return [plain(v) for v in value]
    if isinstance(value, sym.Dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def call_parts(value: Any) -> Optional[tuple]:
    """``(name, args, kwargs)`` of a compiled call, or None when ``value`` is not one."""
    if not isinstance(value, sym.Object):
        return None
    fields = value.sym_init_args
    if set(fields.keys()) != CALL_FIELDS:
        return None
    return (str(fields["name"]), [plain(a) for a in fields["args"] or []],
            {str(k): plain(v) for k, v in (fields["kwargs"] or {}).items()})
