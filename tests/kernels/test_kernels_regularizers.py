"""L2 weight decay: penalty, gradient (FD), twins agree, and it raises the loss."""
import numpy as np
import pytest
from kernels_testutil import numgrad, rand


def test_penalty_and_gradient(K, dtype, tol):
    w = rand((5, 3), dtype, seed=1)
    assert K.l2_penalty(w, 0.01) == pytest.approx(0.01 * float((w.astype(np.float64) ** 2).sum()), rel=1e-6)
    dw = rand((5, 3), dtype, seed=2)
    want = dw.astype(np.float64) + 2 * 0.01 * w
    assert K.l2_grad(w, dw, 0.01) is dw
    np.testing.assert_allclose(dw, want, **tol)


def test_gradient_finite_differences(K):
    w = rand((4, 2), np.float64, seed=3)
    expected = numgrad(lambda: K.l2_penalty(w, 0.05), w)
    dw = np.zeros_like(w)
    K.l2_grad(w, dw, 0.05)
    np.testing.assert_allclose(dw, expected, rtol=1e-7, atol=1e-10)


def test_l2_raises_the_loss(K, dtype):
    """Same network output, with an L2 term: the total loss is strictly larger."""
    rng = np.random.default_rng(4)
    x, w, b = rand((32, 8), dtype, 5), rand((8, 4), dtype, 6), np.zeros(4, dtype)
    labels = rng.integers(0, 4, 32)
    logits = K.dense_forward(x, w, b, np.empty((32, 4), dtype))
    base = K.softmax_cross_entropy(logits, labels)
    assert base + K.l2_penalty(w, 0.01) > base
    assert K.l2_penalty(w, 0.0) == 0.0


def test_shape_mismatch(K):
    with pytest.raises(ValueError, match=r"output dw has shape \(3, 2\), expected \(2, 3\)"):
        K.l2_grad(np.ones((2, 3)), np.ones((3, 2)), 0.1)


# ------------------------------------------------------------------ L1 (Keras' L1, and the l1 of L1L2)

def test_l1_penalty_and_gradient(K, dtype, tol):
    w = rand((5, 3), dtype, seed=1)
    w[0, 0] = w[2, 1] = 0.0                       # sign(0) = 0, as TensorFlow's
    assert K.l1_penalty(w, 0.01) == pytest.approx(0.01 * float(np.abs(w.astype(np.float64)).sum()), rel=1e-6)
    dw = rand((5, 3), dtype, seed=2)
    want = dw.astype(np.float64) + 0.01 * np.sign(w.astype(np.float64))
    untouched = dw[0, 0], dw[2, 1]
    assert K.l1_grad(w, dw, 0.01) is dw
    np.testing.assert_allclose(dw, want, **tol)
    assert (dw[0, 0], dw[2, 1]) == untouched
    assert K.l1_penalty(w, 0.0) == 0.0 and K.l1_penalty(np.zeros((0, 3), dtype), 0.5) == 0.0


def test_l1_gradient_finite_differences(K):
    w = rand((4, 2), np.float64, seed=3)
    assert np.abs(w).min() > 1e-3                 # away from the kink at 0
    expected = numgrad(lambda: K.l1_penalty(w, 0.05), w)
    dw = np.zeros_like(w)
    K.l1_grad(w, dw, 0.05)
    np.testing.assert_allclose(dw, expected, rtol=1e-7, atol=1e-10)


def test_l1_kernel_equals_its_twin():
    from kernels_testutil import load_impl

    compiled, twin = load_impl("cython"), load_impl("numpy")
    w = rand((64, 33), np.float32, seed=5)
    w[::7, ::5] = 0.0
    a, b = rand((64, 33), np.float32, seed=6), None
    b = a.copy()
    np.testing.assert_array_equal(compiled.l1_grad(w, a, 0.003), twin.l1_grad(w, b, 0.003))
    assert compiled.l1_penalty(w, 0.003) == pytest.approx(twin.l1_penalty(w, 0.003), rel=1e-12)


def test_l1_shape_mismatch(K):
    with pytest.raises(ValueError, match=r"output dw has shape \(3, 2\), expected \(2, 3\)"):
        K.l1_grad(np.ones((2, 3)), np.ones((3, 2)), 0.1)
