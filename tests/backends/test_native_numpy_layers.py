"""A plugin's own NumPy math on the native backend (``NumpyLayerSpec``): trained beside the kernels' layers
with the optimizer's state, saved with the run, and every wrong result named by layer path and plugin."""
import numpy as np
import pytest

from mldsl.backends.native.backend import NativeBackend
from mldsl.backends.native.plan import DenseSpec, DropoutSpec, FlattenSpec, NumpyLayerSpec, OptimizerSpec, Plan
from mldsl.backends.native.trainer import MLPTrainer
from mldsl.errors import BackendError

KERNELS = ["cython", "numpy"]


def prelu_forward(params, x, training):
    return np.where(x > 0, x, params["alpha"] * x), x


def prelu_backward(params, x, dy):
    neg = x <= 0
    return np.where(neg, params["alpha"] * dy, dy), {"alpha": np.where(neg, x * dy, 0.0).sum(axis=0)}


def prelu(backward=prelu_backward, forward=prelu_forward, **kw):
    spec = NumpyLayerSpec(forward, backward, {"alpha": lambda units, rng: np.full(units, 0.25)}, name="PReLU", **kw)
    spec.path, spec.plugin = "model.layers[2]", "hello"
    return spec


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images / 16.0).astype(np.float32)[:600], d.target[:600]


def _plan(*middle, **kw):
    base = dict(layers=[FlattenSpec(), DenseSpec(16), *middle, DenseSpec(10, "softmax")],
                optimizer=OptimizerSpec("adam", learning_rate=0.01), batch_size=32, epochs=3, seed=0)
    base.update(kw)
    return Plan(**base)


@pytest.mark.parametrize("kernels", KERNELS)
def test_a_model_mixing_kernel_and_numpy_layers_trains_with_the_optimizer_state(digits, kernels):
    x, y = digits
    tr = MLPTrainer(_plan(prelu(), DropoutSpec(0.1)), x.shape[1:], kernels=kernels)
    assert tr._compiled is None                      # mixed models take the per-layer path
    assert tr.num_params == 64 * 16 + 16 + 16 + 16 * 10 + 10      # alpha is one of the flat parameters
    assert all(s.size == tr.num_params for s in tr.optimizer.states)   # Adam's m and v cover alpha too
    before = tr.get_layer_params()
    np.testing.assert_array_equal(before["layers[2].alpha"], np.full(16, 0.25, np.float32))
    hist = tr.fit(x, y)
    assert hist[-1]["loss"] < hist[0]["loss"] * 0.6 and hist[-1]["accuracy"] > 0.8
    after = tr.get_layer_params()["layers[2].alpha"]
    assert not np.allclose(after, 0.25)              # the optimizer updated the plugin's parameter
    assert np.all(tr.optimizer.states[1][tr.weighted_layers[1].param_range[0]:][:16] > 0)   # v of alpha


def test_dense_only_models_keep_the_compiled_step(digits):
    x, _ = digits
    assert MLPTrainer(_plan(), x.shape[1:])._compiled is not None


def test_same_seed_same_run_and_cython_equals_numpy_in_float64(digits):
    x, y = digits
    runs = [MLPTrainer(_plan(prelu(), dtype="float64", epochs=2), x.shape[1:], kernels=k) for k in
            ("cython", "numpy", "cython")]
    hists = [[h["loss"] for h in tr.fit(x, y)] for tr in runs]
    assert hists[0] == hists[2]
    np.testing.assert_allclose(hists[0], hists[1], rtol=1e-9)
    np.testing.assert_allclose(runs[0].params, runs[1].params, rtol=1e-8, atol=1e-10)


def test_the_plugin_parameters_are_saved_with_the_model_and_load_back(digits, tmp_path):
    x, y = digits
    tr = MLPTrainer(_plan(prelu(), epochs=1), x.shape[1:])
    tr.fit(x, y)
    NativeBackend().save_model(tr, tmp_path)
    with np.load(tmp_path / "layer_params.npz", allow_pickle=False) as saved:
        params = {k: saved[k] for k in saved.files}
    assert list(params) == ["layers[2].alpha"]
    with np.load(tmp_path / "weights.npz", allow_pickle=False) as w:
        assert sorted(w.files) == ["bias_0", "bias_1", "kernel_0", "kernel_1"]    # the exchange format as before
        dense = [{"kernel": w[f"kernel_{i}"], "bias": w[f"bias_{i}"]} for i in range(2)]
    fresh = MLPTrainer(_plan(prelu(), epochs=1), x.shape[1:])
    fresh.set_weights(dense)
    fresh.set_layer_params(params)
    np.testing.assert_array_equal(fresh.predict(x[:50]), tr.predict(x[:50]))
    with pytest.raises(BackendError, match=r"plugin layers' parameters are \['layers\[2\]\.alpha'\]"):
        fresh.set_layer_params({})


def _bad(kind):
    def forward(params, x, training):
        if kind == "shape":
            return x[:, :3], x
        if kind == "nan":
            return x * np.nan, x
        if kind == "raise":
            raise ZeroDivisionError("oops")
        if kind == "single":
            return x
        return prelu_forward(params, x, training)

    def backward(params, x, dy):
        dx, grads = prelu_backward(params, x, dy)
        if kind == "missing":
            return dx, {}
        if kind == "grad_shape":
            return dx, {"alpha": grads["alpha"][:2]}
        if kind == "dx_nan":
            return dx * np.inf, grads
        return dx, grads
    return forward, backward


