"""Losses and metrics: fused softmax cross-entropy (sparse / one-hot / soft), MSE, count_correct."""
import math

import numpy as np
import pytest
from kernels_testutil import load_impl, numgrad, rand



def _ce_reference(logits, target):
    lg = logits.astype(np.float64)
    logp = lg - lg.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    return float(-(target * logp).sum() / len(lg))


def _onehot(labels, c, dtype):
    t = np.zeros((len(labels), c), dtype)
    t[np.arange(len(labels)), labels] = 1
    return t


def test_sparse_ce_value_and_gradient(K, dtype, tol):
    logits = rand((8, 5), dtype, seed=1, scale=3)
    labels = np.array([0, 4, 2, 2, 1, 3, 0, 4])
    dl = np.empty_like(logits)
    loss = K.softmax_cross_entropy(logits, labels, dl)
    assert isinstance(loss, float)
    onehot = _onehot(labels, 5, np.float64)
    assert loss == pytest.approx(_ce_reference(logits, onehot), rel=1e-5 if dtype == np.float32 else 1e-12)
    p = np.exp(logits.astype(np.float64) - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(dl, (p - onehot) / 8, **tol)


def test_onehot_equals_sparse(K, dtype, tol):
    logits = rand((6, 4), dtype, seed=2)
    labels = np.array([3, 0, 1, 1, 2, 0])
    d1, d2 = np.empty_like(logits), np.empty_like(logits)
    l1 = K.softmax_cross_entropy(logits, labels, d1)
    l2 = K.softmax_cross_entropy(logits, _onehot(labels, 4, dtype), d2)
    assert l1 == pytest.approx(l2, rel=1e-6)
    np.testing.assert_allclose(d1, d2, **tol)


def test_cython_and_twin_agree(dtype, tol):
    C, N = load_impl("cython"), load_impl("numpy")
    logits = rand((16, 10), dtype, seed=3, scale=4)
    labels = np.random.default_rng(0).integers(0, 10, 16)
    soft = np.random.default_rng(1).dirichlet(np.ones(10), 16).astype(dtype)
    for lab in (labels, soft):
        outs = []
        for K in (C, N):
            d = np.empty_like(logits)
            outs.append((K.softmax_cross_entropy(logits, lab, d), d))
        assert outs[0][0] == pytest.approx(outs[1][0], rel=1e-5 if dtype == np.float32 else 1e-12)
        np.testing.assert_allclose(outs[0][1], outs[1][1], **tol)
    p, t = rand((7, 3), dtype, 4), rand((7, 3), dtype, 5)
    r = [(K.mse(p, t, d := np.empty_like(p)), d) for K in (C, N)]
    assert r[0][0] == pytest.approx(r[1][0], rel=1e-5)
    np.testing.assert_allclose(r[0][1], r[1][1], **tol)


@pytest.mark.parametrize("kind", ["sparse", "onehot", "soft"])
def test_ce_finite_differences(K, kind):
    logits = rand((5, 4), np.float64, seed=6, scale=2)
    labels = np.array([1, 0, 3, 2, 1])
    if kind == "sparse":
        target = labels
    elif kind == "onehot":
        target = _onehot(labels, 4, np.float64)
    else:
        target = np.random.default_rng(2).dirichlet(np.ones(4), 5)
    expected = numgrad(lambda: K.softmax_cross_entropy(logits, target), logits)
    d = np.empty_like(logits)
    K.softmax_cross_entropy(logits, target, d)
    np.testing.assert_allclose(d, expected, rtol=1e-6, atol=1e-9)


def test_mse_value_and_finite_differences(K):
    p, t = rand((4, 3), np.float64, 7), rand((4, 3), np.float64, 8)
    assert K.mse(p, t) == pytest.approx(float(((p - t) ** 2).mean()), rel=1e-12)
    expected = numgrad(lambda: K.mse(p, t), p)
    d = np.empty_like(p)
    K.mse(p, t, d)
    np.testing.assert_allclose(d, expected, rtol=1e-6, atol=1e-9)
    v, u = rand((5,), np.float64, 9), rand((5,), np.float64, 10)   # any shape
    assert K.mse(v, u) == pytest.approx(float(((v - u) ** 2).mean()))


def test_initial_loss_is_log_c_on_random_data(K, dtype):
    """Small random logits (as from a fresh network) give a loss near log(C)."""
    c = 10
    logits = rand((512, c), dtype, seed=11, scale=0.01)
    labels = np.random.default_rng(3).integers(0, c, 512)
    assert K.softmax_cross_entropy(logits, labels) == pytest.approx(math.log(c), rel=0.01)


def test_large_logits_are_stable_and_in_place_gradient(K, dtype, tol):
    logits = np.array([[1000.0, -1000.0, 0.0], [-1e4, 1e4, 3.0]], dtype)
    labels = np.array([0, 0])
    d = np.empty_like(logits)
    loss = K.softmax_cross_entropy(logits, labels, d)
    assert math.isfinite(loss) and loss == pytest.approx(1e4, rel=1e-5)
    lg = logits.copy()
    loss2 = K.softmax_cross_entropy(lg, labels, lg)    # dlogits may be the logits buffer
    assert loss2 == pytest.approx(loss)
    np.testing.assert_allclose(lg, d, **tol)


def test_bad_labels(K):
    logits = np.zeros((3, 4))
    with pytest.raises(ValueError, match="out of range for 4 classes"):
        K.softmax_cross_entropy(logits, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"labels have shape \(2,\)"):
        K.softmax_cross_entropy(logits, np.array([0, 1]))
    with pytest.raises(ValueError, match="integer class indices"):
        K.softmax_cross_entropy(logits, np.array([0.5, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"shapes do not fit: pred\(3, 4\) vs target\(4, 3\)"):
        K.mse(logits, np.zeros((4, 3)))


def test_integer_label_dtypes_accepted(K):
    logits = rand((4, 3), np.float64, 12)
    ref = K.softmax_cross_entropy(logits, np.array([0, 1, 2, 1], np.int64))
    for dt in (np.int32, np.uint8, np.int16):
        assert K.softmax_cross_entropy(logits, np.array([0, 1, 2, 1], dt)) == pytest.approx(ref)


def test_count_correct(K, dtype):
    scores = np.array([[0.1, 0.9, 0.0], [0.5, 0.2, 0.3], [0.0, 0.0, 1.0], [0.3, 0.3, 0.3]], dtype)
    assert K.count_correct(scores, np.array([1, 0, 0, 0])) == 3        # ties: first index
    assert K.count_correct(scores, _onehot([1, 0, 0, 0], 3, dtype)) == 3
    assert K.count_correct(scores[:0], np.array([], np.int64)) == 0
