"""``DataSplits`` (what every loader returns) and the seeded train/test split loaders share."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from mldsl.errors import DataError

#: The largest class index a label may be (a larger one is almost surely not a class index).
MAX_CLASS_INDEX = 1_000_000


@dataclass
class DataSplits:
    """A dataset split into train and test parts.

    Features are float32 NumPy arrays (images scaled to [0, 1], shaped like Keras' loaders give them:
    ``(N, 28, 28)`` for MNIST, ``(N, 32, 32, 3)`` for CIFAR), labels are int64 class indices of shape ``(N,)``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    #: the name of each class index, when the file named its classes (a Csv with text labels), else None
    class_names: Optional[Tuple[str, ...]] = None

    def __post_init__(self) -> None:
        for part in ("train", "test"):
            x, y = getattr(self, "x_" + part), getattr(self, "y_" + part)
            if len(x) != len(y):
                raise DataError(f"x_{part} has {len(x)} rows but y_{part} has {len(y)} labels")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DataError(f"train features have shape {self.x_train.shape[1:]} per example "
                            f"but test features have {self.x_test.shape[1:]}")
        self.num_classes = int(self.num_classes)

    @property
    def input_shape(self) -> Tuple[int, ...]:
        """Shape of one example (without the batch axis)."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    def __repr__(self) -> str:
        names = "" if self.class_names is None else f", class_names={list(self.class_names)}"
        return (f"DataSplits(train={len(self.x_train)}, test={len(self.x_test)}, "
                f"input_shape={self.input_shape}, num_classes={self.num_classes}{names})")


def split_train_test(x: np.ndarray, y: np.ndarray, test_split: float, seed: int) -> DataSplits:
    """Shuffles ``(x, y)`` with ``seed`` and holds out a ``test_split`` fraction as the test set.

    The test part has at least one example when ``test_split > 0`` and there are two or more examples.
    """
    if not 0.0 <= float(test_split) < 1.0:
        raise DataError(f"test_split must be in [0, 1), got {test_split}")
    n = len(x)
    if n != len(y):
        raise DataError(f"x has {n} rows but y has {len(y)} labels")
    if n < 2:
        raise DataError(f"need at least 2 examples to split into train and test, got {n}")
    n_test = int(round(n * float(test_split)))
    if test_split > 0:
        n_test = min(max(n_test, 1), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    test_idx, train_idx = order[:n_test], order[n_test:]
    return DataSplits(x[train_idx], y[train_idx], x[test_idx], y[test_idx], infer_num_classes(y))


def as_labels(y: np.ndarray, what: str = "labels") -> np.ndarray:
    """Labels as an int64 vector: ``(N, 1)`` is flattened, one-hot ``(N, C)`` becomes class indices."""
    y = np.asarray(y)
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating) or y.dtype == np.bool_):
        raise DataError(f"{what} must be numeric class indices, got dtype {y.dtype}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2:
        y = np.argmax(y, axis=1)
    if y.ndim != 1:
        raise DataError(f"{what} must be a vector of class indices, got shape {y.shape}")
    if y.size and (np.issubdtype(y.dtype, np.floating) and not np.all(np.equal(np.mod(y, 1), 0))):
        raise DataError(f"{what} must be whole class indices, got non-integer values")
    if y.size and y.min() < 0:
        raise DataError(f"{what} must be non-negative class indices, got {y.min()}")
    if y.size and y.max() > MAX_CLASS_INDEX:
        raise DataError(f"{what} must be class indices 0 .. {MAX_CLASS_INDEX:,}, got {y.max()}")
    return y.astype(np.int64)


def as_features(x: np.ndarray, what: str = "features") -> np.ndarray:
    """Features as float32; 8-bit images (uint8) are scaled from [0, 255] to [0, 1]."""
    x = np.asarray(x)
    if x.ndim < 2:
        raise DataError(f"{what} must have one row per example, shape (N, features...); got shape {x.shape}"
                        + (" (for one feature per example, use x[:, None])" if x.ndim == 1 else ""))
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255.0)
    if not np.issubdtype(x.dtype, np.number) and x.dtype != np.bool_:
        raise DataError(f"{what} must be numeric, got dtype {x.dtype}")
    return x.astype(np.float32)


def infer_num_classes(*label_arrays: np.ndarray, default: Optional[int] = None) -> int:
    """``max label + 1`` over all the arrays (or ``default`` when given and larger)."""
    top = max((int(y.max()) for y in label_arrays if len(y)), default=-1) + 1
    return max(top, default or 0)
