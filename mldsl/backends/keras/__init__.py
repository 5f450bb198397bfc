"""The Keras backend of mldsl: the same symbolic experiments, trained with Keras 3 on TensorFlow.

Importing this package does not import TensorFlow; it is imported when an experiment is prepared or run.

* :class:`KerasBackend` (``name = "keras"``): ``available()``, ``run(experiment, on_epoch=...)``,
  ``prepare(experiment)``, ``save_model(model, folder)``.
* :func:`load_model`: loads a saved ``model.keras``.
* :func:`export_weights` / :func:`import_weights` (+ ``save_weights``/``load_weights``): Dense weights in
  the format shared with the native backend (see :mod:`mldsl.backends.keras.weights`).
* :mod:`mldsl.backends.keras.lowering`: how components become Keras objects, and how plugins add theirs.
* :class:`ApproximateGELU`: the tanh-approximated GELU as a serializable Keras layer (importing it imports
  Keras), for lowerings of ``GELU(approximate=True)``.
"""
from __future__ import annotations

from mldsl._lazy import lazy_exports

_EXPORTS = {
    "KerasBackend": "mldsl.backends.keras.backend",
    "Prepared": "mldsl.backends.keras.backend",
    "load_model": "mldsl.backends.keras.backend",
    "export_weights": "mldsl.backends.keras.weights",
    "import_weights": "mldsl.backends.keras.weights",
    "save_weights": "mldsl.backends.keras.weights",
    "load_weights": "mldsl.backends.keras.weights",
    "LoweringContext": "mldsl.backends.keras.lowering",
    "ApproximateGELU": "mldsl.backends.keras._layers",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports("mldsl.backends.keras", _EXPORTS, globals())
