"""Lazy public names for a package's ``__init__`` (PEP 562): a name's module is imported on first use.

Used by ``mldsl`` itself and the backends, so that importing them stays cheap (no NumPy, TensorFlow
or kernels until a name that needs them is touched). Imports nothing from mldsl.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, List, Tuple


def lazy_exports(package: str, exports: Dict[str, str],
                 namespace: Dict[str, Any]) -> Tuple[Callable[[str], Any], Callable[[], List[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps each public name to the module that
    defines it (a name mapped to ``package.name`` is that submodule itself); a resolved name is cached in
    ``namespace`` (the package's ``globals()``)."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        imported = importlib.import_module(module)
        value = imported if module == f"{package}.{name}" else getattr(imported, name)
        namespace[name] = value
        return value

    def __dir__() -> List[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
