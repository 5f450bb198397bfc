"""The native MLP trainer over both kernel sets: learning, determinism, Keras semantics, errors, memory."""
import math
import tracemalloc

import numpy as np
import pytest

from mldsl.backends.native.plan import (ActivationSpec, DenseSpec, DropoutSpec, EarlyStoppingSpec, FlattenSpec,
                                        OptimizerSpec, Plan)
from mldsl.backends.native.trainer import MLPTrainer, train
from mldsl.errors import BackendError

KERNELS = ["cython", "numpy"]


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)            # (n, 8, 8): exercises Flatten
    return x[:1200], d.target[:1200], x[1200:1500], d.target[1200:1500]


def _plan(**kw):
    base = dict(layers=[FlattenSpec(), DenseSpec(32, "relu"), DropoutSpec(0.1), DenseSpec(10, "softmax")],
                optimizer=OptimizerSpec("adam", learning_rate=0.005), batch_size=32, epochs=4, seed=0)
    base.update(kw)
    return Plan(**base)


@pytest.mark.parametrize("kernels", KERNELS)
def test_learns_digits(digits, kernels):
    x, y, xt, yt = digits
    res = train(_plan(validation_split=0.1), x, y, xt, yt, kernels=kernels)
    hist = res["history"]
    assert [h["epoch"] for h in hist] == [1, 2, 3, 4]
    assert set(hist[0]) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"}
    assert hist[0]["loss"] == pytest.approx(math.log(10), rel=0.35)   # starts near log(C)
    assert hist[-1]["loss"] < hist[0]["loss"] / 3
    assert res["metrics"]["accuracy"] > 0.85
    assert set(res["metrics"]) == {"loss", "accuracy"}