@pytest.mark.parametrize("kind, message", [
    ("shape", r"the output of its forward has shape \(32, 3\), expected \(32, 16\)"),
    ("nan", r"the output of its forward holds NaN or inf values"),
    ("raise", r"its forward raised ZeroDivisionError: oops"),
    ("single", r"its forward must return a pair \(y, cache\), got ndarray"),
    ("missing", r"its backward must return the gradients of \['alpha'\] as a dict, got \[\]"),
    ("grad_shape", r"the gradient of 'alpha' from its backward has shape \(2,\), expected \(16,\)"),
    ("dx_nan", r"dx from its backward holds NaN or inf values"),
])
@pytest.mark.parametrize("kernels", KERNELS)
def test_a_plugin_layers_wrong_result_names_the_layer_path_and_plugin(digits, kind, message, kernels):
    x, y = digits
    forward, backward = _bad(kind)
    tr = MLPTrainer(_plan(prelu(backward, forward)), x.shape[1:], kernels=kernels)
    with pytest.raises(BackendError, match=r"^PReLU \(at model\.layers\[2\], plugin hello\): " + message):
        tr.fit(x, y)


def test_bad_specs_and_initial_values_are_errors_naming_the_layer(digits):
    x, _ = digits
    with pytest.raises(BackendError, match="backward must be a function"):
        NumpyLayerSpec(prelu_forward, None)
    with pytest.raises(BackendError, match="units must be an integer >= 1 or None"):
        NumpyLayerSpec(prelu_forward, prelu_backward, units=0)
    with pytest.raises(BackendError, match="params must be a dict"):
        NumpyLayerSpec(prelu_forward, prelu_backward, params=[1.0])
    spec = prelu()
    spec.params = {"alpha": lambda units, rng: np.full(units, np.nan)}
    with pytest.raises(BackendError, match=r"PReLU \(at model\.layers\[2\], plugin hello\): the initial value of "
                                           r"parameter 'alpha' holds NaN"):
        MLPTrainer(_plan(spec), x.shape[1:])
    flat = NumpyLayerSpec(prelu_forward, prelu_backward, {}, name="Flatless", path="model.layers[0]")
    with pytest.raises(BackendError, match=r"the Flatless layer at model\.layers\[0\] gets inputs of shape \(8, 8\)"):
        MLPTrainer(Plan([flat, FlattenSpec(), DenseSpec(10, "softmax")]), x.shape[1:])


def test_plugin_code_gets_read_only_parameters(digits):
    x, y = digits

    def forward(params, x, training):
        params["alpha"][...] = 0          # a plugin may not write its parameters (the optimizer does)
        return prelu_forward(params, x, training)

    with pytest.raises(BackendError, match=r"its forward raised ValueError: .*read-only"):
        MLPTrainer(_plan(prelu(forward=forward)), x.shape[1:]).fit(x, y)


def test_a_layer_changing_the_width_and_without_parameters(digits):
    x, y = digits

    def forward(params, x, training):
        return np.concatenate([x, x ** 2], axis=1), x

    def backward(params, x, dy):
        n = x.shape[1]
        return dy[:, :n] + 2 * x * dy[:, n:], {}

    square = NumpyLayerSpec(forward, backward, units=32, name="Square")
    tr = MLPTrainer(_plan(square, epochs=2), x.shape[1:])
    assert tr.weighted_layers[1].fan_in == 32 and tr.get_layer_params() == {}
    hist = tr.fit(x, y)
    assert hist[-1]["loss"] < hist[0]["loss"]


# -- the memory pre-check counts a plugin layer's parameters ---------------------------------------------------

BIG = 1_000_000  # one parameter of a million numbers: 8 MB, and as much again per gradient and Adam state


def big_layer():
    """A plugin layer whose parameter (``extra``, unused by its math) dwarfs the model's Dense layers."""
    def backward(params, x, dy):
        dx, grads = prelu_backward(params, x, dy)
        return dx, {**grads, "extra": np.zeros(BIG)}

    spec = NumpyLayerSpec(prelu_forward, backward, {"alpha": lambda units, rng: np.full(units, 0.25),
                                                    "extra": lambda units, rng: np.zeros(BIG)}, name="BigPReLU")
    spec.path, spec.plugin = "model.layers[2]", "hello"
    return spec


@pytest.mark.parametrize("restore", [False, True])
def test_memory_estimate_counts_a_plugin_layers_parameters(restore):
    from mldsl.backends.native.plan import EarlyStoppingSpec

    early = EarlyStoppingSpec(monitor="loss", restore_best_weights=True) if restore else None
    tr = MLPTrainer(_plan(big_layer(), early_stopping=early), (8, 8), kernels="numpy")
    assert tr.num_params > BIG
    arrays = [tr.params, tr.grads, tr.xbuf, tr.ybuf, *tr.optimizer.states] + ([tr._best] if restore else [])
    for layer in tr.layers:
        arrays += [a for a in (layer.out, layer.grad, getattr(layer, "z", None), getattr(layer, "mask", None))
                   if a is not None]
    allocated = sum(a.nbytes for a in arrays)
    assert allocated <= tr.memory_needed <= allocated + 16 * BIG + 1024


def test_the_out_of_memory_precheck_names_a_large_plugin_layer(monkeypatch):
    from mldsl.backends.native import trainer

    plan = _plan(big_layer())
    assert plan.dtype == "float32"
    needed = MLPTrainer(plan, (8, 8), kernels="numpy").memory_needed
    floor = 4 * 4 * BIG                  # parameters, gradients and Adam's two states, float32
    assert needed > floor
    monkeypatch.setattr(trainer, "available_memory", lambda: floor)
    with pytest.raises(BackendError, match=r"the model needs about [\d.]+ MiB of memory .* has 15.3 MiB available "
                                           r"\(the largest layer: BigPReLU, 1,000,016 parameters at model\.layers\[2\]\)"):
        MLPTrainer(plan, (8, 8), kernels="numpy")
