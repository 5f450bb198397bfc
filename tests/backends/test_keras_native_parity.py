"""The Keras and the native backends agree: same experiment, same data, (nearly) the same numbers.

Needs TensorFlow and the native backend; skipped cleanly when either is missing.
"""
import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MLDSL_TF_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

pytestmark = pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None,
                                reason='TensorFlow is not installed (pip install "mldsl[keras]")')

native = pytest.importorskip("mldsl.backends.native")

import mldsl  # noqa: E402
from mldsl.backends.keras import KerasBackend, export_weights, import_weights, load_weights  # noqa: E402
from mldsl.registry import get_registry  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def R(name):
    return get_registry().resolve(name)


def digits_experiment():
    return mldsl.load_mlx(str(EXAMPLES / "digits.mlx"))["digits"]


def test_both_backends_reach_the_same_test_accuracy_on_digits():
    exp = digits_experiment()  # 64-30-10 sigmoid MLP, SGD(0.1, momentum 0.9), 30 epochs
    ours = KerasBackend().run(exp)
    theirs = native.NativeBackend().run(exp)
    assert ours.metrics["accuracy"] > 0.9 and theirs.metrics["accuracy"] > 0.9
    assert abs(ours.metrics["accuracy"] - theirs.metrics["accuracy"]) <= 0.02
    assert [list(row) for row in ours.history] == [list(row) for row in theirs.history]


def _pair(exp):
    """The Keras model and the native trainer of ``exp``, before training, and the data."""
    splits = exp.data.load()
    model = KerasBackend().prepare(exp, splits).model
    trainer = native.MLPTrainer(native.NativeBackend().plan(exp), splits.x_train.shape[1:], kernels="cython")
    return model, trainer, splits


def _keras_first_step(model, x, y):
    """The loss Keras reports for one training step on (x, y) as one batch (computed before the update)."""
    history = model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    return history.history["loss"][0]


EXPERIMENTS = {
    "digits": lambda: digits_experiment(),
    "elu_l2_leaky_adam": lambda: R("Experiment")(
        model=R("Sequential")([R("Flatten")(),
                               R("Dense")(16, activation=R("ELU")(0.5), kernel_regularizer=R("L2")(0.01)),
                               R("Dense")(12, activation="leaky_relu"),
                               R("Dense")(10, activation="softmax")]),
        data=R("Digits")(), seed=3,
        training={"batch_size": 32, "optimizer": R("Adam")(learning_rate=0.01)}),
}


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
@pytest.mark.parametrize("direction", ["native_to_keras", "keras_to_native"])
def test_copied_weights_give_the_same_first_step(name, direction):
    model, trainer, splits = _pair(EXPERIMENTS[name]())
    if direction == "native_to_keras":
        import_weights(model, trainer.get_weights())
    else:
        trainer.set_weights(export_weights(model))
    for ours, theirs in zip(export_weights(model), trainer.get_weights()):
        np.testing.assert_array_equal(ours["kernel"], theirs["kernel"])
    x, y = splits.x_train[:32], splits.y_train[:32]
    native_loss, _ = trainer.gradients(x, y)  # the loss before the update, and the gradients...
    trainer.optimizer.step(trainer.grads)      # ...applied: one native training step on (x, y)
    keras_loss = _keras_first_step(model, x, y)
    assert abs(keras_loss - native_loss) < 1e-5, (keras_loss, native_loss)
    # and the step itself (gradients + optimizer update) moved both to the same weights
    for ours, theirs in zip(export_weights(model), trainer.get_weights()):
        np.testing.assert_allclose(ours["kernel"], theirs["kernel"], atol=2e-5)
        np.testing.assert_allclose(ours["bias"], theirs["bias"], atol=2e-5)


def test_weights_saved_by_one_backend_load_in_the_other(tmp_path):
    model, trainer, splits = _pair(digits_experiment())
    native.NativeBackend().save_model(trainer, tmp_path / "native")
    import_weights(model, tmp_path / "native" / "weights.npz")
    x = splits.x_test[:16]
    np.testing.assert_allclose(model.predict(x, verbose=0), trainer.predict(x), atol=1e-6)
    KerasBackend().save_model(model, tmp_path / "keras")
    trainer.reset_weights(seed=99)
    trainer.set_weights(load_weights(tmp_path / "keras" / "weights.npz"))
    np.testing.assert_allclose(model.predict(x, verbose=0), trainer.predict(x), atol=1e-6)
