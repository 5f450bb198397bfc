"""Bad data given to the loaders: each case is a DataError that says what is wrong and where, never a
traceback, a hang, an unbounded read or a silent renumbering of classes."""
import gzip
import os
import re
import threading

import numpy as np
import pytest

from mldsl import data
from mldsl.data import sources
from mldsl.errors import DataError


@pytest.fixture(autouse=True)
def no_local_data(tmp_path, monkeypatch):
    monkeypatch.delenv(sources.DATA_DIR_ENV, raising=False)
    monkeypatch.delenv("MLDSL_DATA_DOWNLOAD", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


def _csv(tmp_path, text, name="d.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


# ---------------------------------------------------------------- Csv labels

def test_a_negative_label_among_class_indices_is_an_error_naming_its_line_not_a_renumbering(tmp_path):
    # the reported case: labels 0..11 and one -1 used to sort as strings and renumber every class
    rows = [f"{i}.5,{i % 12}\n" for i in range(30)]
    rows[17] = "17.5,-1\n"
    path = _csv(tmp_path, "x,label\n" + "".join(rows))
    with pytest.raises(DataError, match=r"d\.csv: line 19: label -1 is not a class index: numeric labels must be "
                                        r"whole numbers 0 \.\. 1,000,000, used as they are \(never renumbered\)"):
        data.load_csv(path)
    rows[17] = "17.5,2.5\n"
    _csv(tmp_path, "".join(rows))
    with pytest.raises(DataError, match="line 18: label 2.5 is not a class index"):
        data.load_csv(path)


def test_integer_labels_are_the_class_indices_as_written(tmp_path):
    # 0..11 with 10 and 11 present: sorting as strings would put "10" before "2"
    path = _csv(tmp_path, "".join(f"{i},{i % 12}\n" for i in range(48)))
    s = data.load_csv(path, test_split=0.25)
    assert s.num_classes == 12 and s.class_names is None
    for x, y in zip(np.concatenate([s.x_train, s.x_test]), np.concatenate([s.y_train, s.y_test])):
        assert y == int(x[0]) % 12
    _csv(tmp_path, "1,3.0\n2,0\n3,1e1\n")  # whole numbers in any spelling
    assert data.load_csv(path, test_split=0.0).num_classes == 11


def test_name_labels_are_numbered_in_sorted_order_and_the_names_kept(tmp_path):
    path = _csv(tmp_path, "f,kind\n" + "".join(f"{i},{['zebra', 'ant', 'Moth'][i % 3]}\n" for i in range(9)))
    s = data.load_csv(path, test_split=0.0)
    assert s.class_names == ("Moth", "ant", "zebra") and s.num_classes == 3
    for x, y in zip(s.x_train, s.y_train):
        assert s.class_names[y] == ["zebra", "ant", "Moth"][int(x[0]) % 3]
    assert "class_names=['Moth', 'ant', 'zebra']" in repr(s)
    _csv(tmp_path, "1,nan\n2,inf\n")  # spelled like floats, but not numbers: names
    assert data.load_csv(path, test_split=0.0).class_names == ("inf", "nan")


def test_mixed_and_empty_labels_are_errors_naming_lines(tmp_path):
    path = _csv(tmp_path, "1,0\n2,1\n3,cat\n4,1\n")
    with pytest.raises(DataError, match=r"line 3: label 'cat' is a name but line 1's label 0 is a number; labels "
                                        r"must be all class indices \(0, 1, 2, \.\.\.\) or all names"):
        data.load_csv(path)
    _csv(tmp_path, "1,a\n2, \n3,b\n")
    with pytest.raises(DataError, match=r"line 2: the label \(column 2\) is empty"):
        data.load_csv(path)


# ---------------------------------------------------------------- Csv text

def test_invalid_utf8_is_an_error_with_line_and_column_and_a_bom_is_accepted(tmp_path):
    path = _csv(tmp_path, b"a,b,label\n1,2,cat\n3,4,d\xe9j\xe0\n")
    with pytest.raises(DataError, match=r"d\.csv: line 3 is not valid UTF-8 \(byte 0xe9 at column 6\); save the "
                                        r"file as UTF-8"):
        data.load_csv(path)
    _csv(tmp_path, b"\xef\xbb\xbfa,label\n1,x\n2,y\n")
    s = data.load_csv(path, test_split=0.0)
    assert s.class_names == ("x", "y") and s.x_train.shape == (2, 1)


def test_non_finite_features_and_oversized_lines_or_fields(tmp_path):
    path = _csv(tmp_path, "1,0\nnan,1\n")
    with pytest.raises(DataError, match=r"line 2, column 1: 'nan' is not a finite number"):
        data.load_csv(path)
    _csv(tmp_path, "1,0\n2," + "7" * 200_000 + "\n")
    with pytest.raises(DataError, match=r"line 2: field larger than field limit"):
        data.load_csv(path)
    _csv(tmp_path, b"1,0\n" + b"\0" * (1 << 20) + b"\n")
    with pytest.raises(DataError, match=r"line 2 is longer than 1,048,576 bytes; is this a CSV text file\?"):
        data.load_csv(path)


# ---------------------------------------------------------------- paths that are not files

def _within(seconds, fn):
    """``fn()``'s exception (or result) if it returns within ``seconds``; fails the test if it hangs."""
    box = {}

    def call():
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s"
    return box.get("error", box.get("result"))


LOADERS = {
    "Csv": data.load_csv,
    "Npz": data.load_npz,
    "IDX": data.read_idx,
    "Cifar10": data.load_cifar10,
    "Mnist": data.load_mnist,
}


@pytest.mark.parametrize("what", list(LOADERS))
def test_special_paths_are_named_for_what_they_are(tmp_path, what):
    load = LOADERS[what]
    loop = tmp_path / "loop"
    os.symlink(tmp_path / "loop2", loop)
    os.symlink(loop, tmp_path / "loop2")
    dangling = tmp_path / "dangling.csv"
    os.symlink(tmp_path / "gone.csv", dangling)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    cases = [
        (loop, rf"{what}: .*loop is a symbolic link loop \(following its links never reaches a file\)"),
        (dangling, rf"{what}: .*dangling\.csv is a symbolic link to '.*gone\.csv', which does not exist"),
        (fifo, rf"{what}: .*fifo is a FIFO \(named pipe\), not a (regular file|file or a folder)"),
        ("/dev/zero", rf"{what}: /dev/zero is a character device, not a (regular file|file or a folder)"),
        (tmp_path / "missing" / "x", rf"{what}: file not found: .*missing/x"),
    ]
    if what in ("Csv", "Npz", "IDX"):
        cases.append((tmp_path, rf"{what}: .* is a directory, not a regular file"))
    try:
        for path, message in cases:
            error = _within(20, lambda: load(str(path)))  # a FIFO without a writer must not block
            assert isinstance(error, DataError), (path, error)
            assert re.search(message, str(error)), (message, str(error))
    finally:
        try:  # release a reader stuck on the FIFO (there is one only if a loader hung on it)
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass


# ---------------------------------------------------------------- Npz and IDX contents

def test_truncated_or_foreign_npz_files(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x_train=np.ones((50, 3)), y_train=np.zeros(50), x_test=np.ones((5, 3)), y_test=np.zeros(5))
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError, match=r"Npz: .*d\.npz is not a complete \.npz file \(truncated or damaged"):
        data.load_npz(path)
    np.save(tmp_path / "a.npy", np.ones(3))
    with pytest.raises(DataError, match=r"a\.npy holds a single array \(\.npy\), not an \.npz archive"):
        data.load_npz(tmp_path / "a.npy")
    path.write_bytes(b"just text")
    with pytest.raises(DataError, match=r"cannot read .*d\.npz as an \.npz file \(without pickle\)"):
        data.load_npz(path)


@pytest.mark.parametrize("arrays, message", [
    ({"x": np.ones(10), "y": np.zeros(10)}, r"x must have one row per example, shape \(N, features\.\.\.\); got "
                                            r"shape \(10,\) \(for one feature per example, use x\[:, None\]\)"),
    ({"x": np.float32(1.0), "y": np.zeros(1)}, r"x must have one row per example.*got shape \(\)"),
    ({"x": np.ones((4, 2)), "y": np.zeros(3)}, r"x has 4 rows but y has 3 labels"),
    ({"x": np.ones((4, 2)), "y": np.array(["a", "b", "c", "d"])}, r"y must be numeric class indices, got dtype"),
    ({"x": np.ones((4, 2)), "y": np.array([0, 1, 2, 10 ** 9])}, r"y must be class indices 0 \.\. 1,000,000"),
    ({"x": np.ones((4, 2)), "y": np.zeros(4), "num_classes": np.array([2, 3])},
     r"num_classes must be one integer from 1 to 1,000,000, got int64 of shape \(2,\)"),
    ({"x_train": np.ones((4, 2)), "y_train": np.zeros(4), "x_test": np.ones((2, 3)), "y_test": np.zeros(2)},
     r"train features have shape \(2,\) per example but test features have \(3,\)"),
])
def test_npz_with_wrong_shapes_or_types_is_a_data_error_naming_the_file(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=r"Npz: .*bad\.npz.*"):
        data.load_npz(path)
    with pytest.raises(DataError, match=message):
        data.load_npz(path)


def test_idx_truncated_gzipped_padded_or_dimensionless(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    data.write_idx(path, images)
    whole = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(whole[:-100]))
    with pytest.raises(DataError, match=r"IDX: .*: the header says shape \(2, 28, 28\) \(1568 bytes of data\) but "
                                        r"the file holds 1468 bytes, fewer than that"):
        data.read_idx(path)
    path.write_bytes(gzip.compress(whole + b"extra"))
    with pytest.raises(DataError, match=r"holds more than that"):
        data.read_idx(path)
    path.write_bytes(path.read_bytes()[:40])  # a gzip stream cut short
    with pytest.raises(DataError, match=r"IDX: cannot read .*t10k-images-idx3-ubyte\.gz"):
        data.read_idx(path)
    plain = tmp_path / "zero-dims"
    plain.write_bytes(bytes([0, 0, 8, 0, 7]))
    with pytest.raises(DataError, match="declares an array with no dimensions"):
        data.read_idx(plain)


def test_idx_header_claiming_huge_data_is_refused_without_reading_it(tmp_path):
    # a 24-byte gzip file whose header declares 4 GiB x 3 of data: refused after reading what is there
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + b"\xff\xff\xff\xff" * 3 + b"\0" * 10))
    with pytest.raises(DataError, match=r"the header says shape \(4294967295, 4294967295, 4294967295\)"):
        data.read_idx(path)


def test_mnist_image_and_label_files_that_do_not_match(tmp_path):
    data.write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((5, 28, 28), np.uint8))
    data.write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte \(shape \(5, 28, 28\)\) and .*t10k-labels-idx1-"
                                        r"ubyte \(shape \(4,\)\) are not matching image/label files"):
        data.load_mnist(tmp_path)
