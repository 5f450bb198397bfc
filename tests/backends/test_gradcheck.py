"""The gradient check (``mldsl.backends.native.gradcheck``, ``mldsl.gradcheck``): float64 central differences
against the analytic gradient, parameter by parameter; it passes on the standard layers with every
activation and loss, L2 included, and fails on a broken backward, the kernels' or a plugin's."""
import numpy as np
import pytest

import mldsl
from mldsl.backends.native.gradcheck import DROPOUT_NOTE, THRESHOLD, gradcheck
from mldsl.backends.native.plan import ActivationSpec, DenseSpec, DropoutSpec, NumpyLayerSpec, Plan
from mldsl.errors import BackendError, MldslError
from mldsl.kernels import catalogue, reference

KERNELS = ["cython", "numpy"]


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    return rng.standard_normal((12, 6)), rng.integers(0, 3, 12)


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("loss", sorted(catalogue.LOSSES))
@pytest.mark.parametrize("activation", sorted(catalogue.ACTIVATIONS))
def test_passes_on_dense_with_each_activation_and_loss_with_l2(batch, kernels, loss, activation):
    x, y = batch
    last = "softmax" if catalogue.LOSSES[loss].cross_entropy else "linear"
    plan = Plan([DenseSpec(5, activation, l2=0.01), DenseSpec(3, last, l2=0.002)], loss=loss)
    report = gradcheck(plan, x, y, samples=8, kernels=kernels)
    assert report.passed, [(r.layer, r.param, r.max_rel_error) for r in report.rows]
    assert [(r.layer, r.param) for r in report.rows] == [("layers[0]", "kernel"), ("layers[0]", "bias"),
                                                          ("layers[1]", "kernel"), ("layers[1]", "bias")]
    assert [r.checked for r in report.rows] == [8, 5, 8, 3]


def test_the_l2_term_is_part_of_the_checked_loss(batch, monkeypatch):
    """With the L2 term left out of the NumPy twin's gradient, the check fails: the penalty is in the loss."""
    x, y = batch
    plan = Plan([DenseSpec(5, "tanh", l2=0.5), DenseSpec(3, "softmax")])
    assert gradcheck(plan, x, y, kernels="numpy").passed
    monkeypatch.setattr(reference, "l2_grad", lambda w, dw, l2: None)
    report = gradcheck(plan, x, y, kernels="numpy")
    assert [r.passed for r in report.rows] == [False, True, True, True]


def test_dropout_is_disabled_and_said_so(batch):
    x, y = batch
    with_dropout = gradcheck(Plan([DenseSpec(5, "relu"), DropoutSpec(0.5), DenseSpec(3, "softmax")]), x, y)
    without = gradcheck(Plan([DenseSpec(5, "relu"), DenseSpec(3, "softmax")]), x, y)
    assert with_dropout.passed and with_dropout.notes == [DROPOUT_NOTE]
    assert [r.max_rel_error for r in with_dropout.rows] == [r.max_rel_error for r in without.rows]
    assert with_dropout.loss == without.loss and without.notes == []


@pytest.mark.parametrize("layers", [[DenseSpec(5, "sigmoid")], [DenseSpec(5), ActivationSpec("sigmoid")]],
                         ids=["compiled-step", "per-layer"])
def test_fails_on_a_broken_kernel_backward(batch, monkeypatch, layers):
    x, y = batch
    right = reference.dense_backward

    def broken(x, w, dy, dw, db, dx=None, *args, **kwargs):
        right(x, w, dy, dw, db, dx, *args, **kwargs)
        dw *= 1.001                                # a 0.1% error in every weight gradient

    monkeypatch.setattr(reference, "dense_backward", broken)
    report = gradcheck(Plan(layers + [DenseSpec(3, "softmax")]), x, y, kernels="numpy")
    assert not report.passed
    assert [(r.param, r.passed) for r in report.rows] == [("kernel", False), ("bias", True), ("kernel", False),
                                                          ("bias", True)]
    assert report.worst.param == "kernel" and 1e-4 < report.worst.max_rel_error < 1e-2


