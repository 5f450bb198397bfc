"""Training-side sanity checks on both backends: wrapped datasets, an untrained model's evaluation
(``num_epochs = 0``) and evaluation every N epochs (``training.eval_every``)."""
import importlib.util
import math
import os

import pytest

os.environ.setdefault("MLDSL_TF_THREADS", "1")  # 2 shared cores: keep TensorFlow's thread pools small
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from mldsl.backends.base import choose_backend  # noqa: E402
from mldsl.registry import get_registry  # noqa: E402

HAS_TF = importlib.util.find_spec("tensorflow") is not None
BACKENDS = ["native", pytest.param("keras", marks=pytest.mark.skipif(not HAS_TF, reason="TensorFlow is not "
                                                                                             "installed"))]


def R(name):
    return get_registry().resolve(name)


def digits_experiment(backend, *, data=None, epochs=2, l2=None, **training):
    dense = R("Dense")(10, activation="softmax", kernel_regularizer=R("L2")(l2) if l2 else None)
    model = R("Sequential")([R("Flatten")(), R("Dense")(32, activation="relu",
                                                         kernel_regularizer=R("L2")(l2) if l2 else None), dense])
    return R("Experiment")(model=model, data=data if data is not None else R("Digits")(),
                           training={"num_epochs": epochs, "batch_size": 32, **training}, backend=backend)


def run(experiment):
    return get_registry().backend(experiment.backend).run(experiment)


def test_auto_picks_native_for_a_wrapped_dataset():
    exp = digits_experiment("auto", data=R("Centered")(R("Subset")(R("Digits")(), size=64)))
    backend, reason = choose_backend("auto", exp, get_registry())
    assert backend.name == "native", reason


@pytest.mark.parametrize("backend", BACKENDS)
def test_backends_train_on_wrapped_datasets(backend):
    data = R("Standardized")(R("RandomLabels")(R("Subset")(R("Digits")(), size=64, seed=2)))
    result = run(digits_experiment(backend, data=data))
    assert len(result.history) == 2 and 0 <= result.metrics["accuracy"] <= 1


# -- num_epochs = 0: the untrained model's evaluation ---------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_epochs_evaluate_the_untrained_model_near_log_c_and_l2_raises_it(backend):
    plain = run(digits_experiment(backend, epochs=0))
    assert plain.history == [] and not plain.stopped_early
    assert abs(plain.metrics["loss"] - math.log(10)) < 0.5          # initial loss ~ ln C for C = 10 classes
    assert plain.metrics["accuracy"] < 0.35                          # an untrained model is near chance
    with_l2 = run(digits_experiment(backend, epochs=0, l2=0.01))
    assert with_l2.metrics["loss"] > plain.metrics["loss"] + 0.1     # the L2 penalty of the initial weights
    trained = run(digits_experiment(backend, epochs=1))
    assert trained.metrics["loss"] < plain.metrics["loss"]


def test_zero_epochs_give_the_same_initial_loss_on_both_backends():
    if not HAS_TF:
        pytest.skip("TensorFlow is not installed")
    native = run(digits_experiment("native", epochs=0, l2=0.01)).metrics["loss"]
    keras = run(digits_experiment("keras", epochs=0, l2=0.01)).metrics["loss"]
    assert native == pytest.approx(keras, rel=0.05)


# -- eval_every: the test split evaluated into the history ----------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_eval_every_adds_the_test_evaluation_to_every_nth_epoch(backend):
    result = run(digits_experiment(backend, epochs=4, eval_every=2))
    assert [("test_loss" in row, "test_accuracy" in row) for row in result.history] == \
        [(False, False), (True, True), (False, False), (True, True)]
    last = result.history[-1]
    assert last["test_loss"] == pytest.approx(result.metrics["loss"], rel=1e-4)       # the end evaluation
    assert last["test_accuracy"] == pytest.approx(result.metrics["accuracy"], abs=1e-6)
    assert result.history[1]["test_loss"] > last["test_loss"]
    assert all("test_loss" not in row for row in run(digits_experiment(backend, epochs=2)).history)


# -- the example: a small subset is memorised, and so is noise ------------------------------------------
def test_the_overfit_example_memorises_its_subset_and_noise_on_native():
    from pathlib import Path

    import mldsl

    examples = mldsl.load_mlx(str(Path(__file__).resolve().parents[2] / "examples" / "overfit_subset.mlx"))
    overfit = run(examples.experiments["overfit"].clone(deep=True, override={"backend": "native"}))
    assert overfit.history[-1]["accuracy"] == 1.0
    assert overfit.metrics["accuracy"] < 0.95 and overfit.metrics["loss"] > 5 * overfit.history[-1]["loss"]
    noise = run(examples.experiments["noise"].clone(deep=True, override={"backend": "native"}))
    assert noise.history[-1]["accuracy"] > 0.9 and noise.metrics["accuracy"] < 0.2
