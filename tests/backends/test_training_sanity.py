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
