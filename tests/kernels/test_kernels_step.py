"""The whole training step of a Dense stack (``DenseTrainStep``): it equals the sequence of single kernels
of the same namespace, its gradients are the loss's (finite differences), a thread team gives the serial
results, partial batches use only the first rows of the buffers, hits are counted right, bad arguments
are clear ValueErrors, and the native trainer uses it (with the same results as its per-layer path)."""
import itertools
from types import SimpleNamespace

import numpy as np
import pytest
from kernels_testutil import IMPLS, load_impl, numgrad, rand
from threadpoolctl import threadpool_limits

from mldsl.kernels.catalogue import ACTIVATIONS

NEEDS_Z = tuple(a.name for a in ACTIVATIONS.values() if a.needs_x)
LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy", "mse")
LOSS_IDS = {"sparse_categorical_crossentropy": "sce", "categorical_crossentropy": "ce", "mse": "mse"}
COMPILED = [name for name in IMPLS if name != "numpy"]

#: test name -> the optimizer spec's name and settings (the catalogue picks the update rule and its states)
OPTS = {
    "sgd": ("sgd", dict(learning_rate=0.05)),
    "momentum": ("sgd", dict(learning_rate=0.05, momentum=0.9)),
    "nesterov": ("sgd", dict(learning_rate=0.05, momentum=0.9, nesterov=True)),
    "adam": ("adam", dict(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7)),
    "rmsprop": ("rmsprop", dict(learning_rate=0.01, rho=0.9, epsilon=1e-7, momentum=0.0)),
    "rmsprop_mom": ("rmsprop", dict(learning_rate=0.01, rho=0.9, epsilon=1e-7, momentum=0.5)),
    "adagrad": ("adagrad", dict(learning_rate=0.05, epsilon=1e-7, initial_accumulator_value=0.1)),
}


def optimizer_spec(opt):
    from mldsl.backends.native.plan import OptimizerSpec
    name, hyper = OPTS[opt]
    return OptimizerSpec(name, **hyper)


def _per_layer(value, n):
    return list(value) if isinstance(value, (list, tuple)) else [value] * n


class Net:
    """Flat params/grads/states with per-layer views and buffers, as the trainer lays them out
    (``[W0, b0, W1, b1, ...]``), and (with ``build``) the step object of namespace ``K`` over them."""

    def __init__(self, K, dtype, sizes, acts, *, bias=True, l2=0.0, l1=0.0, alphas=None, opt="adam",
                 loss="sparse_categorical_crossentropy", capacity=8, count_hits=True, seed=0, build=True):
        nl = len(sizes) - 1
        self.dtype, self.sizes, self.loss, self.capacity = np.dtype(dtype), list(sizes), loss, capacity
        self.acts, self.bias = list(acts), _per_layer(bias, nl)
        self.l2, self.l1, self.alphas = _per_layer(l2, nl), _per_layer(l1, nl), _per_layer(alphas, nl)
        self.opt = optimizer_spec(opt)
        total = sum(i * o + (o if b else 0) for i, o, b in zip(sizes[:-1], sizes[1:], self.bias))
        self.params = rand(total, np.float64, seed).astype(dtype)    # W rescaled below to keep z = O(1)
        self.grads = np.zeros(total, dtype)
        self.states = [np.full(total, init, dtype) for _, init in self.opt.states]
        self.specs, self.segments = [], []
        off = 0
        for k, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
            spec = {"W": self.params[off:off + i * o].reshape(i, o), "dW": self.grads[off:off + i * o].reshape(i, o),
                    "b": None, "db": None, "activation": self.acts[k], "alpha": self.alphas[k], "l2": self.l2[k],
                    "l1": self.l1[k],
                    "out": np.empty((capacity, o), dtype), "grad": np.empty((capacity, o), dtype),
                    "z": np.empty((capacity, o), dtype) if self.acts[k] in NEEDS_Z else None}
            spec["W"] *= self.dtype.type(1.5 / np.sqrt(i))
            segs = [(off, off + i * o)]
            off += i * o
            if self.bias[k]:
                spec["b"], spec["db"] = self.params[off:off + o], self.grads[off:off + o]
                spec["b"] *= self.dtype.type(0.3)
                segs.append((off, off + o))
                off += o
            self.specs.append(spec)
            self.segments.append(segs)
        self.xbuf = np.empty((capacity, sizes[0]), dtype)
        self.ybuf = np.empty(capacity, np.int64) if loss == "sparse_categorical_crossentropy" else \
            np.empty((capacity, sizes[-1]), dtype)
        self.count_hits = count_hits
        self.step = K.DenseTrainStep(*self.args()) if build else None

    def args(self, **changes):
        """The constructor's arguments (as a list), with some replaced by keyword."""
        a = dict(layers=self.specs, loss=self.loss, optimizer=self.opt, params=self.params, grads=self.grads,
                 xbuf=self.xbuf, ybuf=self.ybuf, count_hits=self.count_hits, states=self.states)
        a.update(changes)
        return list(a.values())

    def snapshot(self):
        return self.params.copy(), self.grads.copy(), [s.copy() for s in self.states]


