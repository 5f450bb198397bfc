"""Where loaders look without a path ($MLDSL_DATA_DIR layouts) and when Keras may download
($MLDSL_DATA_DOWNLOAD): a failed lookup under the native backend never imports TensorFlow."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from mldsl import data
from mldsl.data import sources
from mldsl.errors import DataError


@pytest.fixture(autouse=True)
def no_local_data(tmp_path, monkeypatch):
    monkeypatch.delenv("MLDSL_DATA_DIR", raising=False)
    monkeypatch.delenv("MLDSL_DATA_DOWNLOAD", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


@pytest.fixture
def tensorflow_not_imported(monkeypatch):
    """As under the native backend: TensorFlow installed (as far as the loaders can tell) but not imported."""
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    monkeypatch.setattr(sources, "keras_available", lambda: True)


def _t10k(folder, n, seed=0):
    rng = np.random.default_rng(seed)
    data.write_idx(folder / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
    data.write_idx(folder / "t10k-labels-idx1-ubyte.gz", rng.integers(0, 10, n).astype(np.uint8))


def test_mnist_idx_files_directly_in_the_data_dir(tmp_path, monkeypatch):
    _t10k(tmp_path, 2010)  # as the README says: the IDX files in $MLDSL_DATA_DIR
    monkeypatch.setenv("MLDSL_DATA_DIR", str(tmp_path))
    assert len(data.load_mnist().x_train) == 10


def test_mnist_data_dir_search_order(tmp_path, monkeypatch):
    monkeypatch.setenv("MLDSL_DATA_DIR", str(tmp_path))
    _t10k(tmp_path, 2010)
    x = np.zeros((9, 28, 28), np.uint8)
    np.savez(tmp_path / "mnist.npz", x_train=x[:7], y_train=np.zeros(7), x_test=x[7:], y_test=np.zeros(2))
    assert len(data.load_mnist().x_train) == 7  # $MLDSL_DATA_DIR/mnist.npz before IDX files beside it
    (tmp_path / "mnist").mkdir()
    _t10k(tmp_path / "mnist", 2003)
    assert len(data.load_mnist().x_train) == 3  # $MLDSL_DATA_DIR/mnist/ first


def test_offline_error_says_where_to_put_the_files(tmp_path, monkeypatch, tensorflow_not_imported):
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("MLDSL_DATA_DIR", str(folder))
    with pytest.raises(DataError) as err:
        data.load_mnist()
    cache = tmp_path / "keras_home" / "datasets" / "mnist.npz"
    assert str(err.value) == (
        f"no local copy of MNIST was found (none in $MLDSL_DATA_DIR={folder}, and Keras' cache has no {cache}). "
        "Put Keras' mnist.npz, or the IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte, "
        "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (.gz or not; the t10k pair alone is enough) in "
        f"{folder}/mnist/ (or directly in {folder}), or pass Mnist(path=...). To let Keras download it instead, "
        "set MLDSL_DATA_DOWNLOAD=1 (this imports TensorFlow); with the default (MLDSL_DATA_DOWNLOAD=auto) "
        "Keras downloads only when the keras backend runs.")
    monkeypatch.delenv("MLDSL_DATA_DIR")
    with pytest.raises(DataError, match=r"\(\$MLDSL_DATA_DIR is not set, and Keras' cache has no .*\)\. Put .* in a "
                                        r"folder DIR/mnist/ \(or in DIR itself\) and set MLDSL_DATA_DIR=DIR"):
        data.load_mnist()
    monkeypatch.setenv("MLDSL_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match=r"MLDSL_DATA_DIR=.*nowhere is not a folder"):
        data.load_cifar10()
    assert "tensorflow" not in sys.modules


def _fake_tensorflow(folder, calls_file):
    """A ``tensorflow`` package whose keras.datasets.mnist.load_data records that it ran."""
    pkg = folder / "tensorflow"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent(f'''
        import types
        import numpy as np

        def _load_data():
            open({str(calls_file)!r}, "a").write("mnist\\n")
            x = np.zeros((6, 28, 28), np.uint8)
            return (x[:4], np.arange(4)), (x[4:], np.arange(2))

        keras = types.SimpleNamespace(datasets=types.SimpleNamespace(mnist=types.SimpleNamespace(load_data=_load_data)))
    '''))


def test_download_switch(tmp_path, monkeypatch, tensorflow_not_imported):
    calls = tmp_path / "calls.txt"
    _fake_tensorflow(tmp_path, calls)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(DataError, match="set MLDSL_DATA_DOWNLOAD=1"):
        data.load_mnist()  # auto, TensorFlow not imported: no import, no download
    assert "tensorflow" not in sys.modules and not calls.exists()

    monkeypatch.setenv("MLDSL_DATA_DOWNLOAD", "1")  # asked for: imports TensorFlow and downloads
    assert len(data.load_mnist().x_train) == 4 and calls.read_text() == "mnist\n"

    monkeypatch.setenv("MLDSL_DATA_DOWNLOAD", "auto")  # TensorFlow now imported, as under the keras backend
    assert len(data.load_mnist().x_train) == 4 and calls.read_text() == "mnist\nmnist\n"

    monkeypatch.setenv("MLDSL_DATA_DOWNLOAD", "0")
    with pytest.raises(DataError, match=r"Downloads are off \(MLDSL_DATA_DOWNLOAD=0\)\.$"):
        data.load_mnist()
    monkeypatch.setenv("MLDSL_DATA_DOWNLOAD", "sometimes")
    with pytest.raises(DataError, match=r"MLDSL_DATA_DOWNLOAD='sometimes': expected auto .*, 1 \(always\) or 0"):
        data.load_mnist()
    assert calls.read_text() == "mnist\nmnist\n"


MLX = '''
experiment e = Experiment(
    model = Sequential([Flatten(), Dense(10, activation="softmax")]),
    data = Mnist(),
    training = { batch_size = 32, num_epochs = 1 },
)
'''

PROBE = '''
import sys, time
from mldsl import cli
started = time.monotonic()
code = cli.main(["run", "m.mlx", "--backend", "native", "--no-store"])
print(code, "tensorflow" in sys.modules, round(time.monotonic() - started, 2))
'''


@pytest.mark.skipif(not sources.keras_available(), reason="TensorFlow is not installed: nothing could import it")
def test_a_failed_lookup_under_the_native_backend_does_not_import_tensorflow(tmp_path):
    (tmp_path / "m.mlx").write_text(MLX)
    (tmp_path / "data").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLDSL_")}
    env.update(MLDSL_DATA_DIR=str(tmp_path / "data"), KERAS_HOME=str(tmp_path / "keras_home"))
    res = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    code, imported, seconds = res.stdout.split()
    assert (code, imported) == ("2", "False"), res.stdout + res.stderr
    assert "no local copy of MNIST was found" in res.stderr and "set MLDSL_DATA_DOWNLOAD=1" in res.stderr
    assert f"{tmp_path / 'data'}/mnist/" in res.stderr and "Traceback" not in res.stderr
    assert float(seconds) < 10, seconds  # importing TensorFlow alone took 7-13 s
