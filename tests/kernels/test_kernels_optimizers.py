"""Optimizer updates against hand-computed Keras 3 formulas (scalar Python math), both dtypes."""
import math

import numpy as np
import pytest
from kernels_testutil import load_impl


G = [[0.5, -1.0, 2.0], [0.1, -0.2, 0.3], [-0.7, 0.4, 0.0]]   # gradients of 3 steps (per element)
P0 = [1.0, -2.0, 0.5]


def _run(K, dtype, update, n_states, init=0.0, steps=3, **kw):
    p = np.array(P0, dtype)
    states = [np.full(3, init, dtype) for _ in range(n_states)]
    for t in range(steps):
        update(K, p, np.array(G[t], dtype), states, t + 1)
    return p, states


def _close(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)


def test_sgd(K, dtype):
    p, _ = _run(K, dtype, lambda K, p, g, s, t: K.sgd_update(p, g, 0.1), 0)
    want = [P0[j] - 0.1 * sum(G[t][j] for t in range(3)) for j in range(3)]
    np.testing.assert_allclose(p, want, **_close(dtype))


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_and_nesterov(K, dtype, nesterov):
    lr, mu = 0.1, 0.9
    fn = (lambda K, p, g, s, t: K.nesterov_update(p, g, s[0], lr, mu)) if nesterov else \
         (lambda K, p, g, s, t: K.momentum_update(p, g, s[0], lr, mu))
    p, (v,) = _run(K, dtype, fn, 1)
    want, wv = [], []
    for j in range(3):
        pj, vj = P0[j], 0.0
        for t in range(3):
            g = G[t][j]
            vj = mu * vj - lr * g                    # Keras: m = m*momentum - g*lr
            pj += (mu * vj - lr * g) if nesterov else vj
        want.append(pj)
        wv.append(vj)
    np.testing.assert_allclose(p, want, **_close(dtype))
    np.testing.assert_allclose(v, wv, **_close(dtype))


def test_adam(K, dtype):
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    p, (m, v) = _run(K, dtype, lambda K, p, g, s, t: K.adam_update(p, g, s[0], s[1], lr, b1, b2, eps, t), 2)
    want = []
    for j in range(3):
        pj, mj, vj = P0[j], 0.0, 0.0
        for t in range(1, 4):
            g = G[t - 1][j]
            alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            mj += (g - mj) * (1 - b1)
            vj += (g * g - vj) * (1 - b2)
            pj -= mj * alpha / (math.sqrt(vj) + eps)   # epsilon outside the sqrt, not bias-corrected
        want.append(pj)
    np.testing.assert_allclose(p, want, **_close(dtype))
    # first step of Adam moves each parameter by ~lr * sign(g) (for |g| >> eps)
    p1, _ = _run(K, dtype, lambda K, p, g, s, t: K.adam_update(p, g, s[0], s[1], lr, b1, b2, eps, t), 2, steps=1)
    np.testing.assert_allclose(np.array(P0) - p1, [0.01, -0.01, 0.01], rtol=1e-4)


def test_adam_epsilon_placement_matters(K):
    """With a tiny gradient, Keras' eps-hat placement gives a step well below lr."""
    p = np.zeros(1)
    K.adam_update(p, np.array([1e-7]), np.zeros(1), np.zeros(1), 1.0, 0.9, 0.999, 1e-7, 1)
    # alpha = sqrt(0.001)/0.1; m = 1e-8; sqrt(v) = sqrt(1e-3)*1e-7 -> step = 1e-8*alpha/(sqrt(1e-3)*1e-7 + 1e-7)
    alpha = math.sqrt(1 - 0.999) / (1 - 0.9)
    want = -(1e-8 * alpha / (math.sqrt(1e-3) * 1e-7 + 1e-7))
    assert p[0] == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_rmsprop(K, dtype, momentum):
    lr, rho, eps = 0.01, 0.9, 1e-7

    def upd(K, p, g, s, t):
        if momentum:
            K.rmsprop_update(p, g, s[0], lr, rho, eps, momentum, s[1])
        else:
            K.rmsprop_update(p, g, s[0], lr, rho, eps)
    p, _ = _run(K, dtype, upd, 2 if momentum else 1)
    want = []
    for j in range(3):
        pj, aj, mj = P0[j], 0.0, 0.0
        for t in range(3):
            g = G[t][j]
            aj = rho * aj + (1 - rho) * g * g
            inc = lr * g / math.sqrt(aj + eps)        # Keras 3: epsilon inside the sqrt
            if momentum:
                mj = momentum * mj + inc
                pj -= mj
            else:
                pj -= inc
        want.append(pj)
    np.testing.assert_allclose(p, want, **_close(dtype))


