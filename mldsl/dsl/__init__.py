"""The ``.mlx`` language: grammar loading, IR, compiler to symbolic objects, diagnostics, printer
and formatter. Public entry points: ``parse``, ``load_mlx``, ``load_module``, ``load``, ``to_mlx``,
``format_source``, ``MlxError``."""
from __future__ import annotations

from mldsl.dsl.diagnostics import ERROR_CODES, MlxError, MlxErrors

__all__ = ["parse", "load_mlx", "load_module", "load", "check", "to_mlx", "format_source", "MlxError", "MlxErrors", "ERROR_CODES",
           "Module", "Patch", "Search"]


def __getattr__(name):
    if name in ("parse", "load_mlx", "load_module", "load", "check", "compile_source"):
        from mldsl.dsl import api

        return getattr(api, name)
    if name == "to_mlx":
        from mldsl.dsl.printer import to_mlx

        return to_mlx
    if name == "format_source":
        from mldsl.dsl.formatter import format_source

        return format_source
    if name in ("Module", "Patch"):
        from mldsl.dsl import module

        return getattr(module, name)
    if name in ("Search", "Objective", "Invocation"):
        from mldsl.dsl import search_statement

        return getattr(search_statement, name)
    raise AttributeError(f"module 'mldsl.dsl' has no attribute {name!r}")