def data(dtype, loss, n, features, classes, seed=0):
    x = rand((n, features), dtype, seed + 100)
    rng = np.random.default_rng(seed + 200)
    if loss == "sparse_categorical_crossentropy":
        y = rng.integers(0, classes, n).astype(np.int64)
    elif loss == "categorical_crossentropy":
        t = rng.random((n, classes)) + 0.05
        y = (t / t.sum(axis=1, keepdims=True)).astype(dtype)
    else:
        y = rand((n, classes), dtype, seed + 300)
    return x, y


def _update(K, net, lo, hi, iteration):
    p, g, s, h = net.params[lo:hi], net.grads[lo:hi], [a[lo:hi] for a in net.states], net.opt.hyper
    name, lr = net.opt.update.name, h["learning_rate"]
    if name == "sgd":
        K.sgd_update(p, g, lr)
    elif name == "momentum":
        K.momentum_update(p, g, s[0], lr, h["momentum"])
    elif name == "nesterov":
        K.nesterov_update(p, g, s[0], lr, h["momentum"])
    elif name == "adam":
        K.adam_update(p, g, s[0], s[1], lr, h["beta_1"], h["beta_2"], h["epsilon"], iteration)
    elif name == "rmsprop":
        K.rmsprop_update(p, g, s[0], lr, h["rho"], h["epsilon"], h["momentum"], s[1] if len(s) > 1 else None)
    else:
        K.adagrad_update(p, g, s[0], lr, h["epsilon"])


def manual_step(K, net, x, y, idx, iteration, update=True):
    """The step written out with the single kernels of ``K``, on ``net``'s arrays (fresh buffers)."""
    n, dt = len(idx), net.dtype
    xb = K.gather_rows(x, idx, np.empty((n, x.shape[1]), dt))
    yb = K.gather_rows(y, idx, np.empty(n, np.int64) if y.ndim == 1 else np.empty((n, y.shape[1]), dt))
    h, outs, zs = xb, [], []
    for spec in net.specs:
        o = spec["W"].shape[1]
        out = np.empty((n, o), dt)
        z = np.empty((n, o), dt) if spec["activation"] in NEEDS_Z else None
        h = K.dense_forward(h, spec["W"], spec["b"], out, spec["activation"], z, spec["alpha"])
        outs.append(out)
        zs.append(z)
    g = np.empty_like(h)
    if net.loss == "mse":
        loss = K.mse(h, yb, g)
        hits = float(np.equal(h, yb).mean(axis=1).sum()) if h.shape[1] == 1 else float(K.count_correct(h, yb))
    else:
        loss = K.softmax_cross_entropy(h, yb, g)
        hits = float(K.count_correct(h, yb))
    loss += sum(K.l2_penalty(s["W"], s["l2"]) for s in net.specs if s["l2"])
    loss += sum(K.l1_penalty(s["W"], s["l1"]) for s in net.specs if s["l1"])
    for k in range(len(net.specs) - 1, -1, -1):
        s = net.specs[k]
        dx = np.empty((n, s["W"].shape[0]), dt) if k else None
        K.dense_backward(outs[k - 1] if k else xb, s["W"], g, s["dW"], s["db"], dx, s["activation"], outs[k], zs[k],
                         s["alpha"])
        if s["l2"]:
            K.l2_grad(s["W"], s["dW"], s["l2"])
        if s["l1"]:
            K.l1_grad(s["W"], s["dW"], s["l1"])
        if update:
            for lo, hi in net.segments[k]:
                _update(K, net, lo, hi, iteration)
        g = dx
    return loss, hits


