"""User data from an ``.npz`` file or a CSV file."""
from __future__ import annotations

import codecs
import csv
import math
import os
import re
from typing import BinaryIO, Iterator, List, Optional, Tuple

import numpy as np

from mldsl.data.paths import open_regular_file
from mldsl.data.sources import load_npz_arrays
from mldsl.data.splits import (MAX_CLASS_INDEX, DataSplits, as_features, as_labels, infer_num_classes,
                               split_train_test)
from mldsl.errors import DataError

NPZ_TEST_SPLIT = 0.2
#: A CSV line longer than this (in bytes) is refused: the file is almost surely not CSV text.
MAX_CSV_LINE_BYTES = 1 << 20
#: How a label that is a number is written (``nan``, ``inf`` and ``1_000`` are names, not numbers).
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def load_npz(path: str) -> DataSplits:
    """An ``.npz`` holding ``x_train, y_train, x_test, y_test`` (or just ``x, y``, split 80/20 with seed 0).

    uint8 features are scaled to [0, 1]; other numeric features are cast to float32 unchanged. Labels
    may be class indices, ``(N, 1)`` columns or one-hot rows. An optional scalar ``num_classes`` array
    overrides ``max(label) + 1``. The file is read without pickle.
    """
    path = os.fspath(path)
    how = "Pass path= an .npz made with numpy.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)."
    arrays = load_npz_arrays(path, (), "Npz", how)
    declared = _declared_classes(arrays, path)
    try:
        if all(k in arrays for k in ("x_train", "y_train", "x_test", "y_test")):
            y_tr, y_te = as_labels(arrays["y_train"], "y_train"), as_labels(arrays["y_test"], "y_test")
            splits = DataSplits(as_features(arrays["x_train"], "x_train"), y_tr,
                                as_features(arrays["x_test"], "x_test"), y_te,
                                infer_num_classes(y_tr, y_te, default=declared))
        elif "x" in arrays and "y" in arrays:
            splits = split_train_test(as_features(arrays["x"], "x"), as_labels(arrays["y"], "y"), NPZ_TEST_SPLIT,
                                      0)
            splits.num_classes = infer_num_classes(splits.y_train, splits.y_test, default=declared)
        else:
            raise DataError(f"must hold x_train, y_train, x_test, y_test (or x, y); it holds "
                            f"{', '.join(sorted(arrays)) or 'nothing'}")
    except DataError as exc:
        raise DataError(f"Npz: {path}: {exc}") from None
    return splits


def _declared_classes(arrays: dict, path: str) -> Optional[int]:
    if "num_classes" not in arrays:
        return None
    value = arrays["num_classes"]
    if value.shape != () or not np.issubdtype(value.dtype, np.integer) or not 1 <= int(value) <= MAX_CLASS_INDEX:
        raise DataError(f"Npz: {path}: num_classes must be one integer from 1 to {MAX_CLASS_INDEX:,}, got "
                        f"{value.dtype} of shape {value.shape}" + (f" = {value}" if value.size == 1 else ""))
    return int(value)


def load_csv(path: str, label_column: int = -1, test_split: float = 0.2, seed: int = 0) -> DataSplits:
    """A UTF-8 CSV of numeric feature columns and one label column, split with ``seed``.

    A first row that is not all numbers (the label column aside) is taken as a header. Labels follow one
    rule, checked before anything is numbered:

    - all numbers: they are class indices and must be whole and non-negative (``0 .. num_classes - 1``);
      they are never renumbered, so ``-1`` or ``2.5`` is an error naming its line;
    - all names (``cat``, ``dog``): classes are numbered in sorted order and the names kept, index by
      index, in :attr:`DataSplits.class_names`;
    - a mix of numbers and names is an error naming a line of each.

    Args:
      path: the CSV file (UTF-8; a byte-order mark is accepted).
      label_column: index of the label column (negative counts from the end).
      test_split: fraction held out as the test set, in [0, 1).
      seed: seed of the shuffle before the split.
    """
    path = os.fspath(path)
    with open_regular_file(path, "Csv", "Pass path= a CSV file with one row per example.") as fh:
        rows = _rows(fh, path)
    if rows and not all(_is_number(c) for i, c in enumerate(rows[0][1]) if i != label_column % len(rows[0][1])):
        rows = rows[1:]
    if len(rows) < 2:
        raise DataError(f"Csv: {path} has fewer than 2 data rows")
    width = len(rows[0][1])
    if not -width <= label_column < width or width < 2:
        raise DataError(f"Csv: label_column={label_column} is out of range for {width} columns in {path}")
    col = label_column % width
    features, labels = [], []
    for line, row in rows:
        if len(row) != width:
            raise DataError(f"Csv: {path}: line {line} has {len(row)} columns, expected {width}")
        features.append([_feature(c, path, line, i) for i, c in enumerate(row) if i != col])
        labels.append((line, row[col].strip()))
    x = np.asarray(features, dtype=np.float32)
    y, names = _encode_labels(labels, path, col)
    splits = split_train_test(x, y, test_split, seed)
    if names is not None:
        splits.num_classes, splits.class_names = len(names), names
    return splits


