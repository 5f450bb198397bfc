"""Kernel-level threading (``mldsl.kernels.set_num_threads``): split kernels give the serial results."""
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import mldsl.kernels as K
from kernels_testutil import rand

ACTS = ["linear", "relu", "softmax", "gelu", "swish", "tanh"]


@pytest.fixture(params=[2, 3], ids=["2threads", "3threads"])
def nthreads(request):
    old = K.set_num_threads(1)
    with threadpool_limits(1, user_api="blas"):
        yield request.param
    K.set_num_threads(old)


def _both(nt, fn):
    """fn() run serially and on nt threads (fresh outputs each time)."""
    K.set_num_threads(1)
    a = fn()
    K.set_num_threads(nt)
    assert K.get_num_threads() == nt
    b = fn()
    K.set_num_threads(1)
    return a, b


def _close(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("act", ACTS)
def test_dense_forward_split(nthreads, dtype, act):
    x, w, b = rand((64, 40), dtype, 1), rand((40, 50), dtype, 2), rand((50,), dtype, 3)

    def run():
        out, z = np.empty((64, 50), dtype), np.empty((64, 50), dtype)
        K.dense_forward(x, w, b, out, act, z=z)
        return out, z
    (o1, z1), (o2, z2) = _both(nthreads, run)
    np.testing.assert_allclose(o1, o2, **_close(dtype))
    np.testing.assert_allclose(z1, z2, **_close(dtype))


@pytest.mark.parametrize("with_dx", [True, False])
@pytest.mark.parametrize("with_db", [True, False])
def test_dense_backward_split(nthreads, dtype, with_dx, with_db):
    x, w = rand((64, 40), dtype, 4), rand((40, 50), dtype, 5)
    y = np.maximum(rand((64, 50), dtype, 6), 0)
    dy = rand((64, 50), dtype, 7)

    def run():
        dw = np.empty((40, 50), dtype)
        db = np.empty(50, dtype) if with_db else None
        dx = np.empty((64, 40), dtype) if with_dx else None
        K.dense_backward(x, w, dy.copy(), dw, db, dx, "relu", y=y)
        return dw, db, dx
    r1, r2 = _both(nthreads, run)
    for a, b in zip(r1, r2):
        if a is not None:
            np.testing.assert_allclose(a, b, **_close(dtype))


def test_elementwise_kernels_split(nthreads, dtype):
    p0, g = rand((70000,), dtype, 8), rand((70000,), dtype, 9)

    def adam():
        p, m, v = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
        K.adam_update(p, g, m, v, 0.01, 0.9, 0.999, 1e-7, 3)
        q, vel = p0.copy(), np.zeros_like(p0)
        K.rmsprop_update(q, g, vel, 0.01, 0.9, 1e-7)
        dw = g.copy()
        K.l2_grad(p0, dw, 0.1)
        out, mask = np.empty_like(p0), np.empty_like(p0)
        K.dropout_forward(p0, out, mask, 0.3, 5, 11)
        act = K.activation_forward("tanh", p0.reshape(700, 100), np.empty((700, 100), dtype))
        return p, q, dw, out, act
    for a, b in zip(*_both(nthreads, adam)):
        np.testing.assert_array_equal(a, b)


def test_gather_split(nthreads):
    src = rand((500, 300), np.float32, 10)
    idx = np.random.default_rng(0).integers(0, 500, 200)
    a, b = _both(nthreads, lambda: K.gather_rows(src, idx, np.empty((200, 300), np.float32)))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="out of range"):
        K.set_num_threads(nthreads)
        try:
            K.gather_rows(src, np.append(idx[:-1], 500), np.empty((200, 300), np.float32))
        finally:
            K.set_num_threads(1)