def _assert_same(a, b, **tol):
    for u, v in zip(a, b):
        if isinstance(u, list):
            assert len(u) == len(v)
            for s, t in zip(u, v):
                np.testing.assert_allclose(s, t, **tol)
        else:
            np.testing.assert_allclose(u, v, **tol)


# ------------------------------------------------------------------ 1. the step equals the single kernels

HIDDEN = [("relu", "tanh"), ("leaky_relu", "elu"), ("sigmoid", "softmax"), ("gelu", "gelu_tanh"),
          ("swish", "linear"), ("softmax", "relu"), ("tanh", "gelu"), ("elu", "swish"), ("gelu_tanh", "leaky_relu")]
MSE_LAST = ["linear", "sigmoid", "tanh", "gelu", "relu", "swish", "elu"]


def _cases():
    cases = []
    for c, (opt, loss) in enumerate(itertools.product(OPTS, LOSSES)):
        acts = HIDDEN[c % len(HIDDEN)]
        last = MSE_LAST[(c // 3) % len(MSE_LAST)] if loss == "mse" else "linear"
        bias = [(c % 4) != 1, (c % 4) != 2, (c % 4) != 3]       # each layer bias-free in some case
        l2 = [0.01 if c % 3 == 0 else 0.0, 0.0, 0.02 if c % 2 else 0.0]
        l1 = [0.0, 0.01 if c % 2 == 0 else 0.0, 0.02 if c % 3 == 1 else 0.0]     # alone and with l2 (L1L2)
        cases.append(pytest.param(opt, loss, acts + (last,), bias, l2, l1,
                                  id=f"{opt}-{LOSS_IDS[loss]}-{'-'.join(acts + (last,))}"))
    return cases


def _check_against_single_kernels(K, dtype, tol, sizes, acts, **kw):
    """3 steps of the step object vs :func:`manual_step` on an identical copy: losses, hits, params, grads
    and optimizer states agree."""
    kw.setdefault("capacity", 9)
    kw.setdefault("seed", 4)
    net = Net(K, dtype, sizes, acts, **kw)
    ref = Net(K, dtype, sizes, acts, build=False, **kw)
    x, y = data(dtype, kw["loss"], 12, sizes[0], sizes[-1], seed=1)
    batches = ([3, 0, 7, 3, 11, 5, 9, 2, 1], [10, 4, 6, 8, 0, 1, 2, 3, 5], [11, 10, 9, 8, 7, 6, 5, 4, 3])
    for it, idx in enumerate(batches, start=1):                    # repeated rows, full capacity
        idx = np.array(idx, np.int64)
        got_loss, got_hits = net.step.run(x, y, idx, it)
        want_loss, want_hits = manual_step(K, ref, x, y, idx, it)
        assert isinstance(got_loss, float) and isinstance(got_hits, float)
        np.testing.assert_allclose(got_loss, want_loss, **tol)
        assert got_hits == want_hits
    start = Net(K, dtype, sizes, acts, build=False, **kw).params
    assert not np.allclose(net.params, start)                      # the steps did move the weights
    _assert_same(net.snapshot(), ref.snapshot(), **tol)


@pytest.mark.parametrize("opt, loss, acts, bias, l2, l1", _cases())
def test_step_equals_single_kernels(K, dtype, tol, opt, loss, acts, bias, l2, l1):
    alphas = [0.1 if a == "leaky_relu" else 0.5 if a == "elu" and loss == "mse" else None for a in acts]
    _check_against_single_kernels(K, dtype, tol, [5, 7, 6, 3], acts, bias=bias, l2=l2, l1=l1, alphas=alphas,
                                  opt=opt, loss=loss)


@pytest.mark.parametrize("loss, last, opt", [("sparse_categorical_crossentropy", "linear", "adam"),
                                             ("categorical_crossentropy", "linear", "rmsprop_mom"),
                                             ("mse", "sigmoid", "nesterov")], ids=lambda v: LOSS_IDS.get(v, v))
def test_single_layer_step_equals_single_kernels(K, dtype, tol, loss, last, opt):
    _check_against_single_kernels(K, dtype, tol, [5, 4], (last,), l2=0.05, opt=opt, loss=loss)


def test_deep_stack_equals_single_kernels(K, dtype, tol):
    acts = ("swish", "softmax", "leaky_relu", "gelu", "tanh", "linear")
    _check_against_single_kernels(K, dtype, tol, [6, 8, 7, 9, 5, 6, 4], acts, bias=[True, False] * 3,
                                  l2=[0.0, 0.01] * 3, alphas=[None, None, 0.3, None, None, None], opt="adagrad",
                                  loss="categorical_crossentropy")


def test_inputs_are_converted_like_the_single_kernels(K, dtype, tol):
    """Fortran-ordered or strided x and int32 indices/labels give the same step as contiguous int64 ones."""
    loss = "sparse_categorical_crossentropy"
    a = Net(K, dtype, [5, 4, 3], ("tanh", "linear"), loss=loss, capacity=6, seed=2)
    b = Net(K, dtype, [5, 4, 3], ("tanh", "linear"), loss=loss, capacity=6, seed=2)
    x, y = data(dtype, loss, 8, 5, 3)
    wide = np.zeros((8, 10), dtype)
    wide[:, ::2] = x
    for it in (1, 2):
        idx = np.array([7, 0, 3, 3, 5, 1])
        ra = a.step.run(x, y, idx, it)
        rb = b.step.run(np.asfortranarray(x) if it == 1 else wide[:, ::2], y.astype(np.int32), idx.astype(np.int32), it)
        assert ra == rb
    _assert_same(a.snapshot(), b.snapshot(), rtol=0, atol=0)
    with pytest.raises(ValueError, match="x has dtype"):
        a.step.run(x.astype(np.float32 if dtype == np.float64 else np.float64), y, [0, 1])


# ------------------------------------------------------------------ 2. update=False: the loss's gradient

@pytest.mark.parametrize("acts", [("tanh", "swish"), ("elu", "softmax"), ("gelu_tanh", "sigmoid"), ("gelu", "relu")],
                         ids="-".join)
@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_IDS.get)
def test_gradients_without_update_match_finite_differences(K, loss, acts):
    last = "tanh" if loss == "mse" else "linear"
    net = Net(K, np.float64, [3, 4, 3, 3], acts + (last,), bias=[True, True, False], l2=[0.05, 0.0, 0.1],
              l1=[0.03, 0.02, 0.0], opt="adam", loss=loss, capacity=6, seed=7)
    for s in net.states:
        s[...] = 0.25
    x, y = data(np.float64, loss, 8, 3, 3, seed=2)
    idx = np.array([6, 1, 1, 4, 0], np.int64)
    net.grads[...] = np.nan
    before = net.snapshot()
    loss_value, _ = net.step.run(x, y, idx, 1, False)
    grads = net.grads.copy()
    assert np.isfinite(grads).all()                                # every gradient entry was written
    np.testing.assert_array_equal(net.params, before[0])           # nothing updated
    for s, s0 in zip(net.states, before[2]):
        np.testing.assert_array_equal(s, s0)
    want = numgrad(lambda: net.step.run(x, y, idx, 1, False)[0], net.params)
    np.testing.assert_allclose(grads, want, rtol=1e-6, atol=1e-8)
    # iteration does not matter without an update (0 is allowed then), and the loss is reproducible
    assert net.step.run(x, y, idx, 0, False)[0] == pytest.approx(loss_value, rel=1e-12)
    np.testing.assert_allclose(net.grads, grads, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ 3. a thread team gives the serial results

@pytest.mark.parametrize("acts, opt, loss", [
    pytest.param(("relu", "gelu", "linear"), "adam", "sparse_categorical_crossentropy", id="relu-gelu-adam-sce"),
    pytest.param(("softmax", "swish", "linear"), "nesterov", "categorical_crossentropy",
                 id="softmax-swish-nesterov-ce"),
    pytest.param(("tanh", "leaky_relu", "linear"), "rmsprop_mom", "sparse_categorical_crossentropy",
                 id="tanh-leaky_relu-rmsprop_mom-sce"),
    pytest.param(("gelu_tanh", "elu", "sigmoid"), "adagrad", "mse", id="gelu_tanh-elu-sigmoid-adagrad-mse")])
@pytest.mark.parametrize("impl", COMPILED)
def test_two_threads_match_one_thread_and_the_twin(impl, dtype, acts, opt, loss):
    K, R = load_impl(impl), load_impl("numpy")
    sizes = [40, 300, 200, 10]
    alphas = [0.1 if a == "leaky_relu" else 0.5 if a == "elu" else None for a in acts]
    kw = dict(bias=[True, False, True], l2=[0.001, 0.002, 0.0], l1=[0.0, 0.001, 0.002], alphas=alphas, opt=opt,
              loss=loss, capacity=64,
              seed=9)
    x, y = data(dtype, loss, 150, 40, 10, seed=3)
    batches = [np.random.default_rng(t).permutation(150)[:64] for t in range(3)] + [np.arange(37)]

    def train(ns, nthreads):
        net = Net(ns, dtype, sizes, acts, **kw)
        old = ns.set_num_threads(nthreads) if ns is not R else None
        try:
            if ns is not R:
                assert ns.get_num_threads() == nthreads
            with threadpool_limits(1, user_api="blas"):
                res = [net.step.run(x, y, idx, it) for it, idx in enumerate(batches, start=1)]
        finally:
            if old is not None:
                ns.set_num_threads(old)
        return res, net.snapshot()

    (r1, s1), (r2, s2) = train(K, 1), train(K, 2)
    close = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.array(r1), np.array(r2), **close)
    _assert_same(s1, s2, **close)
    if dtype == np.float64:
        r3, s3 = train(R, None)
        np.testing.assert_allclose(np.array(r2), np.array(r3), rtol=1e-10, atol=1e-12)
        _assert_same(s2, s3, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ 4. partial batches

@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_IDS.get)
def test_partial_batch_uses_only_the_first_rows(K, dtype, tol, loss):
    sizes, acts = [5, 6, 4, 3], ("gelu", "relu", "linear")
    kw = dict(opt="momentum", loss=loss, l2=[0.0, 0.01, 0.0], seed=11)
    big = Net(K, dtype, sizes, acts, capacity=16, **kw)
    exact = Net(K, dtype, sizes, acts, capacity=5, **kw)
    bufs = [big.xbuf, big.ybuf] + [s[key] for s in big.specs for key in ("out", "grad", "z") if s[key] is not None]
    for b in bufs:
        b[...] = -7 if b.dtype == np.int64 else np.nan
    x, y = data(dtype, loss, 20, 5, 3, seed=5)
    for it, idx in enumerate(([19, 2, 7, 7, 0], [1, 3, 5, 8, 13]), start=1):
        idx = np.array(idx, np.int64)
        got = big.step.run(x, y, idx, it)
        want = exact.step.run(x, y, idx, it)
        np.testing.assert_allclose(got, want, **tol)
        for b in bufs:
            if b.dtype == np.int64:
                assert (b[5:] == -7).all()
            else:
                assert np.isnan(b[5:]).all()                       # rows past the batch untouched
                assert np.isfinite(b[:5]).all()
        np.testing.assert_array_equal(big.xbuf[:5], x[idx])
    _assert_same(big.snapshot(), exact.snapshot(), **tol)
    # a full batch after the partial ones still works
    loss_full, _ = big.step.run(x, y, np.arange(16), 3)
    assert np.isfinite(loss_full) and np.isfinite(big.params).all()


# ------------------------------------------------------------------ 5. hits

def _np_forward(net, xb):
    h = xb.astype(np.float64)
    pres = []
    for s in net.specs:
        pre = h @ s["W"].astype(np.float64) + (0 if s["b"] is None else s["b"].astype(np.float64))
        pres.append(pre)
        assert s["activation"] in ("tanh", "linear", "relu")
        h = np.tanh(pre) if s["activation"] == "tanh" else np.maximum(pre, 0) if s["activation"] == "relu" else pre
    return h, pres


@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "categorical_crossentropy"], ids=LOSS_IDS.get)
def test_hits_count_argmax_matches(K, dtype, loss):
    net = Net(K, dtype, [4, 6, 5], ("tanh", "linear"), opt="sgd", loss=loss, capacity=10, seed=13)
    off = Net(K, dtype, [4, 6, 5], ("tanh", "linear"), opt="sgd", loss=loss, capacity=10, seed=13, count_hits=False)
    x = rand((10, 4), dtype, 21)
    logits, _ = _np_forward(net, x)
    top = np.sort(logits, axis=1)
    assert (top[:, -1] - top[:, -2] > 1e-4).all()                   # no near-ties
    pred = logits.argmax(axis=1)
    labels = np.where(np.arange(10) % 3 == 0, (pred + 1) % 5, pred)    # rows 0, 3, 6, 9 wrong
    y = labels.astype(np.int64) if loss == "sparse_categorical_crossentropy" else \
        (np.eye(5)[labels] * 0.7 + 0.06).astype(dtype)
    idx = np.arange(10)
    loss_on, hits = net.step.run(x, y, idx, 1)
    assert hits == 6.0
    loss_off, no_hits = off.step.run(x, y, idx, 1)
    assert no_hits == 0.0 and isinstance(no_hits, float)
    assert loss_off == loss_on                                      # counting does not change the step
    np.testing.assert_array_equal(net.params, off.params)
    logits, _ = _np_forward(net, x[:4])                             # after the update, on a partial batch
    top = np.sort(logits, axis=1)
    assert (top[:, -1] - top[:, -2] > 1e-4).all()
    assert net.step.run(x, y, idx[:4], 2)[1] == float((logits.argmax(axis=1) == labels[:4]).sum())


