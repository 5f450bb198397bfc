"""Importing TensorFlow/Keras for the Keras backend: lazily, quietly, with a bounded thread count.

Nothing in :mod:`mldsl.backends.keras` imports TensorFlow at module level; every code path that needs it
calls :func:`import_keras`, which also turns a missing installation into a :class:`BackendError` naming the
``mldsl[keras]`` extra.
"""
from __future__ import annotations

import importlib.util
import os
from typing import Any, Optional, Tuple

from mldsl.errors import BackendError

#: Environment variable: the number of threads TensorFlow may use inside one op (and between ops).
THREADS_ENV = "MLDSL_TF_THREADS"

INSTALL_HINT = 'pip install "mldsl[keras]"'

_configured = False


def missing_tensorflow() -> Optional[str]:
    """None when TensorFlow can be imported, else a sentence saying how to install it (no import done)."""
    try:
        found = importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        found = False
    if found:
        return None
    return (f"TensorFlow is not installed; install it with `{INSTALL_HINT}` "
            "(the CPU build, tensorflow-cpu) or install tensorflow yourself for a GPU build")


def import_keras() -> Tuple[Any, Any]:
    """``(tensorflow, keras)``, imported on first use; a missing or too-old install is a BackendError.

    Sets ``KERAS_BACKEND=tensorflow`` and silences TensorFlow's C++ info logs unless the user chose
    otherwise, and applies ``$MLDSL_TF_THREADS`` (intra- and inter-op threads) before TensorFlow starts.
    """
    global _configured
    problem = missing_tensorflow()
    if problem:
        raise BackendError(f"the keras backend cannot run: {problem}")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf  # noqa: PLC0415 - deliberately lazy
        import keras  # noqa: PLC0415
    except ImportError as exc:
        raise BackendError(f"the keras backend cannot run: importing TensorFlow/Keras failed ({exc}); "
                           f"reinstall with `{INSTALL_HINT}`") from None
    if int(keras.__version__.split(".")[0]) < 3:
        raise BackendError(f"the keras backend needs Keras 3 (found {keras.__version__}); "
                           f"upgrade with `{INSTALL_HINT}`")
    if not _configured:
        _configured = True
        threads = os.environ.get(THREADS_ENV)
        if threads:
            try:
                tf.config.threading.set_intra_op_parallelism_threads(int(threads))
                tf.config.threading.set_inter_op_parallelism_threads(int(threads))
            except RuntimeError:  # TensorFlow already started: too late to change, keep going
                pass
    return tf, keras
