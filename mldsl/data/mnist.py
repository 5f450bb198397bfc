"""MNIST: from Keras' ``mnist.npz``, from the IDX files (gzipped or not), or via Keras' downloader.

A folder may hold all four IDX files or only one pair (e.g. just the 10,000 ``t10k`` test files): then
those examples are split into train and test (the last ``test_size``, default 2,000, are the test set).

Without ``path``, the first of these that exists is used: ``$MLDSL_DATA_DIR/mnist/`` (a folder holding
``mnist.npz`` or the IDX files), ``$MLDSL_DATA_DIR/mnist.npz``, the IDX files directly in
``$MLDSL_DATA_DIR``, Keras' cache ``~/.keras/datasets/mnist.npz``; then Keras' downloader as
:mod:`mldsl.data.sources` describes (never under the native backend unless ``MLDSL_DATA_DOWNLOAD=1``).
"""
from __future__ import annotations

import glob
import os
from typing import Optional, Tuple

import numpy as np

from mldsl.data import sources
from mldsl.data.idx import read_idx
from mldsl.data.paths import is_folder
from mldsl.data.splits import DataSplits, as_features, as_labels
from mldsl.errors import DataError

NUM_CLASSES = 10
DEFAULT_TEST_SIZE = 2000
_FILES = ("Keras' mnist.npz, or the IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte, "
          "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (.gz or not; the t10k pair alone is enough)")
_HOW = f"Pass path= {_FILES}, or a folder holding them."
_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_mnist(path: Optional[str] = None, test_size: Optional[int] = None) -> DataSplits:
    """Loads MNIST as float32 images ``(N, 28, 28)`` in [0, 1] and int64 labels.

    Args:
      path: Keras' ``mnist.npz``, or a folder holding ``mnist.npz`` or the IDX files. None: look in
        ``$MLDSL_DATA_DIR`` and Keras' cache (see the module docstring), then download with Keras when
        ``$MLDSL_DATA_DOWNLOAD`` allows it.
      test_size: number of test examples. When only one pair of IDX files is present (e.g. the t10k test
        files), its last ``test_size`` examples (default 2,000) are the test set and the rest the training
        set. With the full data, None keeps the official 60,000/10,000 split and an int keeps the last
        ``test_size`` examples of the official test set.
    """
    if test_size is not None and int(test_size) < 1:
        raise DataError(f"Mnist test_size must be >= 1, got {test_size}")
    if path is None:
        found = _local_copy()
        if found:
            return load_mnist(found, test_size)
        looked = sources.places_looked("mnist")
        refusal = sources.download_refusal()
        if refusal:
            raise sources.offline_error("MNIST", looked, _where(), refusal)
        (x_tr, y_tr), (x_te, y_te) = sources.keras_load("mnist", looked, _where())
        return _full(x_tr, y_tr, x_te, y_te, test_size, "keras.datasets.mnist")
    path = os.fspath(path)
    if is_folder(path, "Mnist", _HOW):
        npz = os.path.join(path, "mnist.npz")
        if os.path.isfile(npz):
            return _from_npz(npz, test_size)
        return _from_idx_folder(path, test_size)
    if path.endswith(".npz"):
        return _from_npz(path, test_size)
    raise DataError(f"Mnist: {path} is neither an .npz file nor a folder. {_HOW}")


def _local_copy() -> Optional[str]:
    """The first local copy in the documented search order, or None."""
    found = sources.local_candidates("mnist", keras_cache=False)
    if found:
        return found[0]
    folder = sources.data_dir()
    if folder and os.path.isdir(folder) and (_find_pair(folder, "train") or _find_pair(folder, "t10k")):
        return folder
    cached = sources.keras_cache_file("mnist")
    return cached if os.path.exists(cached) else None


def _where() -> str:
    folder = sources.data_dir()
    if folder:
        place = f"in {os.path.join(folder, 'mnist')}{os.sep} (or directly in {folder})"
    else:
        place = (f"in a folder DIR{os.sep}mnist{os.sep} (or in DIR itself) and set "
                 f"{sources.DATA_DIR_ENV}=DIR")
    return f"Put {_FILES} {place}, or pass Mnist(path=...)."


def _from_npz(path: str, test_size: Optional[int]) -> DataSplits:
    a = sources.load_npz_arrays(path, _NPZ_KEYS, "Mnist")
    return _full(a["x_train"], a["y_train"], a["x_test"], a["y_test"], test_size, path)


def _find_pair(folder: str, prefix: str) -> Optional[Tuple[str, str]]:
    """The (images, labels) files of ``prefix`` ("train" or "t10k") in ``folder``, or None."""
    def find(kind: str, n: int) -> Optional[str]:
        hits = []
        for sep in ("-", "."):
            for suffix in ("", ".gz"):
                hits += glob.glob(os.path.join(glob.escape(folder), f"{prefix}-{kind}{sep}idx{n}-ubyte{suffix}"))
        return sorted(hits)[0] if hits else None
    images, labels = find("images", 3), find("labels", 1)
    if images and labels:
        return images, labels
    if images or labels:
        raise DataError(f"Mnist: {folder} has {os.path.basename(images or labels)} but not the matching "
                        f"{'labels' if images else 'images'} file")
    return None


def _read_pair(pair: Tuple[str, str]) -> Tuple[np.ndarray, np.ndarray]:
    x, y = read_idx(pair[0]), read_idx(pair[1])
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
        raise DataError(f"Mnist: {pair[0]} (shape {x.shape}) and {pair[1]} (shape {y.shape}) "
                        f"are not matching image/label files")
    return x, y


def _from_idx_folder(folder: str, test_size: Optional[int]) -> DataSplits:
    train, test = _find_pair(folder, "train"), _find_pair(folder, "t10k")
    if train and test:
        return _full(*_read_pair(train), *_read_pair(test), test_size, folder)
    if not (train or test):
        listing = ", ".join(sorted(os.listdir(folder))[:10]) or "nothing"
        raise DataError(f"Mnist: no mnist.npz and no IDX files in {folder} (it holds: {listing}). {_HOW}")
    x, y = _read_pair(train or test)
    n_test = DEFAULT_TEST_SIZE if test_size is None else int(test_size)
    if n_test >= len(x):
        raise DataError(f"Mnist: test_size={n_test} leaves no training examples out of the {len(x)} "
                        f"examples in {folder}")
    x, y = as_features(x), as_labels(y)
    return DataSplits(x[:-n_test], y[:-n_test], x[-n_test:], y[-n_test:], NUM_CLASSES)


def _full(x_tr, y_tr, x_te, y_te, test_size: Optional[int], source: str) -> DataSplits:
    if test_size is not None:
        if int(test_size) > len(x_te):
            raise DataError(f"Mnist: test_size={test_size} exceeds the {len(x_te)} test examples in {source}")
        x_te, y_te = x_te[-int(test_size):], y_te[-int(test_size):]
    return DataSplits(as_features(x_tr, "x_train"), as_labels(y_tr, "y_train"), as_features(x_te, "x_test"),
                      as_labels(y_te, "y_test"), NUM_CLASSES)