def test_hits_for_mse_are_exact_matches_for_one_output_and_argmax_for_several(K, dtype):
    """Keras' accuracy as the Keras backend compiles it: ``Accuracy`` (exact matches) when the one output is
    the label itself, ``CategoricalAccuracy`` (argmax against the target row's argmax) on one-hot rows."""
    net = Net(K, dtype, [4, 6, 1], ("tanh", "relu"), opt="sgd", loss="mse", capacity=8, seed=17)
    off = Net(K, dtype, [4, 6, 1], ("tanh", "relu"), opt="sgd", loss="mse", capacity=8, seed=17, count_hits=False)
    x = rand((8, 4), dtype, 23)
    out, pres = _np_forward(net, x)
    assert (np.abs(pres[-1]) > 1e-3).all()                          # off the relu kink
    zero = pres[-1] < 0                                             # outputs that are exactly 0
    assert 0 < zero.sum() < zero.size
    y = np.where(zero, 0.0, out + 1.0).astype(dtype)                # exact match exactly where the output is 0
    _, hits = net.step.run(x, y, np.arange(8), 1)
    assert hits == float(zero.sum())
    assert off.step.run(x, y, np.arange(8), 1)[1] == 0.0
    wide = Net(K, dtype, [4, 6, 5], ("tanh", "linear"), opt="sgd", loss="mse", capacity=8, seed=17)
    out, _ = _np_forward(wide, x)
    top = np.sort(out, axis=1)
    assert (top[:, -1] - top[:, -2] > 1e-4).all()
    labels = np.where(np.arange(8) % 4 == 0, (out.argmax(axis=1) + 1) % 5, out.argmax(axis=1))
    _, hits = wide.step.run(x, np.eye(5, dtype=dtype)[labels], np.arange(8), 1)
    assert hits == 6.0                                              # rows 0 and 4 wrong


