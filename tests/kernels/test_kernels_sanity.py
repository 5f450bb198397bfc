"""The checks a practitioner runs, on a tiny MLP wired by hand from the kernels."""
import math

import numpy as np
import pytest


def _mlp_train(K, dtype, steps=300, l2=0.0, seed=0):
    """20-32-5 ReLU MLP, softmax CE, Adam, full batch of 64 random points with random labels."""
    rng = np.random.default_rng(seed)
    n, i, h, c = 64, 20, 32, 5
    x = rng.standard_normal((n, i)).astype(dtype)
    y = rng.integers(0, c, n)
    lim1, lim2 = math.sqrt(6 / (i + h)), math.sqrt(6 / (h + c))
    params = [rng.uniform(-lim1, lim1, (i, h)).astype(dtype), np.zeros(h, dtype),
              rng.uniform(-lim2, lim2, (h, c)).astype(dtype), np.zeros(c, dtype)]
    grads = [np.empty_like(p) for p in params]
    ms = [np.zeros_like(p) for p in params]
    vs = [np.zeros_like(p) for p in params]
    a1, logits = np.empty((n, h), dtype), np.empty((n, c), dtype)
    dlog, da1 = np.empty((n, c), dtype), np.empty((n, h), dtype)
    losses = []
    for t in range(1, steps + 1):
        K.dense_forward(x, params[0], params[1], a1, "relu")
        K.dense_forward(a1, params[2], params[3], logits)
        loss = K.softmax_cross_entropy(logits, y, dlog)
        K.dense_backward(a1, params[2], dlog, grads[2], grads[3], da1)
        K.dense_backward(x, params[0], da1, grads[0], grads[1], None, "relu", y=a1)
        if l2:
            loss += K.l2_penalty(params[0], l2) + K.l2_penalty(params[2], l2)
            K.l2_grad(params[0], grads[0], l2)
            K.l2_grad(params[2], grads[2], l2)
        losses.append(loss)
        for p, g, m, v in zip(params, grads, ms, vs):
            K.adam_update(p, g, m, v, 0.01, 0.9, 0.999, 1e-7, t)
    K.dense_forward(x, params[0], params[1], a1, "relu")
    K.dense_forward(a1, params[2], params[3], logits)
    return losses, K.count_correct(logits, y) / n


def test_initial_loss_near_log_c_and_overfits_small_subset(K, dtype):
    losses, acc = _mlp_train(K, dtype)
    assert losses[0] == pytest.approx(math.log(5), rel=0.25)
    assert losses[-1] < 0.05 * losses[0]
    assert acc == 1.0


def test_l2_raises_the_training_loss(K):
    plain, _ = _mlp_train(K, np.float64, steps=1)
    decayed, _ = _mlp_train(K, np.float64, steps=1, l2=0.01)
    assert decayed[0] > plain[0]


def test_float32_and_float64_runs_agree(K):
    l32, _ = _mlp_train(K, np.float32, steps=20)
    l64, _ = _mlp_train(K, np.float64, steps=20)
    np.testing.assert_allclose(l32, l64, rtol=1e-3)
