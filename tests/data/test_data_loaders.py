"""mldsl.data loaders on small files the tests write themselves (never /work/shared/data)."""
import sys
import types

import numpy as np
import pytest

from mldsl import data
from mldsl.data import sources
from mldsl.errors import DataError


@pytest.fixture(autouse=True)
def no_local_data(tmp_path, monkeypatch):
    """No user data dir and an empty Keras cache, whatever the machine has."""
    monkeypatch.delenv(sources.DATA_DIR_ENV, raising=False)
    monkeypatch.delenv("MLDSL_DATA_DOWNLOAD", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


def _images(n, seed=0, shape=(28, 28)):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n,) + shape, dtype=np.uint8), rng.integers(0, 10, size=n).astype(np.uint8)


def _write_pair(folder, prefix, x, y, gz, sep="-"):
    ext = ".gz" if gz else ""
    data.write_idx(folder / f"{prefix}-images{sep}idx3-ubyte{ext}", x)
    data.write_idx(folder / f"{prefix}-labels{sep}idx1-ubyte{ext}", y)


# ---------------------------------------------------------------- IDX

@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, dtype, gz):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype) if dtype != np.uint8 else np.arange(24, dtype=dtype)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    data.write_idx(path, arr)
    assert (open(path, "rb").read(2) == b"\x1f\x8b") == gz
    back = data.read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)


def test_idx_header_is_the_mnist_layout(tmp_path):
    # the exact bytes MNIST's label files start with: 0x00000801, then N big-endian
    path = tmp_path / "labels"
    data.write_idx(path, np.array([7, 2, 1], np.uint8))
    assert open(path, "rb").read() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])


def test_idx_bad_files_are_data_errors(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"not an idx file")
    with pytest.raises(DataError, match="not an IDX file"):
        data.read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 9, 1, 2]))
    with pytest.raises(DataError, match="9 bytes of data.*holds 2 bytes"):
        data.read_idx(short)
    with pytest.raises(DataError, match=r"IDX: file not found: .*absent"):
        data.read_idx(tmp_path / "absent")


# ---------------------------------------------------------------- MNIST

