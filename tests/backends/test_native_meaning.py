"""The native backend runs the model Keras would run, or refuses it naming the component; ``backend="auto"``
follows its documented rule; a run says when it diverged or when a model is too big. No TensorFlow needed
(the agreement with Keras itself is tests/backends/test_backends_differential.py)."""
import importlib.util
import math

import numpy as np
import pytest

import mldsl
from mldsl.backends import base
from mldsl.backends.native import NativeBackend
from mldsl.backends.native.plan import (ActivationSpec, DenseSpec, DropoutSpec, FlattenSpec, OptimizerSpec, Plan,
                                        output_head)
from mldsl.backends.native.trainer import MLPTrainer
from mldsl.errors import BackendError
from mldsl.registry import get_registry


def R(name):
    return get_registry().resolve(name)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# -- issue 14, item 1: a relu Dense before a separate softmax -----------------------------------------------------

@pytest.mark.parametrize("kernels", ["cython", "numpy"])
def test_relu_before_a_separate_softmax_is_kept(kernels):
    """Issue 14's model: the softmax is fused into the loss and the relu Dense before it stays a relu (the
    trainer used to make it linear); predict() is softmax(relu(x W + b))."""
    plan = Plan([FlattenSpec(), DenseSpec(32, "relu"), DenseSpec(10, "relu"), ActivationSpec("softmax")],
                dtype="float64")
    tr = MLPTrainer(plan, (8, 8), kernels=kernels)
    assert [l.activation for l in tr.layers] == ["relu", "relu"] and tr.probs_softmax
    x = np.random.default_rng(0).random((5, 8, 8))
    (w0, b0), (w1, b1) = [(w["kernel"], w["bias"]) for w in tr.get_weights()]
    h = np.maximum(x.reshape(5, 64) @ w0 + b0, 0)
    want = softmax(np.maximum(h @ w1 + b1, 0))
    np.testing.assert_allclose(tr.predict(x), want, rtol=1e-10)
    y = np.arange(5)
    want_loss = -np.log(want[np.arange(5), y]).mean()
    assert tr.evaluate(x, y)["loss"] == pytest.approx(want_loss, rel=1e-10)


# -- how cross-entropy reads the outputs (Keras' rule) -----------------------------------------------------------

def _dense(act="linear", path=""):
    return DenseSpec(3, act, path=path)


@pytest.mark.parametrize("layers, from_logits, ran, fused", [
    ([_dense("softmax")], False, ["linear"], True),
    ([_dense("relu"), ActivationSpec("softmax")], False, ["relu"], True),
    ([_dense("tanh"), ActivationSpec("softmax"), ActivationSpec("linear"), DropoutSpec(0.0)], False, ["tanh"], True),
    ([_dense("softmax"), ActivationSpec("softmax")], False, ["softmax"], True),    # softmax of a softmax
    ([_dense("softmax")], True, ["linear"], True),                                   # Keras ignores from_logits
    ([_dense("relu")], True, ["relu"], False),                                       # the outputs are the logits
    ([_dense("softmax"), ActivationSpec("relu")], True, ["softmax", "relu"], False),
    ([_dense("softmax"), FlattenSpec()], True, ["softmax", "Flatten"], False),     # Flatten breaks Keras' link
    ([_dense("linear"), DropoutSpec(0.3)], True, ["linear", "Dropout"], False),
], ids=["dense-softmax", "relu-then-softmax-layer", "identities-after-softmax", "softmax-twice", "from-logits-softmax",
        "from-logits-relu", "relu-after-softmax", "flatten-after-softmax", "dropout-on-logits"])
def test_cross_entropy_reads_the_outputs_as_keras_does(layers, from_logits, ran, fused):
    head = output_head(layers, "sparse_categorical_crossentropy", from_logits)
    assert [getattr(s, "activation", type(s).__name__.replace("Spec", "")) for s in head.layers] == ran
    assert head.softmax is fused
    assert bool(head.warnings) == (from_logits and fused)


