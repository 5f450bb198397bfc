"""mldsl's standard library of components, patchers, datasets, backends and search algorithms.

Registered through the ``mldsl`` entry-point group exactly like a third-party plugin."""
