"""Dataset components; ``load()`` delegates to :mod:`mldsl.data`."""
from typing import TYPE_CHECKING

from mldsl import components as c
from mldsl import hookimpl
from mldsl import symbolic as sym

if TYPE_CHECKING:
    import mldsl.data


def _data():
    """``mldsl.data``, imported on first load: it brings NumPy, which `mldsl check` does not need."""
    from mldsl import data

    return data


t = sym.typing


def _test_split():
    return ("test_split", c.FloatRange(0.2, min_value=0.0, max_value=1.0, max_inclusive=False),
            "Fraction held out as the test set, in [0, 1).")


_SEED = ("seed", t.Int(0), "Seed of the shuffle before the split.")


@sym.members([_test_split(), _SEED])
class Digits(c.Dataset):
    """scikit-learn's 1,797 8x8 handwritten digits (bundled: no download), scaled to [0, 1]."""

    type_name = "Digits"

    def load(self) -> "mldsl.data.DataSplits":
        return _data().load_digits(self.test_split, self.seed)


@sym.members([
    ("path", t.Str().noneable(), "Keras' mnist.npz, or a folder with it or with the IDX files (gzipped or "
                                 "not; the t10k test files alone are enough). None: $MLDSL_DATA_DIR/mnist/, "
                                 "$MLDSL_DATA_DIR/mnist.npz, the IDX files in $MLDSL_DATA_DIR, Keras' cache, "
                                 "then Keras' download as $MLDSL_DATA_DOWNLOAD allows (auto: only under the "
                                 "keras backend)."),
    ("test_size", t.Int(min_value=1).noneable(),
     "Number of test examples (with only the t10k files: the last 2,000 by default)."),
])
class Mnist(c.Dataset):
    """MNIST handwritten digits, 28x28 grayscale images scaled to [0, 1]."""

    type_name = "Mnist"

    def load(self) -> "mldsl.data.DataSplits":
        return _data().load_mnist(self.path, self.test_size)


_CIFAR_PATH = ("path", t.Str().noneable(),
               "An .npz with x_train, y_train, x_test, y_test, or a folder holding cifar10.npz / cifar100.npz "
               "(pickled batches are not read). None: $MLDSL_DATA_DIR/NAME.npz or $MLDSL_DATA_DIR/NAME/, then "
               "Keras' download as $MLDSL_DATA_DOWNLOAD allows (auto: only under the keras backend).")


@sym.members([_CIFAR_PATH])
class Cifar10(c.Dataset):
    """CIFAR-10: 32x32 colour images in 10 classes, scaled to [0, 1]."""

    type_name = "Cifar10"

    def load(self) -> "mldsl.data.DataSplits":
        return _data().load_cifar10(self.path)


@sym.members([
    _CIFAR_PATH,
    ("label_mode", t.Enum("fine", ["fine", "coarse"]), "\"fine\" (100 classes) or \"coarse\" (20)."),
])
class Cifar100(c.Dataset):
    """CIFAR-100: 32x32 colour images in 100 fine (or 20 coarse) classes, scaled to [0, 1]."""

    type_name = "Cifar100"

    def load(self) -> "mldsl.data.DataSplits":
        return _data().load_cifar100(self.path, self.label_mode)


@sym.members([
    ("num_samples", t.Int(1000, min_value=2), "Number of examples (20% are the test set)."),
    ("input_shape", t.List(t.Int(min_value=1), default=[20], min_size=1), "Shape of one example."),
    ("num_classes", t.Int(10, min_value=2), "Number of classes."),
    ("seed", t.Int(0), "Seed: the same arguments always give the same data."),
])
class Synthetic(c.Dataset):
    """A seeded, learnable classification problem: one Gaussian cluster per class."""

    type_name = "Synthetic"

    def load(self) -> "mldsl.data.DataSplits":
        return _data().load_synthetic(self.num_samples, list(self.input_shape), self.num_classes, self.seed)


@sym.members([("path", t.Str(), "The .npz file (x_train, y_train, x_test, y_test; or x, y).")])
class Npz(c.Dataset):
    """Arrays from an .npz file (read without pickle)."""

    type_name = "Npz"

    def load(self) -> "mldsl.data.DataSplits":
        return _data().load_npz(self.path)


@sym.members([
    ("path", t.Str(), "The CSV file (UTF-8): numeric feature columns and one label column. Labels are all "
                      "class indices 0, 1, 2, ... (used as written) or all names (numbered in sorted order)."),
    ("label_column", t.Int(-1), "Index of the label column (negative: from the end)."),
    _test_split(),
    _SEED,
])
class Csv(c.Dataset):
    """Examples from a CSV file (a header row is detected and skipped)."""

    type_name = "Csv"

    def load(self) -> "mldsl.data.DataSplits":
        return _data().load_csv(self.path, self.label_column, self.test_split, self.seed)


_WRAPPED = ("dataset", t.Object(c.Dataset), "The dataset to transform, e.g. Digits() (any dataset, a wrapper too).")


def _transforms():
    """``mldsl.data.transforms``, imported on first load (it brings NumPy)."""
    from mldsl.data import transforms

    return transforms


@sym.members([
    _WRAPPED,
    ("fraction", c.FloatRange(min_value=0.0, max_value=1.0, min_inclusive=False).noneable(),
     "Fraction of the training split to keep, in (0, 1] (give this or size)."),
    ("size", t.Int(min_value=1).noneable(), "Number of training examples to keep, >= 1 (give this or fraction)."),
    ("seed", t.Int(0), "Seed of the draw."),
])
class Subset(c.Dataset):
    """A seeded random subset of another dataset's training split (the test split is kept whole), as
    DeepMind's practical trains only on a fraction: ``Subset(Digits(), fraction=0.1)``."""

    type_name = "Subset"

    def _on_bound(self) -> None:
        super()._on_bound()
        fraction, size = self.fraction, self.size
        if fraction is None and size is None and not self._sym_partial:
            raise c.field_error("Subset needs fraction (in (0, 1]) or size (>= 1); give one of them.", self.sym_path)
        if fraction is not None and size is not None:
            raise c.field_error("Subset takes fraction or size, not both; remove one of them (a patch that switches "
                                "from one to the other replaces the whole Subset).",
                                self.sym_path + "size")

    def load(self) -> "mldsl.data.DataSplits":
        return _transforms().subset(self.dataset.load(), self.fraction, self.size, self.seed)


@sym.members([_WRAPPED])
class Centered(c.Dataset):
    """Another dataset with the training split's mean example subtracted from both splits."""

    type_name = "Centered"

    def load(self) -> "mldsl.data.DataSplits":
        return _transforms().centered(self.dataset.load())


@sym.members([_WRAPPED])
class Standardized(c.Dataset):
    """Another dataset with each feature centred and scaled by the training split's mean and standard
    deviation (a feature constant in training is only centred)."""

    type_name = "Standardized"

    def load(self) -> "mldsl.data.DataSplits":
        return _transforms().standardized(self.dataset.load())


@sym.members([_WRAPPED, ("seed", t.Int(0), "Seed of the random labels.")])
class RandomLabels(c.Dataset):
    """Another dataset whose training labels are replaced by seeded uniformly random classes (the test
    labels are kept): can the network learn noise?"""

    type_name = "RandomLabels"

    def load(self) -> "mldsl.data.DataSplits":
        return _transforms().random_labels(self.dataset.load(), self.seed)


@hookimpl
def mldsl_datasets():
    return [Digits, Mnist, Cifar10, Cifar100, Synthetic, Npz, Csv, Subset, Centered, Standardized, RandomLabels]
