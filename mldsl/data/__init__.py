"""Dataset loaders. Each returns a :class:`DataSplits` of NumPy arrays (float32 features, images scaled
to [0, 1]; int64 labels) or raises :class:`mldsl.errors.DataError` saying what is missing and what to do.

Loaders never need the network unless TensorFlow is installed and no local copy is found; see
:mod:`mldsl.data.sources` for where they look (``$MLDSL_DATA_DIR``, Keras' cache).
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
