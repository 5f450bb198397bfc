"""Where loaders look for files when no path is given, and when Keras may download them.

Search order for a dataset called ``name`` (e.g. ``"mnist"``) when the user passes no ``path``:

1. ``$MLDSL_DATA_DIR/<name>`` (a folder) and ``$MLDSL_DATA_DIR/<name>.npz``, when the variable is set
   (a loader may accept more, e.g. MNIST's IDX files directly in ``$MLDSL_DATA_DIR``);
2. Keras' download cache ``$KERAS_HOME/datasets/<name>.npz`` (``~/.keras/datasets`` by default), for the
   datasets whose cached file is an ``.npz``;
3. Keras' downloader, as ``$MLDSL_DATA_DOWNLOAD`` says:

   - ``auto`` (the default): only when TensorFlow is already imported, i.e. when the Keras backend is
     running (it imports TensorFlow before it loads the data). Under the native backend a missing dataset
     is an error at once: TensorFlow (seconds to import, and its log lines) is never imported to look.
   - ``1``: download with Keras whatever the backend, importing TensorFlow if needed.
   - ``0``: never download.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import zipfile
import zlib
from typing import Callable, List, Optional, Tuple

import numpy as np

from mldsl.data.paths import open_regular_file
from mldsl.errors import DataError

DATA_DIR_ENV = "MLDSL_DATA_DIR"
DOWNLOAD_ENV = "MLDSL_DATA_DOWNLOAD"
_DOWNLOAD_MODES = {"": "auto", "auto": "auto", "1": "yes", "yes": "yes", "true": "yes", "on": "yes",
                   "0": "no", "no": "no", "false": "no", "off": "no"}


def data_dir() -> Optional[str]:
    """``$MLDSL_DATA_DIR``, or None when unset or empty."""
    return os.environ.get(DATA_DIR_ENV) or None


def keras_cache_file(name: str) -> str:
    """Where Keras' downloader keeps ``<name>.npz``."""
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(keras_home, "datasets", name + ".npz")


def local_candidates(name: str, keras_cache: bool = True) -> List[str]:
    """Paths (that exist) where a local copy of dataset ``name`` may be, in search order."""
    out: List[str] = []
    folder = data_dir()
    if folder:
        out += [os.path.join(folder, name), os.path.join(folder, name + ".npz")]
    if keras_cache:
        out.append(keras_cache_file(name))
    return [p for p in out if os.path.exists(p)]


def places_looked(name: str, keras_cache: bool = True) -> str:
    """``"$MLDSL_DATA_DIR is not set, and Keras' cache has no ~/.keras/datasets/mnist.npz"``."""
    folder = data_dir()
    if folder is None:
        places = [f"${DATA_DIR_ENV} is not set"]
    elif not os.path.isdir(folder):
        places = [f"${DATA_DIR_ENV}={folder} is not a folder"]
    else:
        places = [f"none in ${DATA_DIR_ENV}={folder}"]
    if keras_cache:
        places.append(f"Keras' cache has no {keras_cache_file(name)}")
    return ", and ".join(places)


def keras_available() -> bool:
    """True when TensorFlow is importable (checked without importing it)."""
    try:
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        return False


def download_mode() -> str:
    """``"auto"``, ``"yes"`` or ``"no"`` from ``$MLDSL_DATA_DOWNLOAD``; DataError for another value."""
    text = os.environ.get(DOWNLOAD_ENV, "").strip().lower()
    if text not in _DOWNLOAD_MODES:
        raise DataError(f"{DOWNLOAD_ENV}={text!r}: expected auto (the default: download with Keras only "
                        f"when the Keras backend runs), 1 (always) or 0 (never)")
    return _DOWNLOAD_MODES[text]


def download_refusal() -> Optional[str]:
    """None when Keras may download now; else why not, as a sentence that says how to allow it."""
    mode = download_mode()
    if mode == "no":
        return f"Downloads are off ({DOWNLOAD_ENV}=0)."
    if not keras_available():
        return "Keras could download it, but TensorFlow is not installed."
    if mode == "auto" and "tensorflow" not in sys.modules:
        return (f"To let Keras download it instead, set {DOWNLOAD_ENV}=1 (this imports TensorFlow); "
                f"with the default ({DOWNLOAD_ENV}=auto) Keras downloads only when the keras backend runs.")
    return None


def keras_load(dataset: str, looked: str, where: str, **kwargs) -> Tuple[Tuple[np.ndarray, np.ndarray],
                                                                        Tuple[np.ndarray, np.ndarray]]:
    """``keras.datasets.<dataset>.load_data(**kwargs)``; a failure (offline, ...) is :func:`offline_error`.

    Call only when :func:`download_refusal` is None. TensorFlow's C++ start-up logging is quietened
    (unless the user set ``TF_CPP_MIN_LOG_LEVEL``) so the error, if any, is what the user sees.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from tensorflow import keras  # noqa: PLC0415 - deliberately lazy
        loader: Callable = getattr(keras.datasets, dataset).load_data
        return loader(**kwargs)
    except Exception as exc:  # noqa: BLE001 - report any download/IO failure as a DataError
        raise offline_error(dataset.upper(), looked, where,
                            f"Keras could not download it ({type(exc).__name__}: {exc}).") from None


def offline_error(name: str, looked: str, where: str, download_note: str) -> DataError:
    """The error raised when no local copy of dataset ``name`` is found and Keras does not download one.

    Args:
      name: the dataset, e.g. ``"MNIST"``.
      looked: :func:`places_looked`'s clause.
      where: the sentence saying which files to put where (or which ``path=`` to pass).
      download_note: :func:`download_refusal`'s sentence, or why the download failed.
    """
    return DataError(f"no local copy of {name} was found ({looked}). {where} {download_note}")


def load_npz_arrays(path: str, required: Tuple[str, ...], what: str = "Npz", how: str = "") -> dict:
    """Arrays of an ``.npz`` file, loaded without pickle; DataError if unreadable, truncated, not an
    ``.npz`` archive, or missing a ``required`` key (``what`` starts the message, ``how`` ends it)."""
    path = os.fspath(path)
    with open_regular_file(path, what, how) as fh:
        try:
            loaded = np.load(fh, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise DataError(f"{what}: {path} holds a single array (.npy), not an .npz archive of "
                                f"named arrays; save with numpy.savez(path, x_train=..., ...)")
            with loaded as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise DataError(f"{what}: {path} is not a complete .npz file (truncated or damaged: {exc})") \
                from None
        except MemoryError:
            raise DataError(f"{what}: {path} declares arrays too large to load (a damaged file?)") from None
        except (OSError, ValueError) as exc:
            raise DataError(f"{what}: cannot read {path} as an .npz file (without pickle): {exc}") from None
    missing = [k for k in required if k not in arrays]
    if missing:
        raise DataError(f"{what}: {path} lacks the array(s) {', '.join(missing)}; it holds: "
                        f"{', '.join(sorted(arrays)) or 'nothing'}")
    return arrays
