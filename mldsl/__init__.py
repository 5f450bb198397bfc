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
    "load_mlx": "mldsl.dsl.api",
    "MlxError": "mldsl.dsl.diagnostics",
    "MlxErrors": "mldsl.dsl.diagnostics",
    "to_mlx": "mldsl.dsl.printer",
    "format_source": "mldsl.dsl.formatter",
    "Module": "mldsl.dsl.module",
    # errors
    "MldslError": "mldsl.errors",
    "ValidationError": "mldsl.errors",
    "SealedError": "mldsl.errors",
    # the symbolic core (PyGlove's vocabulary); `load` reads what `save` wrote, resolving types
    # through the plugins
    "symbolic": "mldsl.symbolic",
    "typing": "mldsl.typing",
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
    "load": "mldsl.dsl.api",
    "register_type": "mldsl.symbolic",
    "lookup_type": "mldsl.symbolic",
    "CustomTyping": "mldsl.symbolic",
    # plugins, registry, components, data
    "hookimpl": "mldsl.hookspecs",
    "get_registry": "mldsl.registry",
    "reset_registry": "mldsl.registry",
    "Registry": "mldsl.registry",
    "RegistryError": "mldsl.errors",
    "UnknownComponentError": "mldsl.errors",
    "PluginError": "mldsl.errors",
    "DataError": "mldsl.errors",
    "DataSplits": "mldsl.data",
    # search spaces, algorithms and patching
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
    "PatcherCall": "mldsl.patching",
    "Patch": "mldsl.patching",
    "PatchWarning": "mldsl.patching",
    "PatchError": "mldsl.errors",
    # checking a model's gradients (native backend, float64 central differences)
    "gradcheck": "mldsl.service.gradcheck",
    # running experiments and searches
    "run": "mldsl.service.python_run",
    "RunReport": "mldsl.service.python_run",
    "run_search": "mldsl.engine.search",
    "SearchResult": "mldsl.engine.search",
    "SearchError": "mldsl.errors",
    "StoreError": "mldsl.errors",
    # looking at a model before training it
    "summary": "mldsl.service.summary",
    "ModelSummary": "mldsl.service.summary",
    # pictures: a dataset's examples, runs' curves overlaid, first-layer weights (PNG; shown inline in Jupyter)
    "plot_examples": "mldsl.service.pictures",
    "plot_runs": "mldsl.service.pictures",
    "plot_first_layer": "mldsl.service.pictures",
    # Jupyter: `%load_ext mldsl` (imports IPython only then)
    "load_ipython_extension": "mldsl.notebook",
    "unload_ipython_extension": "mldsl.notebook",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


__getattr__, __dir__ = lazy_exports("mldsl", _EXPORTS, globals())