def test_cython_and_numpy_kernels_give_the_same_run(digits):
    x, y, xt, yt = digits
    plan = _plan(dtype="float64", epochs=2)
    a = train(plan, x, y, xt, yt, kernels="cython")
    b = train(plan, x, y, xt, yt, kernels="numpy")
    for ha, hb in zip(a["history"], b["history"]):
        for k in ("loss", "accuracy"):
            assert ha[k] == pytest.approx(hb[k], rel=1e-9)
    np.testing.assert_allclose(a["trainer"].params, b["trainer"].params, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("kernels", KERNELS)
def test_same_seed_same_result_and_seed_matters(digits, kernels):
    x, y, _, _ = digits
    runs = [train(_plan(epochs=2, seed=s), x, y, kernels=kernels) for s in (7, 7, 8)]
    strip = [[{k: v for k, v in h.items() if k != "seconds"} for h in r["history"]] for r in runs]
    assert strip[0] == strip[1]
    np.testing.assert_array_equal(runs[0]["trainer"].params, runs[1]["trainer"].params)
    assert strip[0] != strip[2]


@pytest.mark.parametrize("kernels", KERNELS)
def test_whole_network_gradient_matches_finite_differences(kernels):
    """float64 central differences of the full training loss (L2 included) w.r.t. every parameter."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
    plan = Plan([DenseSpec(5, "tanh", l2=0.01), DenseSpec(4, "gelu"), ActivationSpec("swish"),
                 DenseSpec(3, "softmax")], dtype="float64", batch_size=8, eval_batch_size=8)
    tr = MLPTrainer(plan, (4,), kernels=kernels)
    _, grads = tr.gradients(x, y)
    num = np.empty_like(grads)
    for k in range(tr.params.size):
        old = tr.params[k]
        tr.params[k] = old + 1e-6
        lp = tr.gradients(x, y)[0]
        tr.params[k] = old - 1e-6
        lm = tr.gradients(x, y)[0]
        tr.params[k] = old
        num[k] = (lp - lm) / 2e-6
    np.testing.assert_allclose(grads, num, rtol=1e-5, atol=1e-8)


def test_validation_split_holds_out_the_last_samples(digits):
    x, y, _, _ = digits
    tr = MLPTrainer(_plan(validation_split=0.25, epochs=1), x.shape[1:])
    hist = tr.fit(x, y)
    split = int(math.floor(len(x) * 0.75))
    val = tr.evaluate(x[split:], y[split:])
    assert val["loss"] == pytest.approx(hist[-1]["val_loss"], rel=1e-12)
    assert val["accuracy"] == pytest.approx(hist[-1]["val_accuracy"])


def test_on_epoch_callback_and_stop(digits):
    x, y, _, _ = digits
    seen = []

    def cb(epoch, logs):
        seen.append((epoch, logs["loss"]))
        return False if epoch == 2 else None

    hist = MLPTrainer(_plan(epochs=5), x.shape[1:]).fit(x, y, on_epoch=cb)
    assert [e for e, _ in seen] == [1, 2] and len(hist) == 2


def test_early_stopping_patience_and_restore_best_weights(digits):
    x, y, _, _ = digits
    # min_delta so large that nothing after the first epoch counts as an improvement
    es = EarlyStoppingSpec(monitor="loss", patience=2, min_delta=100.0, restore_best_weights=True)
    tr = MLPTrainer(_plan(epochs=10, early_stopping=es), x.shape[1:])
    hist = tr.fit(x, y)
    assert len(hist) == 3                  # epoch 1 best; epochs 2, 3 do not improve; patience 2 -> stop at 3
    assert tr.stopped_epoch == 3
    one = MLPTrainer(_plan(epochs=1), x.shape[1:])
    one.fit(x, y)
    np.testing.assert_array_equal(tr.params, one.params)   # restored to the end of epoch 1


def test_early_stopping_max_mode_for_accuracy():
    assert EarlyStoppingSpec(monitor="val_accuracy").direction == "max"
    assert EarlyStoppingSpec(monitor="val_loss").direction == "min"
    with pytest.raises(BackendError, match="no validation data"):
        _plan(early_stopping=EarlyStoppingSpec(monitor="val_loss"))
    with pytest.raises(BackendError, match="did you mean 'accuracy'"):
        _plan(early_stopping=EarlyStoppingSpec(monitor="acuracy"))


@pytest.mark.parametrize("kernels", KERNELS)
def test_nan_loss_is_an_actionable_backend_error(digits, kernels):
    x, y, _, _ = digits
    bad = x.copy()
    bad[:, 3, 3] = np.nan
    with pytest.raises(BackendError, match=r"loss became nan at epoch 1, step 1\. Lower the learning rate"):
        MLPTrainer(_plan(), x.shape[1:], kernels=kernels).fit(bad, y)
    plan = _plan(optimizer=OptimizerSpec("sgd", learning_rate=1e38), layers=[FlattenSpec(), DenseSpec(10, "softmax")])
    with pytest.raises(BackendError, match=r"epoch 1, step 2\. Lower the learning rate \(now 1e\+38, try 1e\+37\)"), \
            np.errstate(all="ignore"):
        MLPTrainer(plan, x.shape[1:], kernels=kernels).fit(x * 1e3, y)


@pytest.mark.parametrize("opt", [OptimizerSpec("sgd", learning_rate=0.1), OptimizerSpec("sgd", learning_rate=0.05,
                                 momentum=0.9), OptimizerSpec("sgd", learning_rate=0.05, momentum=0.9, nesterov=True),
                                 OptimizerSpec("rmsprop", learning_rate=0.003),
                                 OptimizerSpec("rmsprop", learning_rate=0.001, momentum=0.5),
                                 OptimizerSpec("adagrad", learning_rate=0.1)], ids=str)
def test_every_optimizer_trains(digits, opt):
    x, y, xt, yt = digits
    res = train(_plan(optimizer=opt, epochs=3), x, y, xt, yt)
    assert res["metrics"]["accuracy"] > 0.8, opt


def test_categorical_and_mse_losses(digits):
    x, y, xt, yt = digits
    onehot = np.eye(10, dtype=np.float32)[y]
    res = train(_plan(loss="categorical_crossentropy"), x, onehot, xt, np.eye(10, dtype=np.float32)[yt])
    assert res["metrics"]["accuracy"] > 0.85
    # categorical from integer labels is one-hot encoded for you; from_logits with a linear head
    res = train(_plan(loss="categorical_crossentropy", from_logits=True,
                      layers=[FlattenSpec(), DenseSpec(32, "relu"), DenseSpec(10)]), x, y, xt, yt)
    assert res["metrics"]["accuracy"] > 0.85
    rng = np.random.default_rng(0)
    xr = rng.standard_normal((400, 3)).astype(np.float32)
    yr = (xr @ np.array([1.0, -2.0, 0.5], np.float32))[:, None]
    res = train(Plan([DenseSpec(1)], loss="mse", metric=None, optimizer=OptimizerSpec("adam", learning_rate=0.05),
                     epochs=20), xr, yr, xr, yr)
    assert res["metrics"]["loss"] < 1e-3 and "accuracy" not in res["metrics"]


def test_predict_returns_probabilities(digits):
    x, y, xt, _ = digits
    tr = train(_plan(epochs=1), x, y)["trainer"]
    p = tr.predict(xt[:300])
    assert p.shape == (300, 10)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-5)


def test_initializers_follow_keras():
    plan = Plan([DenseSpec(400, "relu"), DenseSpec(300, kernel_initializer="he_normal"),
                 DenseSpec(10, kernel_initializer="zeros", use_bias=False)], loss="mse", metric=None)
    tr = MLPTrainer(plan, (200,))
    w0, w1, w2 = (l.W for l in tr.dense_layers)
    lim = math.sqrt(6 / (200 + 400))
    assert np.abs(w0).max() <= lim and np.abs(w0).max() > 0.99 * lim
    assert w1.std() == pytest.approx(math.sqrt(2 / 400), rel=0.03)
    assert not w2.any() and tr.dense_layers[2].b is None
    assert not tr.dense_layers[0].b.any()
    assert tr.num_params == 200 * 400 + 400 + 400 * 300 + 300 + 300 * 10


def test_weights_round_trip(digits):
    x, y, _, _ = digits
    a = train(_plan(epochs=1), x, y)["trainer"]
    b = MLPTrainer(_plan(), x.shape[1:])
    b.set_weights(a.get_weights())
    np.testing.assert_array_equal(a.params, b.params)
    with pytest.raises(BackendError, match="kernel shape"):
        b.set_weights([{"kernel": np.zeros((3, 3)), "bias": None}, *a.get_weights()[1:]])


def test_plan_errors_are_clear(digits):
    x, y, _, _ = digits
    with pytest.raises(BackendError, match="put a Flatten layer before it"):
        MLPTrainer(Plan([DenseSpec(10, "softmax")]), (8, 8))
    with pytest.raises(BackendError, match="ends in sigmoid: Keras would take the sigmoid's input as the logits"):
        Plan([DenseSpec(10, "sigmoid")])
    with pytest.raises(BackendError, match="from_logits=False takes the model's outputs as probabilities, but the "
                                           "model ends in activation 'relu'"):
        Plan([DenseSpec(10, "relu")])
    with pytest.raises(BackendError, match="did you mean 'relu'"):
        DenseSpec(10, "rleu")
    with pytest.raises(BackendError, match="has no hyperparameter 'lr'.*learning_rate"):
        OptimizerSpec("adam", lr=0.1)
    with pytest.raises(BackendError, match="last Dense layer has 5 units"):
        MLPTrainer(Plan([FlattenSpec(), DenseSpec(5, "softmax")]), (8, 8)).fit(x, y)
    plan = Plan.from_dict({"layers": [{"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}],
                           "optimizer": {"name": "sgd", "learning_rate": 0.1}, "batch_size": 16})
    assert plan.optimizer.hyper == {"learning_rate": 0.1, "momentum": 0.0, "nesterov": False}


@pytest.mark.parametrize("kernels", KERNELS)
def test_softmax_as_a_separate_activation_layer_is_fused(digits, kernels):
    x, y, xt, yt = digits
    plan = _plan(layers=[FlattenSpec(), DenseSpec(32, "relu"), DenseSpec(10), ActivationSpec("softmax")])
    res = train(plan, x, y, xt, yt, kernels=kernels)
    assert res["metrics"]["accuracy"] > 0.85


def test_training_steps_do_not_allocate(digits):
    """After warm-up, steps allocate no arrays: traced memory does not grow and peaks stay tiny."""
    x, y, _, _ = digits
    tr = MLPTrainer(_plan(batch_size=50, layers=[FlattenSpec(), DenseSpec(64, "relu", l2=1e-4), DropoutSpec(0.2),
                                                 DenseSpec(10, "softmax")]), x.shape[1:])
    xs, ys = tr._prepare_x(x), tr._prepare_y(y, len(x))
    idx = np.arange(len(xs), dtype=np.int64)
    batches = [idx[s:s + 50] for s in range(0, len(xs), 50)]
    for b in batches:                             # warm-up: one epoch (the interpreter specialises hot code)
        tr.train_step(b, xs, ys)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for _ in range(3):
            for b in batches:
                tr.train_step(b, xs, ys)
        cur, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert cur - base < 4096, cur - base
    assert peak - base < 16384, peak - base       # a batch buffer alone would be 50*64*4 = 12.8 kB


def test_threads_are_applied_during_fit_and_restored(digits):
    """Compiled kernels: one OpenMP team of `threads` (default: what the model's work is worth), BLAS on one
    thread."""
    from threadpoolctl import threadpool_info
    import mldsl.kernels as K
    x, y, _, _ = digits

    def blas_threads():
        return [d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"]
    before, k_before = blas_threads(), K.get_num_threads()
    for threads, want in ((1, 1), (None, 1), (3, 3)):              # None: this tiny model is worth one
        seen = []
        tr = MLPTrainer(_plan(threads=threads, epochs=1), x.shape[1:])
        tr.fit(x, y, on_epoch=lambda e, logs: seen.append((blas_threads(), K.get_num_threads())))
        assert all(n == 1 for n in seen[0][0]) and seen[0][1] == want
        assert blas_threads() == before and K.get_num_threads() == k_before
        if threads == 1:
            one = tr.params.copy()
    np.testing.assert_allclose(tr.params, one, rtol=1e-4, atol=1e-5)


def test_thread_count_follows_the_environment(monkeypatch):
    """Search workers are given a share of the cores through the environment (Ray sets OMP_NUM_THREADS)."""
    from mldsl.backends.native.threads import usable_cores

    monkeypatch.delenv("MLDSL_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert usable_cores() == 3
    monkeypatch.setenv("MLDSL_NUM_THREADS", "1")
    assert usable_cores() == 1
    monkeypatch.setenv("MLDSL_NUM_THREADS", "zero")
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert usable_cores() >= 1
