"""mldsl's own small-batch sgemm (``kernels/_sgemm.h``, AVX-512): which products it takes, that they equal
NumPy's in float64 over shapes with every kind of edge (row, column and K tails, K above one packed block,
transposed operands, wide layers that need several workspace groups), that the training step's fused
per-tile update equals the single kernels bit for bit, that results do not depend on the thread team, and
that ``MLDSL_SGEMM`` switches it off. The same cases run with the own sgemm switched off (BLAS), so
both paths stay covered on any machine."""
import contextlib
import os
import subprocess
import sys

import numpy as np
import pytest
from kernels_testutil import IMPLS, load_impl, rand
from test_kernels_step import Net, data, manual_step
from threadpoolctl import threadpool_limits

import mldsl.kernels

COMPILED = [name for name in IMPLS if name != "numpy"]
AVAILABLE = mldsl.kernels.own_sgemm_available()
needs_own = pytest.mark.skipif(not AVAILABLE, reason="this CPU or build has no AVX-512 sgemm: BLAS does every "
                                                     "product (covered by the route=blas cases)")


@contextlib.contextmanager
def route(ns, own):
    """Runs with single-threaded BLAS and the kernels' own sgemm on (``own``) or off."""
    old = ns.set_own_sgemm(own)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        ns.set_own_sgemm(old)


@pytest.fixture(params=COMPILED)
def KC(request):
    return load_impl(request.param)


@pytest.fixture(params=[pytest.param(True, marks=needs_own, id="own"), pytest.param(False, id="blas")])
def own(request):
    return request.param


def _close(got, want, k):
    """float32 products against float64: the error grows like sqrt(k) rounding steps of the terms."""
    scale = np.sqrt(max(k, 1)) * 4e-7 * (1 + np.abs(want).max())
    np.testing.assert_allclose(got, want, rtol=0, atol=scale)


# ------------------------------------------------------------------ which products it takes

@needs_own
def test_routes_small_batch_products_to_the_own_sgemm():
    dense = mldsl.kernels.module("dense")
    with route(mldsl.kernels, True):
        assert dense.sgemm_route(100, 784) == "own"        # forward / dX: m is the batch
        assert dense.sgemm_route(784, 100) == "own"        # dW: k is the batch
        assert dense.sgemm_route(1024, 1024) == "blas"     # large square products stay with BLAS
        assert mldsl.kernels.build_info()["sgemm"] == "own-avx512"
    with route(mldsl.kernels, False):
        assert dense.sgemm_route(100, 784) == "blas"
        assert mldsl.kernels.build_info()["sgemm"] == "blas"


@needs_own
def test_never_replaces_a_multithreaded_blas_call():
    """Kernels on one thread with BLAS threading itself: the single-threaded own sgemm would be slower."""
    dense = mldsl.kernels.module("dense")
    old = mldsl.kernels.set_num_threads(1)
    try:
        with threadpool_limits(limits=2, user_api="blas"):
            if dense.sgemm_route(100, 784) == "own":
                pytest.fail("the own sgemm took a product BLAS would have run on 2 threads")
        mldsl.kernels.set_num_threads(2)                     # a kernel team: each thread calls it
        with threadpool_limits(limits=1, user_api="blas"):
            assert dense.sgemm_route(100, 784) == "own"
    finally:
        mldsl.kernels.set_num_threads(old)


def test_set_own_sgemm_returns_the_previous_setting():
    old = mldsl.kernels.set_own_sgemm(False)
    try:
        assert mldsl.kernels.set_own_sgemm(True) is False
        assert mldsl.kernels.set_own_sgemm(False) is AVAILABLE
    finally:
        mldsl.kernels.set_own_sgemm(old)


# ------------------------------------------------------------------ products against NumPy

MATMUL_SHAPES = [(1, 1, 1), (1, 5, 33), (5, 1, 31), (12, 16, 32), (13, 17, 33), (11, 255, 15), (12, 256, 16),
                 (25, 257, 47), (100, 784, 500), (37, 600, 65), (256, 40, 96), (7, 513, 3), (3, 300, 1000)]


@pytest.mark.parametrize("m, k, n", MATMUL_SHAPES, ids=lambda v: str(v))
def test_matmul_equals_numpy(KC, own, m, k, n):
    a, b = rand((m, k), np.float32, 1), rand((k, n), np.float32, 2)
    out = np.full((m, n), np.nan, np.float32)
    with route(KC, own):
        KC.matmul(a, b, out)
    _close(out, a.astype(np.float64) @ b.astype(np.float64), k)


# (batch, inputs, outputs): tails of the 12-row, 32-column and 16 x 16 transpose blocks; a batch above one
# packed K block (257, 300); dX with a short K; a wide layer whose dW needs several workspace groups
BACKWARD_SHAPES = [(1, 1, 1), (7, 13, 33), (12, 16, 17), (32, 40, 17), (100, 70, 31), (256, 300, 70),
                   (257, 20, 45), (300, 50, 40), (200, 30, 1400)]