# ------------------------------------------------------------------ 6. errors

def _bad_net(K, **kw):
    base = dict(opt="adam", loss="sparse_categorical_crossentropy", capacity=4, seed=1)
    base.update(kw)
    return Net(K, np.float64, [5, 4, 3], ("relu", "linear"), build=False, **base)


def _ctor_cases():
    def fresh_w(net):
        net.specs[0]["W"] = np.zeros((5, 4))

    def shifted_dw(net):
        net.specs[1]["dW"] = net.grads[1:1 + 12].reshape(4, 3)

    def shifted_db(net):
        net.specs[0]["db"] = net.grads[21:25]

    def gelu_no_z(net):
        net.specs[0]["activation"] = "gelu"
        net.specs[0]["z"] = None

    return [
        pytest.param({}, dict(loss="hinge"), "unknown loss 'hinge'", id="loss"),
        pytest.param({}, dict(optimizer=SimpleNamespace(name="lbfgs", hyper={})),
                     "optimizer must be an optimizer spec .*unknown optimizer 'lbfgs'", id="optimizer"),
        pytest.param({}, dict(optimizer="adam"), "optimizer must be an optimizer spec", id="optimizer-name"),
        pytest.param({}, dict(states=[np.zeros(39)]), r"the adam update needs 2 state buffer\(s\) \(m, v\), got 1",
                     id="adam-states"),
        pytest.param(dict(opt="rmsprop_mom"), dict(states=[np.zeros(39)]),
                     r"rmsprop update needs 2 state buffer\(s\) \(velocity, momentum_buffer\), got 1",
                     id="rmsprop-momentum-states"),
        pytest.param(dict(opt="sgd"), dict(states=[np.zeros(39)]),
                     r"sgd update needs 0 state buffer\(s\) \(none\), got 1", id="sgd-states"),
        pytest.param(fresh_w, {}, "layer 0 W must be a contiguous view into params", id="W-not-a-view"),
        pytest.param(shifted_dw, {}, "layer 1 dW must sit at the same offset in grads as W in params",
                     id="dW-offset"),
        pytest.param(shifted_db, {}, "layer 0 db must sit at the same offset in grads as b in params",
                     id="db-offset"),
        pytest.param(gelu_no_z, {}, "layer 0's activation 'gelu' needs a z buffer", id="gelu-no-z"),
    ]


