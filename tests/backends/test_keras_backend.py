"""The Keras backend, run for real on TensorFlow's CPU build with tiny data.

Skipped as a whole when TensorFlow is not installed (except the tests of the "TensorFlow missing" error
and of lazy imports, which need no TensorFlow). GPU tests are marked ``gpu`` and skip without a GPU.
"""
import importlib.util
import math
import os
import subprocess
import sys

import numpy as np
import pytest

os.environ.setdefault("MLDSL_TF_THREADS", "1")  # 2 shared cores: keep TensorFlow's thread pools small
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from mldsl import components as c  # noqa: E402
from mldsl import symbolic as sym  # noqa: E402
from mldsl.backends.base import RunResult, gpu_visible, resolve_backend  # noqa: E402
from mldsl.backends.keras import KerasBackend  # noqa: E402
from mldsl.data import DataSplits  # noqa: E402
from mldsl.errors import BackendError  # noqa: E402
from mldsl.registry import get_registry  # noqa: E402

HAS_TF = importlib.util.find_spec("tensorflow") is not None
needs_tf = pytest.mark.skipif(not HAS_TF, reason='TensorFlow is not installed (pip install "mldsl[keras]")')


def R(name):
    return get_registry().resolve(name)


def experiment(layers, *, data=None, epochs=1, batch_size=None, optimizer=None, loss=None, metric=None,
               validation_split=0.0, callbacks=(), seed=0):
    data = data if data is not None else R("Synthetic")(num_samples=40, input_shape=[6], num_classes=3)
    training = {"num_epochs": epochs, "batch_size": batch_size or 1000, "validation_split": validation_split,
                "callbacks": list(callbacks), "optimizer": optimizer or R("SGD")(learning_rate=0.1)}
    if loss is not None:
        training["loss"] = loss
    evaluation = {"metric": metric} if metric is not None else {}
    return R("Experiment")(model=R("Sequential")(list(layers)), data=data, training=training,
                           evaluation=evaluation, seed=seed, backend="keras")


def images(n=24, classes=3):
    return R("Synthetic")(num_samples=n, input_shape=[8, 8], num_classes=classes)


def one_step(exp):
    """Runs ``exp`` (one epoch, one batch) and checks the result is a finite, well-formed RunResult."""
    result = KerasBackend().run(exp)
    assert isinstance(result, RunResult) and result.backend == "keras"
    assert len(result.history) == 1
    assert all(math.isfinite(v) for v in result.history[0].values())
    assert all(math.isfinite(v) for v in result.metrics.values())
    return result


# -- no TensorFlow needed ---------------------------------------------------------------------------------