@pytest.mark.parametrize("gz", [False, True])
def test_mnist_test_files_only_are_split_last_2000(tmp_path, gz):
    x, y = _images(2500)
    _write_pair(tmp_path, "t10k", x, y, gz)
    s = data.load_mnist(str(tmp_path))
    assert (len(s.x_train), len(s.x_test)) == (500, 2000)
    assert s.x_train.dtype == np.float32 and s.y_train.dtype == np.int64
    assert s.x_train.shape[1:] == (28, 28) and s.num_classes == 10
    assert 0.0 <= s.x_train.min() and s.x_train.max() <= 1.0
    np.testing.assert_allclose(s.x_test, x[-2000:] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(s.y_train, y[:500])


def test_mnist_test_size_for_test_files_only(tmp_path):
    x, y = _images(30)
    _write_pair(tmp_path, "t10k", x, y, gz=True, sep=".")  # the dotted names some mirrors use
    s = data.load_mnist(tmp_path, test_size=10)
    assert (len(s.x_train), len(s.x_test)) == (20, 10)
    np.testing.assert_array_equal(s.y_test, y[-10:])
    with pytest.raises(DataError, match="test_size=30 leaves no training examples"):
        data.load_mnist(tmp_path, test_size=30)


def test_mnist_full_idx_folder_keeps_official_split(tmp_path):
    (xa, ya), (xb, yb) = _images(12, 1), _images(5, 2)
    _write_pair(tmp_path, "train", xa, ya, gz=False)
    _write_pair(tmp_path, "t10k", xb, yb, gz=True)
    s = data.load_mnist(tmp_path)
    assert (len(s.x_train), len(s.x_test)) == (12, 5)
    np.testing.assert_array_equal(s.y_test, yb)
    assert len(data.load_mnist(tmp_path, test_size=3).x_test) == 3


def test_mnist_npz_file_and_folder(tmp_path):
    (xa, ya), (xb, yb) = _images(8, 1), _images(4, 2)
    np.savez(tmp_path / "mnist.npz", x_train=xa, y_train=ya, x_test=xb, y_test=yb)
    for p in (tmp_path / "mnist.npz", tmp_path):
        s = data.load_mnist(str(p))
        assert (len(s.x_train), len(s.x_test)) == (8, 4)
        np.testing.assert_allclose(s.x_train * 255.0, xa, atol=1e-4)


def test_mnist_found_in_data_dir_and_keras_cache(tmp_path, monkeypatch):
    x, y = _images(2010)
    folder = tmp_path / "d" / "mnist"
    folder.mkdir(parents=True)
    _write_pair(folder, "t10k", x, y, gz=True)
    monkeypatch.setenv(sources.DATA_DIR_ENV, str(tmp_path / "d"))
    assert len(data.load_mnist().x_train) == 10
    monkeypatch.delenv(sources.DATA_DIR_ENV)
    cache = tmp_path / "keras_home" / "datasets"
    cache.mkdir(parents=True)
    np.savez(cache / "mnist.npz", x_train=x[:7], y_train=y[:7], x_test=x[:3], y_test=y[:3])
    assert len(data.load_mnist().x_train) == 7


def test_mnist_missing_path_names_it_and_says_what_to_do(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(DataError) as err:
        data.load_mnist(str(missing))
    assert str(missing) in str(err.value) and "mnist.npz" in str(err.value) and "t10k" in str(err.value)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    with pytest.raises(DataError, match="no mnist.npz and no IDX files.*readme.txt"):
        data.load_mnist(tmp_path / "empty")


def test_mnist_images_without_labels(tmp_path):
    x, _ = _images(3)
    data.write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", x)
    with pytest.raises(DataError, match="not the matching labels"):
        data.load_mnist(tmp_path)


def test_mnist_offline_without_tensorflow_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(sources, "keras_available", lambda: False)
    with pytest.raises(DataError) as err:
        data.load_mnist()
    msg = str(err.value)
    assert "TensorFlow is not installed" in msg and "path=" in msg and sources.DATA_DIR_ENV in msg


def test_mnist_keras_download_failure_is_a_data_error(monkeypatch):
    def load_data():
        raise OSError("URL fetch failure: Name or service not known")
    datasets = types.SimpleNamespace(mnist=types.SimpleNamespace(load_data=load_data))
    monkeypatch.setitem(sys.modules, "tensorflow", types.SimpleNamespace(keras=types.SimpleNamespace(datasets=datasets)))
    monkeypatch.setattr(sources, "keras_available", lambda: True)
    with pytest.raises(DataError, match=r"no local copy of MNIST was found.*MLDSL_DATA_DIR.*Mnist\(path=\.\.\.\)\. "
                                        r"Keras could not download it \(OSError: URL fetch failure"):
        data.load_mnist()


def test_mnist_uses_keras_when_available_and_nothing_local(monkeypatch):
    (xa, ya), (xb, yb) = _images(6, 1), _images(4, 2)
    datasets = types.SimpleNamespace(mnist=types.SimpleNamespace(load_data=lambda: ((xa, ya), (xb, yb))))
    monkeypatch.setitem(sys.modules, "tensorflow", types.SimpleNamespace(keras=types.SimpleNamespace(datasets=datasets)))
    monkeypatch.setattr(sources, "keras_available", lambda: True)
    s = data.load_mnist()
    assert (len(s.x_train), len(s.x_test)) == (6, 4) and s.x_train.dtype == np.float32


# ---------------------------------------------------------------- CIFAR

def test_cifar10_npz(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    np.savez(tmp_path / "cifar10.npz", x_train=x[:4], y_train=np.array([[1], [2], [3], [9]], np.uint8),
             x_test=x[4:], y_test=np.array([[0], [5]], np.uint8))
    for p in (tmp_path / "cifar10.npz", tmp_path):
        s = data.load_cifar10(str(p))
        assert s.x_train.shape == (4, 32, 32, 3) and s.x_train.dtype == np.float32 and s.x_train.max() <= 1.0
        np.testing.assert_array_equal(s.y_train, [1, 2, 3, 9])
        assert s.y_test.dtype == np.int64 and s.num_classes == 10


def test_cifar100_label_modes(tmp_path):
    x = np.zeros((3, 32, 32, 3), np.uint8)
    path = tmp_path / "c100.npz"
    np.savez(path, x_train=x[:2], y_train=np.array([99, 5]), x_test=x[2:], y_test=np.array([42]))
    assert data.load_cifar100(path).num_classes == 100
    with pytest.raises(DataError, match="lacks the array.*y_train_coarse"):
        data.load_cifar100(path, label_mode="coarse")
    np.savez(path, x_train=x[:2], y_train=np.array([99, 5]), x_test=x[2:], y_test=np.array([42]),
             y_train_coarse=np.array([19, 1]), y_test_coarse=np.array([3]))
    s = data.load_cifar100(path, label_mode="coarse")
    assert s.num_classes == 20 and list(s.y_train) == [19, 1]
    with pytest.raises(DataError, match="'fine' or 'coarse'"):
        data.load_cifar100(path, label_mode="medium")


def test_cifar_refuses_pickled_npz_and_bad_labels(tmp_path):
    path = tmp_path / "evil.npz"
    obj = np.array([{"a": 1}], dtype=object)
    np.savez(path, x_train=obj, y_train=obj, x_test=obj, y_test=obj)
    with pytest.raises(DataError, match="without pickle"):
        data.load_cifar10(path)
    x = np.zeros((2, 32, 32, 3), np.uint8)
    np.savez(path, x_train=x, y_train=np.array([10, 1]), x_test=x, y_test=np.array([0, 1]))
    with pytest.raises(DataError, match="labels go up to 10 but this dataset has 10 classes"):
        data.load_cifar10(path)


def test_cifar_missing_and_offline(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="no cifar10.npz in folder"):
        data.load_cifar10(tmp_path)
    with pytest.raises(DataError, match=r"Cifar10: file not found: .*x\.npz"):
        data.load_cifar10(tmp_path / "x.npz")
    monkeypatch.setattr(sources, "keras_available", lambda: False)
    with pytest.raises(DataError, match=r"CIFAR100.*Cifar100\(path=\.\.\.\)\. Keras could download it, but TensorFlow is not installed"):
        data.load_cifar100()


# ---------------------------------------------------------------- Digits, Synthetic

def test_digits_scaled_and_seeded():
    a, b, c = data.load_digits(), data.load_digits(), data.load_digits(seed=1)
    assert a.x_train.shape[1:] == (8, 8) and a.num_classes == 10
    assert a.x_train.dtype == np.float32 and a.x_train.min() == 0.0 and a.x_train.max() == 1.0
    assert len(a.x_test) == round(1797 * 0.2) and len(a.x_train) + len(a.x_test) == 1797
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_test, c.y_test)
    assert len(data.load_digits(test_split=0.5).x_test) == round(1797 * 0.5)


def test_synthetic_seeded_shaped_and_learnable():
    s = data.load_synthetic(num_samples=300, input_shape=[4, 4, 1], num_classes=3, seed=5)
    assert s.x_train.shape == (240, 4, 4, 1) and s.x_test.shape == (60, 4, 4, 1)
    assert s.x_train.dtype == np.float32 and s.y_train.dtype == np.int64 and s.num_classes == 3
    t = data.load_synthetic(num_samples=300, input_shape=[4, 4, 1], num_classes=3, seed=5)
    np.testing.assert_array_equal(s.x_train, t.x_train)
    assert not np.array_equal(s.x_train, data.load_synthetic(300, [4, 4, 1], 3, seed=6).x_train)
    # learnable: nearest class mean (fit on train) is far above chance on test
    xtr, xte = s.x_train.reshape(240, -1), s.x_test.reshape(60, -1)
    means = np.stack([xtr[s.y_train == k].mean(0) for k in range(3)])
    pred = np.argmin(((xte[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    assert (pred == s.y_test).mean() > 0.9
    with pytest.raises(DataError):
        data.load_synthetic(num_classes=1)


# ---------------------------------------------------------------- Npz, Csv

def test_npz_with_splits_or_xy(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, x_train=np.ones((4, 3)), y_train=np.eye(3)[[0, 1, 2, 1]], x_test=np.ones((2, 3)),
             y_test=np.array([[2], [0]]))
    s = data.load_npz(str(p))
    np.testing.assert_array_equal(s.y_train, [0, 1, 2, 1])
    np.testing.assert_array_equal(s.y_test, [2, 0])
    assert s.num_classes == 3 and s.x_train.dtype == np.float32
    np.savez(p, x=np.arange(20.0).reshape(10, 2), y=np.arange(10) % 2, num_classes=np.array(5))
    s = data.load_npz(p)
    assert (len(s.x_train), len(s.x_test), s.num_classes) == (8, 2, 5)
    np.savez(p, features=np.ones(3))
    with pytest.raises(DataError, match="must hold x_train.*it holds features"):
        data.load_npz(p)
    with pytest.raises(DataError, match=r"file not found: .*nope\.npz"):
        data.load_npz(tmp_path / "nope.npz")


def test_csv_header_string_labels_and_label_column(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b,label\n" + "".join(f"{i},{i * 2},{'cat' if i % 2 else 'dog'}\n" for i in range(10)))
    s = data.load_csv(str(p), test_split=0.3, seed=1)
    assert (len(s.x_train), len(s.x_test)) == (7, 3) and s.num_classes == 2
    assert s.x_train.shape[1] == 2 and s.y_train.dtype == np.int64
    # cat -> 0, dog -> 1 (sorted); row i has features (i, 2i)
    for x, y in zip(s.x_train, s.y_train):
        assert y == (0 if int(x[0]) % 2 else 1) and x[1] == 2 * x[0]
    q = tmp_path / "e.csv"
    q.write_text("".join(f"{i % 3},{i}.5\n" for i in range(6)))
    s = data.load_csv(q, label_column=0, test_split=0.5)
    assert s.num_classes == 3 and s.x_train.shape == (3, 1)


def test_csv_errors(tmp_path):
    with pytest.raises(DataError, match=r"file not found: .*x\.csv"):
        data.load_csv(tmp_path / "x.csv")
    p = tmp_path / "bad.csv"
    p.write_text("1,2,0\n3,oops,1\n4,5,1\n")
    with pytest.raises(DataError, match="line 2, column 2: 'oops' is not a number"):
        data.load_csv(p)
    p.write_text("1,2,0\n3,4\n")
    with pytest.raises(DataError, match="line 2 has 2 columns, expected 3"):
        data.load_csv(p)
    p.write_text("1,2,0\n3,4,1\n")
    with pytest.raises(DataError, match="label_column=5 is out of range"):
        data.load_csv(p, label_column=5)


def test_split_train_test_rejects_bad_fraction():
    with pytest.raises(DataError, match=r"test_split must be in \[0, 1\)"):
        data.split_train_test(np.zeros((4, 1)), np.zeros(4, np.int64), 1.0, 0)