def _prelu(backward_bug=None):
    def forward(params, x, training):
        return np.where(x > 0, x, params["alpha"] * x), x

    def backward(params, x, dy):
        neg = x <= 0
        dx = np.where(neg, params["alpha"] * dy, dy)
        dalpha = np.where(neg, x * dy, 0.0).sum(axis=0)
        if backward_bug == "dx":
            dx = np.where(neg, dy, dy)               # forgets alpha in dx
        if backward_bug == "dalpha":
            dalpha = dalpha / len(x)                 # a mean where the sum belongs
        return dx, {"alpha": dalpha}

    spec = NumpyLayerSpec(forward, backward, {"alpha": lambda n, rng: rng.uniform(0.1, 0.5, n)}, name="PReLU")
    spec.path, spec.plugin = "model.layers[1]", "hello"
    return spec


@pytest.mark.parametrize("kernels", KERNELS)
def test_a_plugin_layer_is_checked_and_a_wrong_backward_fails(batch, kernels):
    x, y = batch

    def plan(bug):
        return Plan([DenseSpec(5, l2=0.01), _prelu(bug), DenseSpec(3, "softmax")])

    good = gradcheck(plan(None), x, y, kernels=kernels)
    assert good.passed
    assert [(r.layer, r.type, r.param) for r in good.rows][2] == ("model.layers[1]", "PReLU (plugin hello)", "alpha")
    bad_dx = gradcheck(plan("dx"), x, y, kernels=kernels)
    assert [r.passed for r in bad_dx.rows] == [False, False, True, True, True]   # below the layer: wrong dx
    bad_alpha = gradcheck(plan("dalpha"), x, y, kernels=kernels)
    assert [r.passed for r in bad_alpha.rows] == [True, True, False, True, True]
    assert bad_alpha.worst.type == "PReLU (plugin hello)" and bad_alpha.worst.param == "alpha"


def test_samples_and_settings(batch):
    x, y = batch
    plan = Plan([DenseSpec(40, "tanh"), DenseSpec(3, "softmax")])
    report = gradcheck(plan, x, y, samples=3, seed=1)
    assert [r.checked for r in report.rows] == [3, 3, 3, 3] and [r.size for r in report.rows] == [240, 40, 120, 3]
    again = gradcheck(plan, x, y, samples=3, seed=1)
    assert report.to_dict() == again.to_dict()
    other = gradcheck(plan, x, y, samples=3, seed=2)
    assert [r.worst_index for r in other.rows] != [r.worst_index for r in report.rows]
    d = report.to_dict()
    assert d["dtype"] == "float64" and d["passed"] is True and d["worst"] == max(
        d["params"], key=lambda p: p["max_rel_error"])
    for bad, match in [({"samples": 0}, "samples must be an integer >= 1"), ({"eps": 0.0}, "eps must be > 0"),
                       ({"threshold": -1.0}, "threshold must be > 0")]:
        with pytest.raises(BackendError, match=match):
            gradcheck(plan, x, y, **bad)
    strict = gradcheck(plan, x, y, threshold=1e-14)
    assert not strict.passed


MLX = '''
experiment e = Experiment(
    model = Sequential([Flatten(), Dense(8, activation="relu", kernel_regularizer=L2(0.01)), Dropout(0.3),
                        Dense(10, activation="softmax")]),
    data = Digits(),
    training = { optimizer = SGD(learning_rate=0.1) },
    seed = 3,
)
experiment space = e with { model.layers[1].units = oneof([4, 8]) }
'''


def test_the_python_api_checks_an_experiment():
    module = mldsl.parse(MLX)
    report = mldsl.gradcheck(module["e"], batch=8, samples=4)
    assert report.passed and report.batch == 8 and report.notes == [DROPOUT_NOTE]
    assert [(r.layer, r.param) for r in report.rows] == [
        ("model.layers[1]", "kernel"), ("model.layers[1]", "bias"), ("model.layers[3]", "kernel"),
        ("model.layers[3]", "bias")]
    assert mldsl.gradcheck(module["e"], batch=8, samples=4).to_dict() == report.to_dict()
    reseeded = mldsl.gradcheck(module["e"], batch=8, samples=4, seed=4)
    assert reseeded.loss != report.loss
    with pytest.raises(MldslError, match="not a search space"):
        mldsl.gradcheck(module["space"])
    with pytest.raises(MldslError, match="needs an experiment"):
        mldsl.gradcheck(module["e"].model)