def test_importing_mldsl_and_the_backend_does_not_import_tensorflow():
    code = ("import sys, mldsl, mldsl.backends.keras\n"
            "from mldsl.backends.keras import KerasBackend, export_weights, LoweringContext\n"
            "from mldsl.registry import get_registry\n"
            "reg = get_registry(); b = reg.backend('keras'); b.available(); reg.lowerings('keras')\n"
            "assert isinstance(b, KerasBackend)\n"
            "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_tensorflow_missing_is_a_clear_error(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name.split(".")[0] == "tensorflow" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    backend = KerasBackend()
    problem = backend.available()
    assert problem and 'pip install "mldsl[keras]"' in problem
    with pytest.raises(BackendError, match=r'pip install "mldsl\[keras\]"'):
        backend.run(experiment([R("Dense")(3, activation="softmax")]))

    class Reg:
        def backend(self, name):
            return backend

    with pytest.raises(BackendError, match=r"backend 'keras' cannot run here: .*mldsl\[keras\]"):
        resolve_backend("keras", Reg())


def test_every_std_component_has_a_keras_lowering():
    reg = get_registry()
    std = {n for n in reg.names() if reg.kind_of(n) not in ("dataset", "experiment")}
    lowered = {getattr(cls, "type_name", None) for cls in reg.lowerings("keras")}
    assert std <= lowered, std - lowered  # contributed by plugins/mldsl_std/backends.py through mldsl_lowerings


# -- lowering -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keras():
    if not HAS_TF:
        pytest.skip("TensorFlow is not installed")
    from mldsl.backends.keras._runtime import import_keras

    return import_keras()[1]


@pytest.fixture
def lower(keras):
    from mldsl.backends.keras.lowering import LoweringContext

    def lower(component, **kwargs):
        ctx = LoweringContext(keras, input_shape=kwargs.pop("input_shape", (6,)), num_classes=3,
                              registry=get_registry())
        return ctx.lower(component)

    return lower


def test_hyperparameters_reach_keras(lower, keras):
    sgd = lower(R("SGD")(learning_rate=0.5, momentum=0.9, nesterov=True))
    assert isinstance(sgd, keras.optimizers.SGD) and sgd.nesterov and sgd.momentum == pytest.approx(0.9)
    assert float(sgd.learning_rate) == pytest.approx(0.5)
    adam = lower(R("Adam")(learning_rate=0.002, beta_1=0.8, beta_2=0.99, epsilon=1e-6))
    assert (adam.beta_1, adam.beta_2, adam.epsilon) == pytest.approx((0.8, 0.99, 1e-6))
    rms = lower(R("RMSprop")(learning_rate=0.01, rho=0.8, momentum=0.5, epsilon=1e-5))
    assert (rms.rho, rms.momentum, rms.epsilon) == pytest.approx((0.8, 0.5, 1e-5))
    ada = lower(R("Adagrad")(learning_rate=0.01, initial_accumulator_value=0.2, epsilon=1e-5))
    assert (ada.initial_accumulator_value, ada.epsilon) == pytest.approx((0.2, 1e-5))
    es = lower(R("EarlyStopping")(monitor="val_accuracy", patience=3, min_delta=0.01, mode="max",
                                  restore_best_weights=True))
    assert (es.monitor, es.patience, es.min_delta, es.restore_best_weights) == ("val_accuracy", 3, 0.01, True)
    assert lower(R("L2")(0.05)).l2 == pytest.approx(0.05)
    dense, elu = lower(R("Dense")(7, activation=R("ELU")(0.5), use_bias=False, kernel_regularizer=R("L2")(0.1)))
    assert dense.units == 7 and not dense.use_bias and dense.kernel_regularizer.l2 == pytest.approx(0.1)
    assert isinstance(elu, keras.layers.ELU) and elu.alpha == pytest.approx(0.5)
    (leaky,) = lower(R("Activation")(R("LeakyReLU")(negative_slope=0.1)))
    assert leaky.negative_slope == pytest.approx(0.1)
    (conv,) = lower(R("Conv2D")(4, [3, 2], strides=[2, 1], padding="same"))
    assert (conv.filters, conv.kernel_size, conv.strides, conv.padding) == (4, (3, 2), (2, 1), "same")
    pool = lower(R("MaxPooling2D")(pool_size=3, strides=1, padding="same"))
    assert (pool.pool_size, pool.strides, pool.padding) == ((3, 3), (1, 1), "same")
    bn = lower(R("BatchNormalization")(momentum=0.9, epsilon=0.01))
    assert (bn.momentum, bn.epsilon) == pytest.approx((0.9, 0.01))
    drop = lower(R("Dropout")(0.25, seed=3))
    assert drop.rate == pytest.approx(0.25)
    assert lower(R("SparseCategoricalCrossentropy")(from_logits=True)).from_logits
    assert lower(R("SparseCategoricalAccuracy")(name="acc")).name == "acc"


def test_unknown_component_names_it_and_lists_what_keras_runs(keras):
    @sym.members([("units", sym.typing.Int(min_value=1), "Units.")])
    class Mystery(c.Layer):
        """A layer no backend knows."""

        type_name = "tests.Mystery"

    exp = experiment([R("Dense")(4), Mystery(3)])
    with pytest.raises(BackendError) as err:
        KerasBackend().run(exp)
    text = str(err.value)
    assert "tests.Mystery" in text and "model.layers[1]" in text
    assert "Dense" in text and "Conv2D" in text and "EarlyStopping" in text


def test_a_plugin_lowering_from_the_registry_is_used(keras):
    from mldsl import hookimpl
    from mldsl.registry import build_registry

    @sym.members([("units", sym.typing.Int(min_value=1), "Units.")])
    class Doubled(c.Layer):
        """Dense, then times two."""

        type_name = "tests.Doubled"

    calls = []

    class Plugin:
        @hookimpl
        def mldsl_components(self):
            return [Doubled]

        @hookimpl
        def mldsl_lowerings(self, backend):
            if backend != "keras":
                return None

            def lower(component):  # the one-argument form: imports Keras itself
                import keras as k
                calls.append(component.units)
                return [k.layers.Dense(component.units), k.layers.Rescaling(2.0)]

            return {Doubled: lower}

    registry = build_registry(plugins=[("tests_doubled", Plugin())])
    assert registry.lowering("keras", Doubled) is not None
    exp = experiment([Doubled(5), R("Dense")(3, activation="softmax")])
    result = KerasBackend(registry=registry).run(exp)
    assert calls == [5]
    assert [type(layer).__name__ for layer in result.model.layers] == ["Dense", "Rescaling", "Dense"]


# -- training -------------------------------------------------------------------------------------------

def test_image_layers_train_one_step_on_hw_data(keras):
    layers = [R("Conv2D")(4, 3, padding="same", activation="relu"), R("BatchNormalization")(),
              R("SeparableConv2D")(4, [3, 3], activation=R("ReLU")()), R("MaxPooling2D")(),
              R("Flatten")(), R("Dropout")(0.2), R("Dense")(8, kernel_regularizer=R("L2")(0.01)),
              R("Activation")(R("PReLU")()), R("Dense")(3, activation="softmax")]
    result = one_step(experiment(layers, data=images()))
    model = result.model
    assert model.input_shape == (None, 8, 8, 1)  # channel axis added to (n, h, w) data
    assert [type(l).__name__ for l in model.layers] == [
        "Conv2D", "BatchNormalization", "SeparableConv2D", "ReLU", "MaxPooling2D", "Flatten", "Dropout",
        "Dense", "PReLU", "Dense"]


def test_activation_components_train_one_step(keras):
    acts = [R("ReLU")(), R("ELU")(0.5), R("LeakyReLU")(0.1), R("PReLU")(), R("Sigmoid")(), R("Tanh")(),
            R("GELU")(), R("GELU")(approximate=True), R("Swish")()]
    layers = [R("Dense")(4, activation=a) for a in acts] + [R("Dense")(3), R("Activation")(R("Softmax")())]
    result = one_step(experiment(layers))
    names = [type(l).__name__ for l in result.model.layers]
    assert names.count("Dense") == 10
    assert {"ReLU", "ELU", "LeakyReLU", "PReLU", "ApproximateGELU", "Softmax"} <= set(names)


def test_string_activations_train_one_step(keras):
    names = ["linear", "relu", "elu", "leaky_relu", "sigmoid", "tanh", "gelu", "swish"]
    layers = [R("Flatten")()] + [R("Dense")(4, activation=a) for a in names] + [R("Dense")(3, activation="softmax")]
    result = one_step(experiment(layers, data=images()))
    acts = [l.activation.__name__ for l in result.model.layers[1:]]
    assert acts == [a.replace("swish", "silu") for a in names] + ["softmax"]  # Keras: swish is silu


def test_dense_on_unflattened_images_says_to_add_flatten(keras):
    with pytest.raises(BackendError, match=r"output has shape \(8, 3\) per example.*put a Flatten\(\) layer"):
        KerasBackend().run(experiment([R("Dense")(3, activation="softmax")], data=images()))


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_optimizers_train_one_step(keras, optimizer):
    exp = experiment([R("Dense")(3, activation="softmax")], optimizer=R(optimizer)(learning_rate=0.05))
    before = KerasBackend().prepare(exp).model.get_weights()
    result = one_step(exp)
    after = result.model.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(before, after))  # the step changed the weights


