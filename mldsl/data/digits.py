"""scikit-learn's 8x8 handwritten digits (1,797 images, bundled with scikit-learn: no download)."""
from __future__ import annotations

import numpy as np

from mldsl.data.splits import DataSplits, split_train_test


def load_digits(test_split: float = 0.2, seed: int = 0) -> DataSplits:
    """Digits as float32 images ``(N, 8, 8)`` scaled to [0, 1], int64 labels 0..9, split with ``seed``.

    Args:
      test_split: fraction of the examples held out as the test set, in [0, 1).
      seed: seed of the shuffle before the split.
    """
    from sklearn.datasets import load_digits as _sk_load_digits  # noqa: PLC0415 - sklearn is slow to import

    bunch = _sk_load_digits()
    x = (bunch.images / 16.0).astype(np.float32)
    splits = split_train_test(x, bunch.target.astype(np.int64), test_split, seed)
    splits.num_classes = 10
    return splits