@pytest.mark.parametrize("n, i, o", BACKWARD_SHAPES, ids=lambda v: str(v))
def test_dense_backward_equals_the_twin(KC, own, n, i, o):
    ref = load_impl("numpy")
    x, w, dy = rand((n, i), np.float32, 3), rand((i, o), np.float32, 4), rand((n, o), np.float32, 5)
    got = [np.full((i, o), np.nan, np.float32), np.full(o, np.nan, np.float32), np.full((n, i), np.nan, np.float32)]
    want = [np.empty((i, o)), np.empty(o), np.empty((n, i))]
    with route(KC, own):
        KC.dense_backward(x, w, dy, *got)
    ref.dense_backward(x.astype(np.float64), w.astype(np.float64), dy.astype(np.float64), *want)
    _close(got[0], want[0], n)          # dW = x^T dy: K is the batch
    _close(got[2], want[2], o)          # dX = dy w^T: B transposed
    _close(got[1], want[1], n)


@needs_own
@pytest.mark.parametrize("nthreads", [2, 3])
def test_results_do_not_depend_on_the_team(KC, nthreads):
    """Column and row splits hand each thread whole output elements, summed in the same k order."""
    x, w, b = rand((100, 300), np.float32, 6), rand((300, 200), np.float32, 7), rand(200, np.float32, 8)
    dy = rand((100, 200), np.float32, 9)

    def run():
        out, dw, db, dx = (np.empty((100, 200), np.float32), np.empty((300, 200), np.float32),
                           np.empty(200, np.float32), np.empty((100, 300), np.float32))
        KC.dense_forward(x, w, b, out, "relu")
        KC.dense_backward(x, w, dy, dw, db, dx)
        return out, dw, db, dx

    with route(KC, True):
        serial = run()
        old = KC.set_num_threads(nthreads)
        try:
            team = run()
        finally:
            KC.set_num_threads(old)
    for s, t in zip(serial, team):
        np.testing.assert_array_equal(s, t)


# ------------------------------------------------------------------ the step's fused update

@pytest.mark.parametrize("opt", ["adam", "momentum", "rmsprop_mom", "adagrad", "sgd"])
@pytest.mark.parametrize("l2", [0.0, 0.01])
def test_step_fused_update_equals_single_kernels(KC, own, opt, l2):
    """The step applies L2 and the update to each dW tile as it is computed (own sgemm) or after the
    whole block (BLAS); both equal dense_backward, l2_grad and the update kernel in sequence, exactly."""
    sizes, acts, loss = [40, 45, 33, 10], ("relu", "tanh", "linear"), "sparse_categorical_crossentropy"
    with route(KC, own):
        net = Net(KC, np.float32, sizes, acts, l2=l2, opt=opt, loss=loss, capacity=30, seed=5)
        ref = Net(KC, np.float32, sizes, acts, l2=l2, opt=opt, loss=loss, capacity=30, seed=5, build=False)
        x, y = data(np.float32, loss, 40, sizes[0], sizes[-1], seed=2)
        rng = np.random.default_rng(0)
        for it in range(1, 4):
            idx = rng.integers(0, 40, 30 if it < 3 else 17)          # the last batch partial
            got = net.step.run(x, y, idx, it)
            want = manual_step(KC, ref, x, y, idx, it)
            assert got == pytest.approx(want, rel=1e-6)
    np.testing.assert_array_equal(net.params, ref.params)
    for s, t in zip(net.states, ref.states):
        np.testing.assert_array_equal(s, t)


@needs_own
def test_step_with_own_sgemm_tracks_blas():
    """Five steps with the own sgemm and five with BLAS, from the same start: the same training up to
    float32 rounding of differently ordered sums."""
    sizes, acts, loss = [64, 50, 20, 10], ("relu", "relu", "linear"), "sparse_categorical_crossentropy"
    nets = {}
    for own in (True, False):
        with route(mldsl.kernels, own):
            net = Net(mldsl.kernels, np.float32, sizes, acts, l2=0.001, capacity=32, seed=3)
            x, y = data(np.float32, loss, 64, sizes[0], sizes[-1], seed=3)
            losses = [net.step.run(x, y, np.arange(s, s + 32) % 64, s + 1)[0] for s in range(5)]
            nets[own] = (losses, net.params)
    np.testing.assert_allclose(nets[True][0], nets[False][0], rtol=1e-5)
    np.testing.assert_allclose(nets[True][1], nets[False][1], rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------ MLDSL_SGEMM

def _build_info_with(env):
    code = "import mldsl.kernels as K; print(K.build_info()['sgemm'])"
    return subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True)


def test_env_forces_either(tmp_path):
    res = _build_info_with({"MLDSL_SGEMM": "blas"})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "blas"
    res = _build_info_with({"MLDSL_SGEMM": "own"})
    assert res.stdout.strip() == ("own-avx512" if AVAILABLE else "blas")
    res = _build_info_with({"MLDSL_SGEMM": "auto", "XDG_CACHE_HOME": str(tmp_path)})   # measured: either
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() in ("own-avx512", "blas")


def test_env_unknown_value_is_a_clear_error():
    res = _build_info_with({"MLDSL_SGEMM": "fastest"})
    assert res.returncode != 0
    assert "MLDSL_SGEMM='fastest' is not a choice; use one of: auto, own, blas" in res.stderr