@pytest.mark.parametrize("loss,metric,units,last,keras_metric", [
    ("CategoricalCrossentropy", "SparseCategoricalAccuracy", 3, "softmax", "CategoricalAccuracy"),
    ("MeanSquaredError", "Accuracy", 3, "softmax", "CategoricalAccuracy"),      # one-hot targets
    ("MeanSquaredError", "Accuracy", 1, None, "Accuracy"),                      # the label as a number
    ("SparseCategoricalCrossentropy", "Accuracy", 3, None, "SparseCategoricalAccuracy"),  # from_logits
])
def test_losses_and_metrics_train_one_step(keras, loss, metric, units, last, keras_metric):
    loss_c = R(loss)(from_logits=True) if loss.endswith("Crossentropy") and last is None else R(loss)()
    exp = experiment([R("Dense")(units, activation=last)], loss=loss_c, metric=R(metric)(name="acc"))
    result = one_step(exp)
    assert set(result.metrics) == {"loss", "acc"} and 0.0 <= result.metrics["acc"] <= 1.0
    assert [type(m).__name__ for m in result.model.metrics[1].metrics] == [keras_metric]


def test_history_and_metrics_follow_the_run_result_contract(keras):
    seen = []
    exp = experiment([R("Dense")(8, activation="relu"), R("Dense")(3, activation="softmax")],
                     data=R("Synthetic")(num_samples=60, input_shape=[6], num_classes=3), epochs=3,
                     batch_size=16, validation_split=0.25)
    result = KerasBackend().run(exp, on_epoch=lambda epoch, logs: seen.append((epoch, dict(logs))))
    keys = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"]
    assert [list(row) for row in result.history] == [keys] * 3
    assert [row["epoch"] for row in result.history] == [1, 2, 3]
    assert all(isinstance(v, (int, float)) and math.isfinite(v) for row in result.history for v in row.values())
    assert [{"epoch": e, **logs} for e, logs in seen] == result.history
    assert set(result.metrics) == {"loss", "accuracy"} and not result.stopped_early
    assert result.history[-1]["loss"] < result.history[0]["loss"]


