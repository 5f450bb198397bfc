"""User data from an ``.npz`` file or a CSV file."""
from __future__ import annotations

import csv
import os

import numpy as np

from mldsl.data.sources import load_npz_arrays
from mldsl.data.splits import DataSplits, as_features, as_labels, infer_num_classes, split_train_test
from mldsl.errors import DataError

NPZ_TEST_SPLIT = 0.2


def load_npz(path: str) -> DataSplits:
    """An ``.npz`` holding ``x_train, y_train, x_test, y_test`` (or just ``x, y``, split 80/20 with seed 0).

    uint8 features are scaled to [0, 1]; other numeric features are cast to float32 unchanged. Labels
    may be class indices, ``(N, 1)`` columns or one-hot rows. An optional scalar ``num_classes`` array
    overrides ``max(label) + 1``. The file is read without pickle.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise DataError(f"Npz: file not found: {path}. Pass path= an .npz made with "
                        f"numpy.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)")
    arrays = load_npz_arrays(path, ())
    declared = int(arrays["num_classes"]) if "num_classes" in arrays else None
    if all(k in arrays for k in ("x_train", "y_train", "x_test", "y_test")):
        y_tr, y_te = as_labels(arrays["y_train"], "y_train"), as_labels(arrays["y_test"], "y_test")
        splits = DataSplits(as_features(arrays["x_train"]), y_tr, as_features(arrays["x_test"]), y_te,
                            infer_num_classes(y_tr, y_te, default=declared))
    elif "x" in arrays and "y" in arrays:
        splits = split_train_test(as_features(arrays["x"]), as_labels(arrays["y"], "y"), NPZ_TEST_SPLIT, 0)
        splits.num_classes = infer_num_classes(splits.y_train, splits.y_test, default=declared)
    else:
        raise DataError(f"Npz: {path} must hold x_train, y_train, x_test, y_test (or x, y); it holds "
                        f"{', '.join(sorted(arrays)) or 'nothing'}")
    return splits


def load_csv(path: str, label_column: int = -1, test_split: float = 0.2, seed: int = 0) -> DataSplits:
    """A CSV of numeric feature columns and one label column, split with ``seed``.

    A first row that is not all numbers is taken as a header. Labels that are not whole numbers
    (e.g. ``"cat"``) are mapped to class indices in sorted order.

    Args:
      path: the CSV file.
      label_column: index of the label column (negative counts from the end).
      test_split: fraction held out as the test set, in [0, 1).
      seed: seed of the shuffle before the split.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"Csv: file not found: {path}. Pass path= a CSV file with one row per example.")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    if rows and not all(_is_number(c) for i, c in enumerate(rows[0]) if i != label_column % len(rows[0])):
        rows = rows[1:]
    if len(rows) < 2:
        raise DataError(f"Csv: {path} has fewer than 2 data rows")
    width = len(rows[0])
    if not -width <= label_column < width or width < 2:
        raise DataError(f"Csv: label_column={label_column} is out of range for {width} columns in {path}")
    col = label_column % width
    features, labels = [], []
    for line, row in enumerate(rows, start=1):
        if len(row) != width:
            raise DataError(f"Csv: {path}: data row {line} has {len(row)} columns, expected {width}")
        try:
            features.append([float(c) for i, c in enumerate(row) if i != col])
        except ValueError as exc:
            raise DataError(f"Csv: {path}: data row {line}: {exc}") from None
        labels.append(row[col].strip())
    x = np.asarray(features, dtype=np.float32)
    return split_train_test(x, _encode_labels(labels), test_split, seed)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _encode_labels(labels: list) -> np.ndarray:
    try:
        values = [float(v) for v in labels]
        if all(v.is_integer() and v >= 0 for v in values):
            return np.asarray(values, dtype=np.int64)
    except ValueError:
        pass
    classes = sorted(set(labels))
    index = {c: i for i, c in enumerate(classes)}
    return np.asarray([index[v] for v in labels], dtype=np.int64)