@pytest.mark.parametrize("layers, from_logits, message", [
    ([_dense("sigmoid", "model.layers[1]")], False, r"ends in sigmoid \(at model\.layers\[1\]\): Keras would take"),
    ([_dense("sigmoid", "model.layers[1]")], True, r"ends in sigmoid \(at model\.layers\[1\]\)"),
    ([_dense("softmax", "model.layers[0]"), DropoutSpec(0.2)], False,
     r"last softmax \(at model\.layers\[0\]\) is followed by Dropout"),
    ([_dense("relu", "model.layers[2]")], False,
     r"from_logits=False takes the model's outputs as probabilities, but the model ends in activation 'relu' "
     r"\(at model\.layers\[2\]\)"),
    ([_dense("softmax"), FlattenSpec(path="model.layers[4]")], False, r"ends in Flatten \(at model\.layers\[4\]\)"),
], ids=["sigmoid", "sigmoid-from-logits", "dropout-after-softmax", "probabilities-from-relu", "flatten-after-softmax"])
def test_what_native_cannot_reproduce_is_refused_naming_the_layer(layers, from_logits, message):
    for loss in ("sparse_categorical_crossentropy", "categorical_crossentropy"):
        with pytest.raises(BackendError, match=message):
            Plan(layers, loss=loss, from_logits=from_logits)
    Plan(layers, loss="mse")                                   # mean squared error reads the outputs as they are


def _experiment(model, loss="SparseCategoricalCrossentropy()", optimizer="Adam(learning_rate=0.01)", epochs=2,
                backend="auto"):
    text = (f"experiment e = Experiment(model = Sequential([{model}]), data = Digits(), training = "
            f"{{num_epochs = {epochs}, loss = {loss}, optimizer = {optimizer}}}, backend = \"{backend}\")")
    return mldsl.parse(text)["e"]


def test_refusal_from_a_whole_experiment_names_the_component_path():
    e = _experiment('Flatten(), Dense(10, activation=Sigmoid())')
    with pytest.raises(BackendError, match=r"ends in sigmoid \(at model\.layers\[1\]\)"):
        NativeBackend().plan(e)
    assert "(at model.layers[1])" in NativeBackend().unsupported(e)[0]


def test_from_logits_with_a_softmax_trains_as_keras_does_and_says_so():
    e = _experiment('Flatten(), Dense(10, activation="softmax")',
                    loss="SparseCategoricalCrossentropy(from_logits=true)")
    res = NativeBackend().run(e)
    assert res.metrics["accuracy"] > 0.8
    assert len(res.warnings) == 1 and "Keras ignores from_logits" in res.warnings[0]
    assert "model.layers[1]" in res.warnings[0]


def test_mse_on_class_labels_uses_one_hot_targets_and_argmax_accuracy():
    """As the Keras backend compiles it: one-hot targets and CategoricalAccuracy for several outputs."""
    e = _experiment('Flatten(), Dense(32, activation="relu"), Dense(10, activation="softmax")',
                    loss="MeanSquaredError()", epochs=8)
    res = NativeBackend().run(e)
    assert res.metrics["accuracy"] > 0.8
    assert res.history[-1]["loss"] < 0.05


# -- issue 14, item 2: backend="auto" -----------------------------------------------------------------------------

@pytest.fixture
def cpu_with_tensorflow(monkeypatch):
    monkeypatch.setattr(base, "tensorflow_installed", lambda: True)
    monkeypatch.setattr(base, "gpu_visible", lambda: False)


def test_auto_picks_native_when_it_runs_every_component(cpu_with_tensorflow):
    backend, reason = base.choose_backend("auto", _experiment('Flatten(), Dense(10, activation="softmax")'),
                                          get_registry())
    assert backend.name == "native"
    assert reason == "auto: native (no GPU visible; native runs every component)"


@pytest.mark.parametrize("model, names", [
    ("Conv2D(4, 3), Flatten(), Dense(10, activation=\"softmax\")", "native cannot run Conv2D at model.layers[0]"),
    ("Flatten(), Dense(8, activation=PReLU()), Dense(10, activation=\"softmax\")",
     "native cannot run PReLU at model.layers[1].activation"),
    ("Flatten(), Dense(10, activation=\"sigmoid\")", "ends in sigmoid (at model.layers[1])"),
])
def test_auto_picks_keras_on_a_cpu_when_native_cannot_run_a_component(cpu_with_tensorflow, model, names):
    backend, reason = base.choose_backend("auto", _experiment(model), get_registry())
    assert backend.name == "keras"
    assert reason.startswith("auto: keras (no GPU visible, but ") and names in reason