def test_same_seed_same_result_other_seed_other_result(keras):
    layers = [R("Dense")(8, activation="relu"), R("Dropout")(0.3), R("Dense")(3, activation="softmax")]
    runs = [KerasBackend().run(experiment(layers, epochs=2, batch_size=8, seed=s)).history for s in (1, 1, 2)]
    assert runs[0][-1]["loss"] == runs[1][-1]["loss"]
    assert runs[0][-1]["loss"] != runs[2][-1]["loss"]


def test_early_stopping_stops(keras):
    stop = R("EarlyStopping")(monitor="loss", patience=0, min_delta=10.0)  # never improves by 10
    result = KerasBackend().run(experiment([R("Dense")(3, activation="softmax")], epochs=20, callbacks=[stop]))
    assert len(result.history) == 2 and result.stopped_early


def test_on_epoch_returning_false_stops(keras):
    result = KerasBackend().run(experiment([R("Dense")(3, activation="softmax")], epochs=20),
                                on_epoch=lambda epoch, logs: epoch < 2)
    assert len(result.history) == 2 and result.stopped_early


@sym.members([])
class NanData(c.Dataset):
    """Features with a NaN in them: the loss becomes NaN in the first step."""

    type_name = "tests.NanData"

    def load(self):
        rng = np.random.default_rng(0)
        x = rng.standard_normal((20, 4)).astype(np.float32)
        x[3, 1] = np.nan
        y = np.arange(20) % 2
        return DataSplits(x[:16], y[:16], x[16:], y[16:], 2)


def test_nan_loss_is_an_actionable_error(keras):
    exp = experiment([R("Dense")(2, activation="softmax")], data=NanData(), epochs=5)
    with pytest.raises(BackendError, match=r"diverged: loss became nan in epoch 1\. Lower "
                                           r"training\.optimizer\.learning_rate \(now 0\.1, try 0\.01\)"):
        KerasBackend().run(exp)


