"""mldsl: machine-learning experiments as inspectable symbolic objects.

Importing this package is cheap: it never imports TensorFlow, Ray or the compiled kernels.
Public names are resolved lazily on first access (see ``__all__``).
"""
from __future__ import annotations

from mldsl._lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # the .mlx language
    "parse": "mldsl.dsl.api",
    "load": "mldsl.dsl.api",
    "MlxError": "mldsl.dsl.diagnostics",
    "MlxErrors": "mldsl.dsl.diagnostics",
    "to_mlx": "mldsl.dsl.printer",
    "format_source": "mldsl.dsl.formatter",
    "Module": "mldsl.dsl.module",
    # errors
    "MldslError": "mldsl.errors",
    "ValidationError": "mldsl.errors",
    # symbolic core (owner: symbolic workstream)
    "symbolic": "mldsl.symbolic",
    "typing": "mldsl.symbolic",
    "Object": "mldsl.symbolic",
    "Dict": "mldsl.symbolic",
    "List": "mldsl.symbolic",
    "members": "mldsl.symbolic",
    "symbolize": "mldsl.symbolic",
    "KeyPath": "mldsl.symbolic",
    "MISSING": "mldsl.symbolic",
    "eq": "mldsl.symbolic",
    "ne": "mldsl.symbolic",
    "diff": "mldsl.symbolic",
    "query": "mldsl.symbolic",
    "traverse": "mldsl.symbolic",
    "format": "mldsl.symbolic",
    "clone": "mldsl.symbolic",
    "to_json": "mldsl.symbolic",
    "from_json": "mldsl.symbolic",
    "to_json_str": "mldsl.symbolic",
    "from_json_str": "mldsl.symbolic",
    "save": "mldsl.symbolic",
    "load_json": "mldsl.symbolic",
    "register_type": "mldsl.symbolic",
    "lookup_type": "mldsl.symbolic",
    "CustomTyping": "mldsl.symbolic",
    # plugins, registry, components, data (plugins workstream)
    "hookimpl": "mldsl.hookspecs",
    "get_registry": "mldsl.registry",
    "reset_registry": "mldsl.registry",
    "Registry": "mldsl.registry",
    "RegistryError": "mldsl.errors",
    "UnknownComponentError": "mldsl.errors",
    "PluginError": "mldsl.errors",
    "DataError": "mldsl.errors",
    "DataSplits": "mldsl.data",
    # search spaces, algorithms and patching (hyper workstream)
    "oneof": "mldsl.hyper",
    "manyof": "mldsl.hyper",
    "floatv": "mldsl.hyper",
    "intv": "mldsl.hyper",
    "is_deterministic": "mldsl.hyper",
    "dna_spec": "mldsl.hyper",
    "DNA": "mldsl.hyper",
    "DNASpec": "mldsl.hyper",
    "materialize": "mldsl.hyper",
    "iter_dna": "mldsl.hyper",
    "random_dna": "mldsl.hyper",
    "sample": "mldsl.hyper",
    "Feedback": "mldsl.hyper",
    "Algorithm": "mldsl.hyper",
    "Grid": "mldsl.hyper",
    "Random": "mldsl.hyper",
    "Evolution": "mldsl.hyper",
    "patcher": "mldsl.patching",
    "patch": "mldsl.patching",
    "Patcher": "mldsl.patching",
    "Patch": "mldsl.patching",
    "PatchError": "mldsl.errors",
    # running searches (engine/search workstream)
    "run_search": "mldsl.engine.search",
    "SearchResult": "mldsl.engine.search",
    "SearchError": "mldsl.errors",
    "StoreError": "mldsl.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


__getattr__, __dir__ = lazy_exports("mldsl", _EXPORTS, globals())
