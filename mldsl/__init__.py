"""mldsl: machine-learning experiments as inspectable symbolic objects.

Importing this package is cheap: it never imports TensorFlow, Ray or the compiled kernels.
Public names are resolved lazily on first access (see ``__all__``).
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # errors
    "MldslError": "mldsl.errors",
    "ValidationError": "mldsl.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mldsl' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
