"""Transforms of a whole :class:`DataSplits`, for the dataset wrappers (``Subset``, ``Centered``,
``Standardized``, ``RandomLabels``): each returns new splits and leaves its input unchanged.

Statistics (the mean example, the per-feature standard deviation) come from the training split only and
are applied to both splits, so the test split never informs what the model sees while training.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

import numpy as np

from mldsl.data.splits import DataSplits
from mldsl.errors import DataError


def subset_size(n_train: int, fraction: Optional[float] = None, size: Optional[int] = None) -> int:
    """How many training examples a subset keeps: ``size``, or ``fraction`` of ``n_train`` rounded (at least
    one). A ``size`` above ``n_train`` is a DataError naming both."""
    if (fraction is None) == (size is None):
        raise DataError("a subset needs exactly one of fraction and size")
    if size is not None:
        if size > n_train:
            raise DataError(f"a subset of size {size} cannot be drawn from a training split of {n_train} "
                            f"examples; give a size of at most {n_train} (or a fraction)")
        return int(size)
    return max(1, int(round(n_train * float(fraction))))


def subset(splits: DataSplits, fraction: Optional[float] = None, size: Optional[int] = None,
           seed: int = 0) -> DataSplits:
    """A seeded random subset of the training split (in the training split's order); the test split and
    the class count are kept."""
    n = len(splits.x_train)
    keep = np.sort(np.random.default_rng(seed).permutation(n)[:subset_size(n, fraction, size)])
    return replace(splits, x_train=splits.x_train[keep], y_train=splits.y_train[keep])


def centered(splits: DataSplits) -> DataSplits:
    """Both splits minus the training split's mean example."""
    mean = splits.x_train.mean(axis=0, dtype=np.float64)
    return _shifted(splits, mean, None)


def standardized(splits: DataSplits) -> DataSplits:
    """Both splits centred and divided by the training split's per-feature standard deviation; a feature
    constant over the training split (standard deviation 0) is only centred."""
    x = splits.x_train.astype(np.float64)
    mean, std = x.mean(axis=0), x.std(axis=0)
    return _shifted(splits, mean, np.where(std > 0, std, 1.0))


def _shifted(splits: DataSplits, mean: np.ndarray, scale: Optional[np.ndarray]) -> DataSplits:
    def apply(x: np.ndarray) -> np.ndarray:
        out = x.astype(np.float64) - mean
        if scale is not None:
            out /= scale
        return out.astype(np.float32)

    return replace(splits, x_train=apply(splits.x_train), x_test=apply(splits.x_test))


def random_labels(splits: DataSplits, seed: int = 0) -> DataSplits:
    """The training labels replaced by seeded uniformly random classes ``0 .. num_classes - 1``; the
    test labels are kept."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, splits.num_classes, size=len(splits.y_train), dtype=np.int64)
    return replace(splits, y_train=labels)