def test_a_setting_wrong_on_any_backend_is_reported_not_sent_to_keras(cpu_with_tensorflow):
    e = _experiment('Flatten(), Dense(10, activation="softmax")')
    e.rebind({"training.callbacks": [R("EarlyStopping")(monitor="val_loss")]})
    with pytest.raises(BackendError, match="EarlyStopping monitors 'val_loss'.* but there is no validation data"):
        base.choose_backend("auto", e, get_registry())


@pytest.mark.parametrize("backend", ["native", pytest.param("keras", marks=pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="TensorFlow is not installed"))])
@pytest.mark.parametrize("monitor, message", [
    ("test_loss", r"'test_loss' \(at training.callbacks\[0\]\), a quantity of the test split .* monitor 'val_loss'"),
    ("val_acuracy", r"'val_acuracy' \(at training.callbacks\[0\]\), which this run does not log; did you mean "
                    r"'val_accuracy'"),
])
def test_both_backends_refuse_a_monitor_early_stopping_cannot_read(backend, monitor, message):
    # Keras itself fails on them only once training starts, with its own words (or never stops)
    e = _experiment('Flatten(), Dense(10, activation="softmax")', backend=backend)
    e.rebind({"training.callbacks": [R("EarlyStopping")(monitor=monitor)], "training.validation_split": 0.2,
              "training.eval_every": 1})
    with pytest.raises(BackendError, match="EarlyStopping monitors " + message):
        if backend == "native":
            NativeBackend().run(e)
        else:
            from mldsl.backends.keras import KerasBackend

            KerasBackend().run(e)


def test_auto_picks_keras_when_a_gpu_is_visible(monkeypatch):
    monkeypatch.setattr(base, "tensorflow_installed", lambda: True)
    monkeypatch.setattr(base, "gpu_visible", lambda: True)
    backend, reason = base.choose_backend("auto", _experiment('Flatten(), Dense(10, activation="softmax")'),
                                          get_registry())
    assert backend.name == "keras" and reason == "auto: keras (a GPU is visible and TensorFlow is installed)"


def test_auto_without_tensorflow_names_the_component_and_the_extra(monkeypatch):
    monkeypatch.setattr(base, "tensorflow_installed", lambda: False)
    with pytest.raises(BackendError, match=r"native cannot run Conv2D at model\.layers\[0\].*"
                                           r"pip install \"mldsl\[keras\]\""):
        base.choose_backend("auto", _experiment("Conv2D(4, 3), Flatten(), Dense(10)"), get_registry())
    backend, reason = base.choose_backend("auto", _experiment('Flatten(), Dense(10, activation="softmax")'),
                                          get_registry())
    assert backend.name == "native"


def test_explicit_backend_is_taken_as_is(cpu_with_tensorflow):
    backend, reason = base.choose_backend("native", _experiment("Conv2D(4, 3), Flatten(), Dense(10)"), get_registry())
    assert backend.name == "native" and reason == "native (requested)"


def test_the_engine_stores_the_choice_on_the_result(cpu_with_tensorflow):
    from mldsl.engine.runner import run_experiment
    out = run_experiment(_experiment('Flatten(), Dense(10, activation="softmax")', epochs=1), name="e")
    assert out.result.backend == "native"
    assert out.result.backend_reason == "auto: native (no GPU visible; native runs every component)"


