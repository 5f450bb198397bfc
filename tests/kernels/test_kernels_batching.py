"""gather_rows: batch assembly into preallocated buffers."""
import numpy as np
import pytest


def test_gather_float_rows_and_labels(K, dtype):
    src = np.arange(24, dtype=dtype).reshape(8, 3)
    idx = np.array([7, 0, 3, 3])
    out = np.empty((4, 3), dtype)
    assert K.gather_rows(src, idx, out) is out
    np.testing.assert_array_equal(out, src[idx])
    labels = np.arange(8) * 10
    lo = np.empty(4, np.int64)
    np.testing.assert_array_equal(K.gather_rows(labels, idx, lo), labels[idx])


def test_gather_bad_index_and_shape(K):
    src = np.zeros((5, 2))
    with pytest.raises(ValueError, match="index 5 at position 1 is out of range for 5 rows"):
        K.gather_rows(src, np.array([0, 5]), np.empty((2, 2)))
    with pytest.raises(ValueError, match=r"output out has shape \(3, 2\), expected \(2, 2\)"):
        K.gather_rows(src, np.array([0, 1]), np.empty((3, 2)))


def test_gather_non_contiguous_source(K):
    base = np.arange(40.0).reshape(10, 4)
    src = base[:, ::2]                                # strided view: copied, same answer
    out = K.gather_rows(src, np.array([9, 1]), np.empty((2, 2)))
    np.testing.assert_array_equal(out, src[[9, 1]])
