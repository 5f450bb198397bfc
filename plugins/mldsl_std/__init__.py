"""mldsl's standard library of components, patchers, datasets, backends and search algorithms.

Registered through the ``mldsl`` entry-point group (``std = "mldsl_std"`` in mldsl's pyproject.toml)
exactly like a third-party plugin. This module only lists the plugin's parts: each module below is
registered on its own (``mldsl_plugins``, see :mod:`mldsl.hookspecs`), so a failure in one leaves the
others working. The patchers and algorithms modules (owned by the hyper/patching area) join when they
exist.
"""
import importlib.util as _util

_PARTS = ("experiment", "models", "layers", "activations", "optimizers", "losses", "metrics", "regularizers",
          "callbacks", "datasets", "backends")
_OPTIONAL_PARTS = ("patchers", "algorithms")  # owned by the hyper/patching area; joined when present

#: Modules registered as parts of the ``std`` plugin.
mldsl_plugins = tuple(f"{__name__}.{m}" for m in _PARTS) + tuple(
    f"{__name__}.{m}" for m in _OPTIONAL_PARTS if _util.find_spec(f"{__name__}.{m}") is not None)