def test_wrong_number_of_outputs_says_how_to_fix_it(keras):
    with pytest.raises(BackendError, match=r"outputs 2 values .* 3 classes; .*Dense\(3, \.\.\.\)"):
        KerasBackend().run(experiment([R("Dense")(2, activation="softmax")]))


# -- saving and weights ---------------------------------------------------------------------------------

def test_save_model_round_trips(keras, tmp_path):
    from mldsl.backends.keras import load_model, load_weights

    exp = experiment([R("Dense")(5, activation=R("GELU")(approximate=True)), R("Dense")(3, activation="softmax")])
    backend = KerasBackend()
    result = backend.run(exp)
    path = backend.save_model(result.model, tmp_path / "model")
    assert path.name == "model.keras" and path.exists()
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    again = load_model(tmp_path / "model")
    np.testing.assert_allclose(again.predict(x, verbose=0), result.model.predict(x, verbose=0), rtol=1e-6)
    weights = load_weights(tmp_path / "model" / "weights.npz")
    assert [w["kernel"].shape for w in weights] == [(6, 5), (5, 3)]


def test_weights_export_import_round_trip_and_mismatch(keras, tmp_path):
    from mldsl.backends.keras import export_weights, import_weights, load_weights, save_weights

    layers = [R("Flatten")(), R("Dense")(5, activation="relu"), R("Dropout")(0.5),
              R("Dense")(3, activation="softmax", use_bias=False)]
    first = KerasBackend().prepare(experiment(layers, seed=1)).model
    second = KerasBackend().prepare(experiment(layers, seed=2)).model
    exported = export_weights(first)
    assert [(w["kernel"].shape, None if w["bias"] is None else w["bias"].shape) for w in exported] == [
        ((6, 5), (5,)), ((5, 3), None)]
    save_weights(exported, tmp_path / "w.npz")
    import_weights(second, tmp_path / "w.npz")
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    np.testing.assert_array_equal(first.predict(x, verbose=0), second.predict(x, verbose=0))
    assert sorted(np.load(tmp_path / "w.npz").files) == ["bias_0", "kernel_0", "kernel_1"]
    assert len(load_weights(tmp_path / "w.npz")) == 2
    with pytest.raises(BackendError, match="Dense layer 0 .* kernel of shape \\(6, 5\\) .* \\(6, 4\\)"):
        import_weights(second, [{"kernel": np.zeros((6, 4)), "bias": np.zeros(4)}, exported[1]])
    with pytest.raises(BackendError, match="2 Dense layers but the weights hold 1"):
        import_weights(second, exported[:1])


# -- GPU (only where one is visible) --------------------------------------------------------------------

def _tf_gpus():
    if not (HAS_TF and gpu_visible()):
        return []
    from mldsl.backends.keras._runtime import import_keras

    return import_keras()[0].config.list_physical_devices("GPU")


@pytest.mark.gpu
def test_trains_on_the_gpu_when_one_is_visible():
    if not _tf_gpus():
        pytest.skip("no GPU visible to TensorFlow")
    result = KerasBackend().run(experiment([R("Dense")(8, activation="relu"), R("Dense")(3, activation="softmax")],
                                           epochs=2))
    assert "GPU" in result.model.layers[0].kernel.value.device.upper()
    assert all(math.isfinite(v) for v in result.metrics.values())


def test_the_engine_runs_it_records_history_and_saves_the_model(keras, tmp_path):
    from mldsl.engine.runner import run_experiment
    from mldsl.engine.store import Store

    exp = experiment([R("Dense")(4, activation="relu"), R("Dense")(3, activation="softmax")], epochs=2,
                     validation_split=0.2)
    with Store(tmp_path / "mldsl.db") as store:
        outcome = run_experiment(exp, name="tiny", store=store, backend="keras")
    assert outcome.record.status == "completed" and outcome.record.backend == "keras"
    assert outcome.record.history == outcome.result.history and len(outcome.record.history) == 2
    assert (outcome.artifacts / "model" / "model.keras").exists()
    assert (outcome.artifacts / "model" / "weights.npz").exists()