def test_choosing_imports_no_tensorflow():
    import subprocess
    import sys
    code = ("import sys, mldsl\nfrom mldsl.registry import get_registry\n"
            "e = mldsl.parse('experiment e = Experiment(model = Sequential([Conv2D(4, 3), Flatten(), Dense(10)]), "
            "data = Digits())')['e']\n"
            "reasons = get_registry().backend('native').unsupported(e)\n"
            "assert reasons == ['native cannot run Conv2D at model.layers[0]'], reasons\n"
            "assert 'tensorflow' not in sys.modules and 'numpy' not in sys.modules, sorted(sys.modules)\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_every_candidate_a_backend_cannot_run_is_listed_with_its_path():
    space = mldsl.parse('experiment s = Experiment(model = Sequential([Flatten(), oneof([Dense(8, activation='
                        'oneof(["relu", PReLU()])), Conv2D(4, 3)]), Dense(10, activation="softmax")]), '
                        'data = Digits())')["s"]
    assert base.missing_lowerings(space, "native", get_registry()) == [
        ("model.layers[1].candidates[0].activation.candidates[1]", "PReLU"),
        ("model.layers[1].candidates[1]", "Conv2D")]
    assert base.missing_lowerings(space, "keras", get_registry()) == []


# -- issue 15, items 6 and 11: absurd sizes, silent divergence ----------------------------------------------------

def test_an_absurd_layer_is_a_clear_error_saying_how_much_memory_it_needs():
    e = _experiment("Flatten(), Dense(1000000000000), Dense(10, activation=\"softmax\")")
    with pytest.raises(BackendError, match=r"the model needs about [\d.]+ PiB of memory to train on the native "
                                           r"backend but this machine has [\d.]+ \w+ available \(the largest layer: "
                                           r"Dense\(1000000000000\) at model\.layers\[1\]\)"):
        NativeBackend().run(e)


def test_memory_estimate_counts_what_the_trainer_allocates():
    plan = Plan([DenseSpec(300, "gelu"), DropoutSpec(0.5), DenseSpec(10, "softmax")], batch_size=64,
                optimizer=OptimizerSpec("adam"))
    tr = MLPTrainer(plan, (50,))
    arrays = [tr.params, tr.grads, tr.xbuf, tr.ybuf, *tr.optimizer.states]
    for layer in tr.layers:
        arrays += [a for a in (layer.out, layer.grad, getattr(layer, "z", None), getattr(layer, "mask", None))
                   if a is not None]
    allocated = sum(a.nbytes for a in arrays)
    assert allocated <= tr.memory_needed <= allocated + 16 * 50 * 300 + 1024


def test_a_diverging_run_ends_with_a_warning():
    """SGD(learning_rate=1e6) on digits used to end `completed` with loss ~456,720 and no word of warning."""
    res = NativeBackend().run(_experiment('Flatten(), Dense(32, activation="relu"), Dense(10, activation="softmax")',
                                          optimizer="SGD(learning_rate=1e6)", epochs=3))
    assert len(res.warnings) == 1
    assert res.warnings[0].startswith("training diverged: the final training loss ")
    assert "more than 10 times the loss of a constant prediction (2.3" in res.warnings[0]
    assert res.warnings[0].endswith("Lower the learning rate (now 1e+06, try 100000).")
    healthy = NativeBackend().run(_experiment('Flatten(), Dense(10, activation="softmax")'))
    assert healthy.warnings == []


def test_divergence_rule_and_learning_rate_advice():
    assert base.divergence_warning([{"loss": 30.0}], 2.3) is not None
    assert base.divergence_warning([{"loss": 22.0}], 2.3) is None
    assert base.divergence_warning([{"loss": 0.1}], 0.0) is None
    assert base.constant_prediction_loss("sparse_categorical_crossentropy", np.arange(10) % 2, 3) == \
        pytest.approx(math.log(2))
    assert base.constant_prediction_loss("mse", np.array([[0.0], [2.0]]), 1) == pytest.approx(1.0)
    assert base.lower_learning_rate(0.5) == "Lower the learning rate (now 0.5, try 0.05)"
    assert base.lower_learning_rate(math.inf) == "Give the learning rate a finite value (now inf; e.g. 0.001)"


@pytest.mark.parametrize("kernels", ["cython", "numpy"])
def test_nan_advice_with_an_infinite_learning_rate_says_to_give_a_finite_one(kernels):
    plan = Plan([FlattenSpec(), DenseSpec(10, "softmax")], optimizer=OptimizerSpec("sgd", learning_rate=math.inf))
    x, y = np.random.default_rng(0).random((64, 8, 8)), np.arange(64) % 10
    message = r"Give the learning rate a finite value \(now inf; e\.g\. 0\.001\)"
    with pytest.raises(BackendError, match=message) as err, np.errstate(all="ignore"):
        MLPTrainer(plan, (8, 8), kernels=kernels).fit(x, y)
    assert "try inf" not in str(err.value)