@pytest.mark.parametrize("setup, changes, message", _ctor_cases())
def test_constructor_errors(K, setup, changes, message):
    kw = setup if isinstance(setup, dict) else {}
    K.DenseTrainStep(*_bad_net(K, **kw).args())                     # valid before the change
    net = _bad_net(K, **kw)
    if callable(setup):
        setup(net)
    with pytest.raises(ValueError, match=message) as err:
        K.DenseTrainStep(*net.args(**changes))
    assert str(err.value).startswith("DenseTrainStep: ")


def test_states_are_allocated_from_the_spec_when_not_given(K):
    """Without ``states`` the step allocates the catalogue's buffers (Adagrad's start at its initial value)."""
    net = _bad_net(K, opt="adagrad")
    step = K.DenseTrainStep(*net.args(states=None))
    assert len(step.states) == 1 and step.states[0].shape == net.params.shape
    np.testing.assert_array_equal(step.states[0], 0.1)
    assert step.states[0] is not net.states[0]
    shared = K.DenseTrainStep(*net.args())
    assert shared.states[0] is net.states[0]


@pytest.mark.parametrize("last", ["relu", "sigmoid", "softmax"])
def test_cross_entropy_takes_the_last_outputs_as_logits_whatever_their_activation(K, last):
    """The loss kernel reads the last layer's outputs as logits; the trainer decides what they are."""
    loss = "categorical_crossentropy"
    _check_against_single_kernels(K, np.float64, dict(rtol=1e-10, atol=1e-12), [5, 6, 3], ("tanh", last),
                                  opt="nesterov", loss=loss)


