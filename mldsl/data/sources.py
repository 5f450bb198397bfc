"""Where loaders look for files when no path is given, and the optional Keras download fallback.

Search order for a dataset called ``name`` (e.g. ``"mnist"``) when the user passes no ``path``:

1. ``$MLDSL_DATA_DIR/<name>`` (a folder) and ``$MLDSL_DATA_DIR/<name>.npz``, when the variable is set;
2. Keras' download cache ``$KERAS_HOME/datasets/<name>.npz`` (``~/.keras/datasets`` by default);
3. Keras' own loader (downloads), only when TensorFlow is installed.

Nothing here imports TensorFlow unless step 3 is reached.
"""
from __future__ import annotations

import importlib.util
import os
from typing import Callable, List, Tuple

import numpy as np

from mldsl.errors import DataError

DATA_DIR_ENV = "MLDSL_DATA_DIR"


def local_candidates(name: str, keras_cache: bool = True) -> List[str]:
    """Paths (that exist) where a local copy of dataset ``name`` may be, in search order."""
    out: List[str] = []
    data_dir = os.environ.get(DATA_DIR_ENV)
    if data_dir:
        out += [os.path.join(data_dir, name), os.path.join(data_dir, name + ".npz")]
    if keras_cache:
        keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
        out.append(os.path.join(keras_home, "datasets", name + ".npz"))
    return [p for p in out if os.path.exists(p)]


def keras_available() -> bool:
    """True when TensorFlow is importable (checked without importing it)."""
    try:
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        return False


def keras_load(dataset: str, what: str, how: str, **kwargs) -> Tuple[Tuple[np.ndarray, np.ndarray],
                                                                      Tuple[np.ndarray, np.ndarray]]:
    """``keras.datasets.<dataset>.load_data(**kwargs)``; a failure (offline, ...) is :func:`offline_error`.

    TensorFlow's C++ start-up logging is quietened (unless the user set ``TF_CPP_MIN_LOG_LEVEL``) so the
    error, if any, is what the user sees.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from tensorflow import keras  # noqa: PLC0415 - deliberately lazy
        loader: Callable = getattr(keras.datasets, dataset).load_data
        return loader(**kwargs)
    except Exception as exc:  # noqa: BLE001 - report any download/IO failure as a DataError
        raise offline_error(what, how, cause=f"{type(exc).__name__}: {exc}") from None


def offline_error(what: str, how: str, cause: str = "") -> DataError:
    """The error raised when no local copy is found and Keras cannot download one."""
    keras_note = ("TensorFlow is not installed, so Keras cannot download it"
                  if not keras_available() else "Keras could not download it")
    if cause:
        keras_note += f" ({cause})"
    return DataError(f"no local copy of {what} was found and {keras_note}. Pass path=... {how} "
                     f"(or set {DATA_DIR_ENV} to a folder holding it).")


def load_npz_arrays(path: str, required: Tuple[str, ...]) -> dict:
    """Arrays of an ``.npz`` file, loaded without pickle; DataError if missing keys or unreadable."""
    if not os.path.exists(path):
        raise DataError(f"file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"cannot read {path} as an .npz file (without pickle): {exc}") from None
    missing = [k for k in required if k not in arrays]
    if missing:
        raise DataError(f"{path} lacks the array(s) {', '.join(missing)}; it holds: "
                        f"{', '.join(sorted(arrays)) or 'nothing'}")
    return arrays