def _rows(fh: BinaryIO, path: str) -> List[Tuple[int, List[str]]]:
    """``(line number, cells)`` of every non-blank CSV row; DataError naming the line for bad text."""
    reader = csv.reader(_text_lines(fh, path))
    rows = []
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error as exc:
            raise DataError(f"Csv: {path}: line {reader.line_num}: {exc}") from None
        if row and any(c.strip() for c in row):
            rows.append((line, row))


def _text_lines(fh: BinaryIO, path: str) -> Iterator[str]:
    """The file's lines decoded as UTF-8, each at most MAX_CSV_LINE_BYTES long."""
    number = 0
    while True:
        raw = fh.readline(MAX_CSV_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_CSV_LINE_BYTES:
            raise DataError(f"Csv: {path}: line {number} is longer than {MAX_CSV_LINE_BYTES:,} bytes; is this "
                            f"a CSV text file?")
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            column = len(raw[:exc.start].decode("utf-8", "replace")) + 1
            raise DataError(f"Csv: {path}: line {number} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at "
                            f"column {column}); save the file as UTF-8") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _feature(text: str, path: str, line: int, column: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"Csv: {path}: line {line}, column {column + 1}: {text.strip()[:40]!r} is not a "
                        f"number") from None
    if not math.isfinite(value):
        raise DataError(f"Csv: {path}: line {line}, column {column + 1}: {text.strip()!r} is not a finite "
                        f"number")
    return value


def _encode_labels(labels: List[Tuple[int, str]], path: str,
                   col: int) -> Tuple[np.ndarray, Optional[Tuple[str, ...]]]:
    """Class indices for the labels, and the class names when the labels are names (see load_csv)."""
    where = f"Csv: {path}: line"
    for line, text in labels:
        if not text:
            raise DataError(f"{where} {line}: the label (column {col + 1}) is empty")
    numbers = [(line, text) for line, text in labels if _NUMBER.fullmatch(text)]
    if len(numbers) == len(labels):
        values = []
        for line, text in labels:
            value = float(text)
            if not value.is_integer() or value < 0 or value > MAX_CLASS_INDEX:
                raise DataError(
                    f"{where} {line}: label {text} is not a class index: numeric labels must be whole numbers "
                    f"0 .. {MAX_CLASS_INDEX:,}, used as they are (never renumbered). Fix the label, or "
                    f"write every label as a name (e.g. 'neg1'); names are numbered in sorted order")
            values.append(int(value))
        return np.asarray(values, dtype=np.int64), None
    if numbers:
        name = next((line, text) for line, text in labels if not _NUMBER.fullmatch(text))
        raise DataError(f"{where} {name[0]}: label {name[1]!r} is a name but line {numbers[0][0]}'s label "
                        f"{numbers[0][1]} is a number; labels must be all class indices (0, 1, 2, ...) or all "
                        f"names (numbered in sorted order), not a mix")
    classes = tuple(sorted({text for _, text in labels}))
    index = {name: i for i, name in enumerate(classes)}
    return np.asarray([index[text] for _, text in labels], dtype=np.int64), classes