def _run_cases():
    x, y = data(np.float64, "sparse_categorical_crossentropy", 6, 5, 3)
    return [
        pytest.param(x, y, [0, 6, 1], 1, True, "index 6 at position 1 is out of range for 6 rows", id="index-high"),
        pytest.param(x, y, [2, -1], 1, True, "index -1 at position 1 is out of range", id="index-negative"),
        pytest.param(x, np.array([0, 1, 7, 2, 1, 0]), [0, 1, 2, 3], 1, True,
                     "label 7 at batch position 2 is out of range for 3 classes", id="label"),
        pytest.param(x, y, [0, 1, 2, 3, 4], 1, True, r"indices must be 1-D with 1\.\.4 entries", id="too-many"),
        pytest.param(x, y, np.zeros(0, np.int64), 1, True, r"indices must be 1-D with 1\.\.4 entries", id="empty"),
        pytest.param(x, y, [0, 1], 0, True, "iteration is 1-based, got 0", id="iteration-0"),
        pytest.param(x[:, :4], y, [0, 1], 1, True, r"x has shape \(6, 4\), expected \(N, 5\)", id="x-features"),
        pytest.param(x, y[:5], [0, 1], 1, True, r"y has shape \(5,\), expected \(6,\) labels", id="y-rows"),
    ]


@pytest.mark.parametrize("x, y, idx, iteration, update, message", _run_cases())
def test_run_errors_leave_the_weights_alone(K, x, y, idx, iteration, update, message):
    net = _bad_net(K)
    step = K.DenseTrainStep(*net.args())
    before = net.snapshot()
    with pytest.raises(ValueError, match=message) as err:
        step.run(x, y, np.asarray(idx, np.int64), iteration, update)
    assert str(err.value).startswith("DenseTrainStep.run: ")
    _assert_same(net.snapshot(), before, rtol=0, atol=0)
    ok_x, ok_y = data(np.float64, "sparse_categorical_crossentropy", 6, 5, 3)
    step.run(ok_x, ok_y, np.arange(4), 1)                           # still usable afterwards
    assert not np.array_equal(net.params, before[0])


# ------------------------------------------------------------------ 7. the trainer uses the step

