"""mldsl's standard library of components, patchers, datasets, backends and search algorithms.

Registered through the ``mldsl`` entry-point group (``std = "mldsl_std"`` in mldsl's pyproject.toml)
exactly like a third-party plugin. This module only lists the plugin's parts: each module below is
registered on its own (``mldsl_plugins``, see :mod:`mldsl.hookspecs`), so a failure in one leaves the
others working.
"""

_PARTS = ("experiment", "models", "layers", "activations", "optimizers", "losses", "metrics", "regularizers",
          "callbacks", "datasets", "backends", "patchers", "algorithms")

#: Modules registered as parts of the ``std`` plugin.
mldsl_plugins = tuple(f"{__name__}.{m}" for m in _PARTS)
