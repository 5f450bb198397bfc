"""Dropout: seeded counter-based masks, bit-identical between the kernel and its twin."""
import numpy as np
import pytest
from kernels_testutil import load_impl, rand



def _drop(K, x, rate, seed, offset=0):
    out, mask = np.empty_like(x), np.empty_like(x)
    K.dropout_forward(x, out, mask, rate, seed, offset)
    return out, mask


def test_kernel_and_twin_are_bit_identical(dtype):
    x = rand((37, 11), dtype, seed=1)
    for seed, offset in ((0, 0), (12345, 999), (2 ** 63 + 5, 2 ** 40)):
        a = _drop(load_impl("cython"), x, 0.3, seed, offset)
        b = _drop(load_impl("numpy"), x, 0.3, seed, offset)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_mask_statistics_and_scaling(K, dtype):
    x = np.ones((200, 100), dtype)
    out, mask = _drop(K, x, 0.25, seed=7)
    kept = mask != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(mask[kept], 1 / 0.75, rtol=1e-6)
    assert abs(out.mean() - 1.0) < 0.02           # inverted dropout keeps the expectation
    np.testing.assert_array_equal(out, x * mask)


def test_determinism_and_streams(K):
    x = np.ones((10, 10))
    a, _ = _drop(K, x, 0.5, seed=3)
    b, _ = _drop(K, x, 0.5, seed=3)
    c, _ = _drop(K, x, 0.5, seed=4)
    d, _ = _drop(K, x, 0.5, seed=3, offset=100)
    np.testing.assert_array_equal(a, b)
    assert (a != c).any() and (a != d).any()
    # offset k continues the same stream: the second half of one draw equals a draw at offset 50
    e, _ = _drop(K, x.reshape(-1)[50:].copy(), 0.5, seed=3, offset=50)
    np.testing.assert_array_equal(a.reshape(-1)[50:], e)


def test_rate_zero_is_identity_and_backward(K, dtype):
    x = rand((4, 6), dtype, seed=2)
    out, mask = _drop(K, x, 0.0, seed=1)
    np.testing.assert_array_equal(out, x)
    dy = rand((4, 6), dtype, seed=3)
    out, mask = _drop(K, x, 0.5, seed=1)
    dx = K.dropout_backward(dy, mask, np.empty_like(dy))
    np.testing.assert_array_equal(dx, dy * mask)
    K.dropout_backward(dy, mask, dy)               # in place
    np.testing.assert_array_equal(dy, dx)


def test_bad_arguments(K):
    x = np.ones((2, 2))
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
        _drop(K, x, 1.0, seed=0)
    with pytest.raises(ValueError, match="seed and offset"):
        _drop(K, x, 0.5, seed=-1)
    with pytest.raises(ValueError, match=r"output mask has shape \(2, 3\)"):
        K.dropout_forward(x, np.empty((2, 2)), np.empty((2, 3)), 0.5, 0)