TRAINER_CASES = [
    pytest.param("sparse_categorical_crossentropy", ("adam", dict(learning_rate=0.01)), id="sce-adam"),
    pytest.param("categorical_crossentropy", ("sgd", dict(learning_rate=0.05, momentum=0.9, nesterov=True)),
                 id="ce-nesterov"),
    pytest.param("mse", ("rmsprop", dict(learning_rate=0.01, momentum=0.5)), id="mse-rmsprop-momentum"),
    pytest.param("sparse_categorical_crossentropy", ("adagrad", dict(learning_rate=0.05)), id="sce-adagrad"),
]


class _CountingStep:
    """Wraps the trainer's step object, counting :meth:`run` calls."""

    def __init__(self, step):
        self.step, self.calls = step, 0

    def run(self, *args):
        self.calls += 1
        return self.step.run(*args)


def _plan(layers, loss, opt, dtype, **kw):
    from mldsl.backends.native.plan import OptimizerSpec, Plan
    return Plan(layers, loss=loss, optimizer=OptimizerSpec(opt[0], **opt[1]), batch_size=32, epochs=2, seed=3,
                dtype=dtype, threads=1, **kw)


@pytest.mark.parametrize("kernels", ["cython", "numpy"])
@pytest.mark.parametrize("loss, opt", TRAINER_CASES)
def test_trainer_compiled_step_matches_per_layer_path(kernels, dtype, loss, opt):
    from mldsl.backends.native.plan import DenseSpec
    from mldsl.backends.native.trainer import MLPTrainer
    dt = np.dtype(dtype).name
    last = DenseSpec(4, "softmax" if loss != "mse" else "sigmoid", l2=0.01)
    layers = [DenseSpec(16, "relu", l2=0.01), DenseSpec(12, "gelu", use_bias=False), last]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((150, 10))
    labels = rng.integers(0, 4, 150)
    y = {"sparse_categorical_crossentropy": labels, "categorical_crossentropy": np.eye(4)[labels],
         "mse": rng.random((150, 4))}[loss]
    runs = []
    for compiled in (True, False):
        tr = MLPTrainer(_plan(layers, loss, opt, dt), (10,), kernels=kernels)
        assert type(tr._compiled) is load_impl(kernels).DenseTrainStep
        tr._compiled = _CountingStep(tr._compiled) if compiled else None
        start = tr.params.copy()
        hist = tr.fit(x, y)
        assert not np.allclose(tr.params, start)
        if compiled:
            assert tr._compiled.calls == 10                       # every training step went through it
        runs.append((tr.params.copy(), [h["loss"] for h in hist], [h["accuracy"] for h in hist],
                     tr.optimizer.iterations, tr.gradients(x[:32], y[:32])))
    (p1, l1, a1, n1, (g1l, g1)), (p2, l2, a2, n2, (g2l, g2)) = runs
    close = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    assert n1 == n2 == 10                                          # 5 batches (the last partial) x 2 epochs
    np.testing.assert_allclose(p1, p2, **close)
    np.testing.assert_allclose(l1, l2, **close)
    np.testing.assert_allclose(a1, a2, **close)
    np.testing.assert_allclose(g1l, g2l, **close)
    np.testing.assert_allclose(g1, g2, **close)


@pytest.mark.parametrize("kernels", ["cython", "numpy"])
def test_trainer_takes_the_per_layer_path_with_dropout_or_activation_layers(kernels):
    from mldsl.backends.native.plan import ActivationSpec, DenseSpec, DropoutSpec
    from mldsl.backends.native.trainer import MLPTrainer
    loss, opt = "sparse_categorical_crossentropy", ("adam", dict(learning_rate=0.01))
    for layers, compiled in [
            ([DenseSpec(8, "relu"), DropoutSpec(0.3), DenseSpec(3, "softmax")], False),
            ([DenseSpec(8), ActivationSpec("tanh"), DenseSpec(3, "softmax")], False),
            ([DenseSpec(8, "relu"), DropoutSpec(0.0), DenseSpec(3, "softmax")], True)]:   # rate 0 is dropped
        tr = MLPTrainer(_plan(layers, loss, opt, "float64"), (5,), kernels=kernels)
        assert (tr._compiled is not None) == compiled, layers
        x = np.random.default_rng(0).standard_normal((40, 5))
        start = tr.params.copy()
        hist = tr.fit(x, np.arange(40) % 3)
        assert np.isfinite(hist[-1]["loss"]) and not np.allclose(tr.params, start)
