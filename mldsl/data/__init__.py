"""Dataset loaders. Each returns a :class:`DataSplits` of NumPy arrays (float32 features, images scaled
to [0, 1]; int64 labels) or raises :class:`mldsl.errors.DataError` saying what is missing and what to do.

Loaders look for local files first (``$MLDSL_DATA_DIR``, Keras' cache) and download with Keras only when
``$MLDSL_DATA_DOWNLOAD`` allows it (by default only while the keras backend runs); see
:mod:`mldsl.data.sources`. A path that is not a regular file (a directory where a file is expected, a
FIFO, a device, a symbolic-link loop) is refused by :mod:`mldsl.data.paths` without reading it.

Also what training and evaluation do with the data on every backend: the order of the examples in each
epoch (:mod:`mldsl.data.order`) and the per-class evaluation (:mod:`mldsl.data.per_class`).

The names are imported on first use, so that importing a submodule without NumPy (the names of the
training orders, which the Experiment's schema reads) stays cheap.
"""
from mldsl._lazy import lazy_exports

_EXPORTS = {
    "DataSplits": "mldsl.data.splits",
    "split_train_test": "mldsl.data.splits",
    "load_digits": "mldsl.data.digits",
    "load_mnist": "mldsl.data.mnist",
    "load_cifar10": "mldsl.data.cifar",
    "load_cifar100": "mldsl.data.cifar",
    "load_synthetic": "mldsl.data.synthetic",
    "load_npz": "mldsl.data.files",
    "load_csv": "mldsl.data.files",
    "read_idx": "mldsl.data.idx",
    "write_idx": "mldsl.data.idx",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