def test_rmsprop_momentum_needs_buffer(K):
    with pytest.raises(ValueError, match="momentum_buffer"):
        K.rmsprop_update(np.zeros(2), np.zeros(2), np.zeros(2), 0.1, 0.9, 1e-7, 0.9)


def test_adagrad(K, dtype):
    lr, eps, init = 0.1, 1e-7, 0.1
    p, (acc,) = _run(K, dtype, lambda K, p, g, s, t: K.adagrad_update(p, g, s[0], lr, eps), 1, init=init)
    want, wacc = [], []
    for j in range(3):
        pj, aj = P0[j], init
        for t in range(3):
            g = G[t][j]
            aj += g * g
            pj -= lr * g / math.sqrt(aj + eps)
        want.append(pj)
        wacc.append(aj)
    np.testing.assert_allclose(p, want, **_close(dtype))
    np.testing.assert_allclose(acc, wacc, **_close(dtype))


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam", "rmsprop", "adagrad"])
def test_cython_and_twin_agree_on_2d_params(dtype, name):
    rng = np.random.default_rng(5)
    res = []
    for K in (load_impl("cython"), load_impl("numpy")):
        p = rng.standard_normal((7, 5)).astype(dtype) if not res else res[0][1].copy()
        start = p.copy()
        s1, s2 = np.full_like(p, 0.1), np.zeros_like(p)
        for t in range(1, 4):
            g = np.random.default_rng(t).standard_normal((7, 5)).astype(dtype)
            {"sgd": lambda: K.sgd_update(p, g, 0.1),
             "momentum": lambda: K.momentum_update(p, g, s1, 0.1, 0.9),
             "nesterov": lambda: K.nesterov_update(p, g, s1, 0.1, 0.9),
             "adam": lambda: K.adam_update(p, g, s1, s2, 0.01, 0.9, 0.999, 1e-7, t),
             "rmsprop": lambda: K.rmsprop_update(p, g, s1, 0.01, 0.9, 1e-7, 0.5, s2),
             "adagrad": lambda: K.adagrad_update(p, g, s1, 0.1, 1e-7)}[name]()
        res.append((p, start))
    np.testing.assert_allclose(res[0][0], res[1][0], **_close(dtype))


def test_state_shape_and_dtype_checked(K):
    p = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"output m has shape \(6,\), expected \(3, 2\)"):
        K.adam_update(p, np.zeros((3, 2)), np.zeros(6), np.zeros((3, 2)), 0.1, 0.9, 0.999, 1e-7, 1)
    with pytest.raises(ValueError, match="dtype"):
        K.sgd_update(p, np.zeros((3, 2), np.float32), 0.1)
    with pytest.raises(ValueError, match="1-based"):
        K.adam_update(p, p, p.copy(), p.copy(), 0.1, 0.9, 0.999, 1e-7, 0)


def _has_denormals(a):
    return bool(np.any((a != 0) & (np.abs(a) < np.finfo(a.dtype).tiny)))


@pytest.mark.parametrize("threads", [1, 2])
def test_compiled_kernels_flush_denormals_to_zero(threads):
    """Like TensorFlow, the compiled kernels run with FTZ/DAZ: decaying state never becomes a (slow)
    float32 denormal, it becomes 0. (The NumPy twins keep IEEE gradual underflow.)"""
    import mldsl.kernels as CK
    from threadpoolctl import threadpool_limits
    n = 1 << 17                                    # large enough to run on the thread team
    tiny = np.float32(2e-38)                       # normal; 0.5 * tiny is denormal
    old = CK.set_num_threads(threads)
    try:
        with threadpool_limits(1, user_api="blas"):
            p, v = np.zeros(n, np.float32), np.full(n, tiny, np.float32)
            CK.momentum_update(p, np.zeros(n, np.float32), v, 0.1, 0.5)
            assert not v.any()
            m, vv = np.full(n, tiny, np.float32), np.zeros(n, np.float32)
            for t in range(1, 4):
                CK.adam_update(np.zeros(n, np.float32), np.zeros(n, np.float32), m, vv, 0.1, 0.5, 0.999, 1e-7, t)
            assert not _has_denormals(m)      # (m + (g - m) * 0.5: the denormal product flushes to 0)
            y = CK.dense_forward(np.full((64, 64), tiny, np.float32), np.full((64, 64), 0.5, np.float32), None,
                                 np.empty((64, 64), np.float32))
            assert not _has_denormals(y)
    finally:
        CK.set_num_threads(old)
    # the calling thread's floating-point mode is restored afterwards
    assert np.float32(1e-38) * np.float32(0.5) != 0
