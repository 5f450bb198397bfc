"""Dataset loaders. Each returns a :class:`DataSplits` of NumPy arrays (float32 features, images scaled
to [0, 1]; int64 labels) or raises :class:`mldsl.errors.DataError` saying what is missing and what to do.

Loaders look for local files first (``$MLDSL_DATA_DIR``, Keras' cache) and download with Keras only when
``$MLDSL_DATA_DOWNLOAD`` allows it (by default only while the keras backend runs); see
:mod:`mldsl.data.sources`. A path that is not a regular file (a directory where a file is expected, a
FIFO, a device, a symbolic-link loop) is refused by :mod:`mldsl.data.paths` without reading it.
"""
from mldsl.data.cifar import load_cifar10, load_cifar100
from mldsl.data.digits import load_digits
from mldsl.data.files import load_csv, load_npz
from mldsl.data.idx import read_idx, write_idx
from mldsl.data.mnist import load_mnist
from mldsl.data.splits import DataSplits, split_train_test
from mldsl.data.synthetic import load_synthetic

__all__ = ["DataSplits", "split_train_test", "load_digits", "load_mnist", "load_cifar10", "load_cifar100",
           "load_synthetic", "load_npz", "load_csv", "read_idx", "write_idx"]
