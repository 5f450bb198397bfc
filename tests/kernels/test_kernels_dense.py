"""Dense layer kernels: fused forward, backward (dW, db, dX), twins agree, FD gradients."""
import numpy as np
import pytest
from kernels_testutil import load_impl, numgrad, rand

from mldsl.kernels.catalogue import ACTIVATIONS

ACTS = list(ACTIVATIONS)


def _layer(dtype, n=6, i=5, o=4, seed=0):
    return rand((n, i), dtype, seed), rand((i, o), dtype, seed + 1), rand((o,), dtype, seed + 2)


@pytest.mark.parametrize("act", ACTS)
def test_forward_is_activation_of_affine(K, dtype, tol, act):
    x, w, b = _layer(dtype)
    out, z = np.empty((6, 4), dtype), np.empty((6, 4), dtype)
    assert K.dense_forward(x, w, b, out, act, z=z) is out
    pre = x.astype(np.float64) @ w + b
    np.testing.assert_allclose(z, pre, **tol)
    np.testing.assert_allclose(out, K.activation_forward(act, z, np.empty_like(z)), **tol)


def test_forward_without_bias(K, dtype, tol):
    x, w, _ = _layer(dtype)
    out = K.dense_forward(x, w, None, np.empty((6, 4), dtype))
    np.testing.assert_allclose(out, x.astype(np.float64) @ w, **tol)


@pytest.mark.parametrize("act", ACTS)
def test_cython_and_twin_agree(dtype, tol, act):
    x, w, b = _layer(dtype, n=9, i=7, o=5, seed=3)
    dy = rand((9, 5), dtype, seed=10)
    res = []
    for K in (load_impl("cython"), load_impl("numpy")):
        out, z = np.empty((9, 5), dtype), np.empty((9, 5), dtype)
        K.dense_forward(x, w, b, out, act, z=z)
        dw, db, dx = np.empty((7, 5), dtype), np.empty(5, dtype), np.empty((9, 7), dtype)
        K.dense_backward(x, w, dy.copy(), dw, db, dx, act, y=out, z=z)
        res.append((out, dw, db, dx))
    for a, b_ in zip(*res):
        np.testing.assert_allclose(a, b_, **tol)


@pytest.mark.parametrize("act", ACTS)
def test_backward_finite_differences(K, act):
    """float64 central differences of L = sum(r * dense(x)) w.r.t. w, b and x."""
    x, w, b = _layer(np.float64, n=4, i=3, o=5, seed=20)
    r = rand((4, 5), np.float64, seed=21)
    out = np.empty((4, 5))
    if act in ("relu", "leaky_relu", "elu"):   # keep pre-activations off the kink
        b += np.where(np.abs(x @ w + b).min(0) < 1e-3, 0.01, 0.0)

    def loss():
        K.dense_forward(x, w, b, out, act)
        return float((r * out).sum())

    gw, gb, gx = numgrad(loss, w), numgrad(loss, b), numgrad(loss, x)
    z = np.empty((4, 5))
    K.dense_forward(x, w, b, out, act, z=z)
    dw, db, dx = np.empty((3, 5)), np.empty(5), np.empty((4, 3))
    K.dense_backward(x, w, r.copy(), dw, db, dx, act, y=out, z=z)
    for got, want in ((dw, gw), (db, gb), (dx, gx)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_backward_dz_buffer_leaves_dy_alone(K, dtype, tol):
    x, w, b = _layer(dtype)
    out, z = np.empty((6, 4), dtype), np.empty((6, 4), dtype)
    K.dense_forward(x, w, b, out, "tanh", z=z)
    dy = rand((6, 4), dtype, seed=30)
    keep = dy.copy()
    dz = np.empty_like(dy)
    dw, db = np.empty((5, 4), dtype), np.empty(4, dtype)
    K.dense_backward(x, w, dy, dw, db, None, "tanh", y=out, dz=dz)
    np.testing.assert_array_equal(dy, keep)
    np.testing.assert_allclose(dz, keep * (1 - out.astype(np.float64) ** 2), **tol)
    # without dz the gradient w.r.t. the pre-activation is written into dy in place
    dw2 = np.empty_like(dw)
    K.dense_backward(x, w, dy, dw2, None, None, "tanh", y=out)
    np.testing.assert_allclose(dy, dz, **tol)
    np.testing.assert_allclose(dw2, dw, **tol)


def test_backward_needs_y_and_z(K):
    x, w, b = _layer(np.float64)
    dy = np.ones((6, 4))
    with pytest.raises(ValueError, match="needs y"):
        K.dense_backward(x, w, dy, np.empty((5, 4)), None, None, "relu")
    with pytest.raises(ValueError, match="needs z"):
        K.dense_backward(x, w, dy, np.empty((5, 4)), None, None, "gelu", y=dy)


def test_empty_batch(K, dtype):
    x, w, b = np.empty((0, 5), dtype), rand((5, 3), dtype), rand((3,), dtype)
    out = K.dense_forward(x, w, b, np.empty((0, 3), dtype), "relu")
    assert out.shape == (0, 3)
    dw, db = np.full((5, 3), 7, dtype), np.full(3, 7, dtype)
    K.dense_backward(x, w, np.empty((0, 3), dtype), dw, db)
    assert not dw.any() and not db.any()


def test_larger_layer_matches_numpy_matmul(dtype):
    K = load_impl("cython")
    x, w, b = rand((100, 784), dtype, 1), rand((784, 64), dtype, 2), rand((64,), dtype, 3)
    out = K.dense_forward(x, w, b, np.empty((100, 64), dtype), "relu")
    tol = dict(rtol=1e-4, atol=1e-3) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(out, np.maximum(x.astype(np.float64) @ w + b, 0), **tol)


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (7, 5, 3), (64, 33, 17), (5, 0, 4)])
def test_matmul_is_the_plain_product(K, dtype, tol, m, k, n):
    a, b = rand((m, k), dtype, seed=1), rand((k, n), dtype, seed=2)
    out = np.full((m, n), np.nan, dtype)
    assert K.matmul(a, b, out) is out
    np.testing.assert_allclose(out, a.astype(np.float64) @ b.astype(np.float64), **tol)


def test_matmul_copies_non_contiguous_inputs_and_names_bad_shapes(K):
    a = rand((6, 4), np.float32).T                  # a (4, 6) Fortran-ordered view
    b = rand((6, 3), np.float32, seed=3)
    out = np.empty((4, 3), np.float32)
    np.testing.assert_allclose(K.matmul(a, b, out), a @ b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"matmul: shapes do not fit: a\(4, 6\) @ b\(3, 6\)"):
        K.matmul(a, b.T, out)
    with pytest.raises(ValueError, match=r"matmul: output out has shape \(3, 4\), expected \(4, 3\)"):
        K.matmul(a, b, np.empty((3, 4), np.float32))
