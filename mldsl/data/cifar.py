"""CIFAR-10 and CIFAR-100 from an ``.npz`` file, or via Keras' downloader (see :mod:`mldsl.data.sources`).

The original ``cifar-10-batches-py`` folders are Python pickles; unpickling runs arbitrary code, so mldsl
does not read them. Convert once on a machine with Keras instead::

    from tensorflow import keras; import numpy as np
    (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    np.savez_compressed("cifar10.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)

For CIFAR-100 also store the coarse labels as ``y_train_coarse`` / ``y_test_coarse`` (from
``load_data(label_mode="coarse")``) if you want ``label_mode="coarse"``.
"""
from __future__ import annotations

import os
from typing import Optional

from mldsl.data import sources
from mldsl.data.paths import is_folder
from mldsl.data.splits import DataSplits, as_features, as_labels
from mldsl.errors import DataError

LABEL_MODES = {"fine": 100, "coarse": 20}


def load_cifar10(path: Optional[str] = None) -> DataSplits:
    """CIFAR-10: float32 images ``(N, 32, 32, 3)`` in [0, 1], int64 labels in 0..9.

    Args:
      path: an ``.npz`` with ``x_train, y_train, x_test, y_test`` (uint8 images), or a folder holding
        ``cifar10.npz``. None: ``$MLDSL_DATA_DIR/cifar10.npz`` or ``$MLDSL_DATA_DIR/cifar10/cifar10.npz``,
        then Keras' downloader when ``$MLDSL_DATA_DOWNLOAD`` allows it (see :mod:`mldsl.data.sources`).
    """
    return _load("cifar10", path, 10, "")


def load_cifar100(path: Optional[str] = None, label_mode: str = "fine") -> DataSplits:
    """CIFAR-100 with ``label_mode="fine"`` (100 classes) or ``"coarse"`` (20 super-classes).

    Args:
      path: an ``.npz`` with ``x_train, y_train, x_test, y_test`` (fine labels; coarse ones as
        ``y_train_coarse, y_test_coarse``), or a folder holding ``cifar100.npz``. None: as ``load_cifar10``.
      label_mode: "fine" or "coarse".
    """
    if label_mode not in LABEL_MODES:
        raise DataError(f"Cifar100 label_mode must be 'fine' or 'coarse', got {label_mode!r}")
    return _load("cifar100", path, LABEL_MODES[label_mode], "_coarse" if label_mode == "coarse" else "")


def _load(name: str, path: Optional[str], num_classes: int, label_suffix: str) -> DataSplits:
    files = (f"an .npz holding x_train, y_train{label_suffix}, x_test, y_test{label_suffix} "
             f"(see mldsl.data.cifar for a one-line conversion from Keras)")
    what = name.capitalize()
    if path is None:
        found = sources.local_candidates(name, keras_cache=False)
        if found:
            return _load(name, found[0], num_classes, label_suffix)
        looked = sources.places_looked(name, keras_cache=False)
        folder = sources.data_dir()
        place = (f"as {os.path.join(folder, name + '.npz')} (or {os.path.join(folder, name, name + '.npz')})"
                 if folder else f"as DIR{os.sep}{name}.npz and set {sources.DATA_DIR_ENV}=DIR")
        where = f"Save {files} {place}, or pass {what}(path=...)."
        refusal = sources.download_refusal()
        if refusal:
            raise sources.offline_error(name.upper(), looked, where, refusal)
        kwargs = {"label_mode": "coarse"} if label_suffix else {}
        (x_tr, y_tr), (x_te, y_te) = sources.keras_load(name, looked, where, **kwargs)
        return _splits(x_tr, y_tr, x_te, y_te, num_classes)
    how = f"Pass path= {files}."
    path = os.fspath(path)
    if is_folder(path, what, how):
        candidate = os.path.join(path, name + ".npz")
        if not os.path.isfile(candidate):
            raise DataError(f"{what}: no {name}.npz in folder {path}. {how}")
        path = candidate
    keys = ("x_train", "y_train" + label_suffix, "x_test", "y_test" + label_suffix)
    a = sources.load_npz_arrays(path, keys, what)
    return _splits(*(a[k] for k in keys), num_classes)


def _splits(x_tr, y_tr, x_te, y_te, num_classes: int) -> DataSplits:
    y_tr, y_te = as_labels(y_tr, "y_train"), as_labels(y_te, "y_test")
    top = max(int(y_tr.max(initial=0)), int(y_te.max(initial=0)))
    if top >= num_classes:
        raise DataError(f"labels go up to {top} but this dataset has {num_classes} classes")
    return DataSplits(as_features(x_tr, "x_train"), y_tr, as_features(x_te, "x_test"), y_te, num_classes)
