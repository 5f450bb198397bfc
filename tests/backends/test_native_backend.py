"""The native backend on symbolic experiments: lowering of the standard components, run, errors."""
import numpy as np
import pytest

from mldsl.errors import BackendError

mldsl = pytest.importorskip("mldsl")


def _experiment(model="Sequential([Flatten(), Dense(32, activation=\"relu\"), Dropout(0.1), "
                      "Dense(10, activation=\"softmax\")])", training="", seed=0,
                optimizer="Adam(learning_rate=0.005)"):
    text = (f"experiment e = Experiment(model = {model}, data = Digits(), "
            f"training = {{batch_size = 32, num_epochs = 3, optimizer = {optimizer} {training}}}, "
            f"seed = {seed})")
    return mldsl.parse(text)["e"]


@pytest.fixture(scope="module")
def backend():
    from mldsl.registry import get_registry
    b = get_registry().backend("native")
    assert type(b).__name__ == "NativeBackend" and b.name == "native" and b.available() is None
    return b


@pytest.mark.parametrize("kernels", ["cython", "numpy"])
def test_runs_a_digits_experiment(kernels):
    from mldsl.backends.native import NativeBackend
    epochs = []
    res = NativeBackend(kernels=kernels).run(_experiment(training=", validation_split = 0.1"),
                                             on_epoch=lambda e, logs: epochs.append((e, sorted(logs))))
    assert res.backend == "native" and res.metrics["accuracy"] > 0.85
    assert set(res.metrics) == {"loss", "accuracy"}
    assert [e for e, _ in epochs] == [1, 2, 3]
    assert epochs[0][1] == ["accuracy", "epoch", "loss", "seconds", "val_accuracy", "val_loss"]
    assert not res.stopped_early


def test_same_seed_same_metrics(backend):
    a, b = backend.run(_experiment(seed=4)), backend.run(_experiment(seed=4))
    assert a.metrics == b.metrics


def test_lowering_of_standard_components(backend):
    e = _experiment(model="Sequential([Flatten(), Dense(16, activation=ELU(alpha=0.5), kernel_regularizer=L2(0.02)), "
                          "Dense(16, activation=LeakyReLU()), Activation(GELU(approximate=True)), "
                          "Dense(10, activation=\"softmax\", use_bias=False)])",
                    optimizer="SGD(learning_rate=0.1, momentum=0.9, nesterov=True)",
                    training=", validation_split = 0.2, callbacks = [EarlyStopping(monitor=\"val_accuracy\", patience=1)]")
    plan = backend.plan(e)
    d0, d1, act, d2 = plan.layers[1:]
    assert (d0.activation, d0.alpha, d0.l2) == ("elu", 0.5, 0.02)
    assert (d1.activation, d1.alpha) == ("leaky_relu", 0.3)          # Keras' LeakyReLU layer default
    assert act.activation == "gelu_tanh" and d2.use_bias is False
    assert plan.optimizer.name == "sgd" and plan.optimizer.hyper["nesterov"] is True
    assert plan.early_stopping.monitor == "val_accuracy" and plan.early_stopping.direction == "max"
    assert (plan.batch_size, plan.epochs, plan.validation_split) == (32, 3, 0.2)
    res = backend.run(e)
    assert res.metrics["accuracy"] > 0.5


def test_unsupported_component_is_named_with_alternatives(backend):
    e = _experiment(model="Sequential([Conv2D(8, 3), Flatten(), Dense(10, activation=\"softmax\")])")
    with pytest.raises(BackendError, match=r"cannot run layer Conv2D \(at model\.layers\[0\]\); it runs Activation, "
                                           r"Dense, Dropout, Flatten\. Use --backend keras"):
        backend.run(e)
    e = _experiment(model="Sequential([Flatten(), Dense(10, activation=PReLU())])")
    with pytest.raises(BackendError, match="cannot run activation PReLU"):
        backend.plan(e)


def test_save_model_writes_the_shared_weight_format(backend, tmp_path):
    res = backend.run(_experiment())
    path = backend.save_model(res.model, tmp_path / "m")
    with np.load(path) as z:
        assert sorted(z.files) == ["bias_0", "bias_1", "kernel_0", "kernel_1"]
        assert z["kernel_0"].shape == (64, 32) and z["bias_1"].shape == (10,)


@pytest.mark.parametrize("regularizer, factors", [("L1(0.03)", (0.03, 0.0)), ("L1()", (0.01, 0.0)),
                                                  ("L2()", (0.0, 0.01)), ("L1L2(l1=0.01, l2=0.02)", (0.01, 0.02)),
                                                  ("L1L2()", (0.0, 0.0))])
def test_regularizers_lower_to_the_factors_of_one_penalty(backend, regularizer, factors):
    """Keras' names and defaults (L1(l1=0.01), L2(l2=0.01), L1L2(l1=0.0, l2=0.0)) as the Dense layer's l1/l2."""
    e = _experiment(model=f"Sequential([Flatten(), Dense(10, activation=\"softmax\", kernel_regularizer={regularizer})])")
    dense = backend.plan(e).layers[1]
    assert (dense.l1, dense.l2) == factors


def test_l1_raises_the_loss_it_reports(backend):
    """The same weights with and without L1: the training loss differs by l1 * sum(|W|) of the kernel."""
    from mldsl.backends.native.trainer import MLPTrainer
    plain = backend.plan(_experiment(model="Sequential([Flatten(), Dense(10, activation=\"softmax\")])"))
    l1 = backend.plan(_experiment(model="Sequential([Flatten(), Dense(10, activation=\"softmax\", "
                                        "kernel_regularizer=L1(0.05))])"))
    x, y = np.random.default_rng(0).standard_normal((16, 64)).astype(np.float32), np.arange(16) % 10
    a, b = MLPTrainer(plain, (64,)), MLPTrainer(l1, (64,))
    b.set_weights(a.get_weights())
    W = a.dense_layers[0].W
    assert b.gradients(x, y)[0] - a.gradients(x, y)[0] == pytest.approx(0.05 * np.abs(W).sum(), rel=1e-4)


@pytest.mark.parametrize("source, message", [("L1(-0.1)", "out of range"), ("L1L2(l2=inf)", "not a finite number"),
                                             ("L1(l1=nan)", "not a number"), ("L1L2(l1=-1.0)", "out of range")])
def test_bad_factors_are_located_errors(source, message):
    text = f"let r = {source}\n"
    with pytest.raises(mldsl.MlxError, match=message) as info:
        mldsl.parse(text, filename="reg.mlx")
    assert str(info.value).startswith("reg.mlx:1:")


@pytest.mark.parametrize("field, value", [("l1", -0.5), ("l1", float("inf")), ("l2", -1.0)])
def test_dense_spec_refuses_bad_factors(field, value):
    from mldsl.backends.native.plan import DenseSpec
    with pytest.raises(BackendError, match=f"Dense {field} must be a finite number >= 0"):
        DenseSpec(4, **{field: value})
