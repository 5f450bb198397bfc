"""``training.order`` and ``evaluation.per_class`` on both backends: the native trainer and Keras visit the
training examples in the order of mldsl.data.order (the same batches), the validation split does not depend
on the order, and each backend's per-class evaluation agrees with its accuracy.

The Keras tests need TensorFlow (CPU) and skip cleanly without it.
"""
import importlib.util
import itertools
import os

import numpy as np
import pytest

os.environ.setdefault("MLDSL_TF_THREADS", "1")  # 2 shared cores: keep TensorFlow's thread pools small
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from mldsl.backends.native import MLPTrainer, NativeBackend  # noqa: E402
from mldsl.data.order import epoch_orders  # noqa: E402
from mldsl.registry import get_registry  # noqa: E402

HAS_TF = importlib.util.find_spec("tensorflow") is not None
needs_tf = pytest.mark.skipif(not HAS_TF, reason='TensorFlow is not installed (pip install "mldsl[keras]")')


def R(name):
    return get_registry().resolve(name)


def experiment(order="shuffle", *, epochs=3, validation_split=0.0, per_class=False, seed=4, backend="native",
               optimizer=None):
    """A small MLP on the digits (1,437 training images), trained with SGD in batches of 64."""
    return R("Experiment")(
        model=R("Sequential")([R("Flatten")(), R("Dense")(12, activation="tanh"),
                               R("Dense")(10, activation="softmax")]),
        data=R("Digits")(),
        training={"batch_size": 64, "num_epochs": epochs, "order": order, "validation_split": validation_split,
                  "optimizer": optimizer or R("SGD")(learning_rate=0.1)},
        evaluation={"per_class": per_class}, seed=seed, backend=backend)


def visited(monkeypatch, exp):
    """The rows of the training data each epoch of a native run of ``exp`` visited, in order."""
    seen = []
    step = MLPTrainer.train_step

    def recording(self, indices, x, y):
        seen.append(np.array(indices))
        return step(self, indices, x, y)

    monkeypatch.setattr(MLPTrainer, "train_step", recording)
    NativeBackend().run(exp)
    per_epoch = -(-len(np.concatenate(seen)) // exp.training.num_epochs)
    flat = np.concatenate(seen)
    return [flat[i:i + per_epoch] for i in range(0, len(flat), per_epoch)]


@pytest.mark.parametrize("order", ["shuffle", "sequential", "by_class"])
def test_native_trains_in_the_order_of_epoch_orders(monkeypatch, order):
    exp = experiment(order, validation_split=0.25)
    splits = exp.data.load()
    split = int(np.floor(len(splits.y_train) * 0.75))
    epochs = visited(monkeypatch, exp)
    expected = itertools.islice(epoch_orders(split, order, exp.seed, splits.y_train[:split]), 3)
    for seen, wanted in zip(epochs, expected, strict=True):
        assert np.array_equal(seen, wanted)            # the held-out last quarter is never visited
    if order == "by_class":
        assert np.all(np.diff(splits.y_train[epochs[0]]) >= 0)


def test_the_validation_data_does_not_depend_on_the_order():
    """The validation split holds out the same last examples whatever the order: the untrained model's
    val_loss would differ if it did not (one epoch at learning rate ~0 leaves the weights as they were)."""
    tiny = R("SGD")(learning_rate=1e-12)
    vals = {order: NativeBackend().run(experiment(order, epochs=1, validation_split=0.3, optimizer=tiny))
            .history[0]["val_loss"] for order in ("shuffle", "sequential", "by_class")}
    assert vals["shuffle"] == pytest.approx(vals["sequential"], abs=1e-9)
    assert vals["shuffle"] == pytest.approx(vals["by_class"], abs=1e-9)


def test_native_shuffle_is_the_training_it_always_was():
    """A shuffled native run trains exactly as the trainer did before orders existed: the same losses as a
    hand loop over the legacy permutations (one seeded generator shuffling arange(n) in place)."""
    exp = experiment("shuffle", epochs=3)
    splits = exp.data.load()
    history = NativeBackend().run(exp).history
    backend = NativeBackend()
    trainer = MLPTrainer(backend.plan(exp), splits.x_train.shape[1:])
    x, y = trainer._prepare_x(splits.x_train), trainer._prepare_y(splits.y_train, len(splits.y_train))
    rng, order = np.random.default_rng(exp.seed), np.arange(len(x), dtype=np.int64)
    with trainer.threads():
        for row in history:
            rng.shuffle(order)
            total = sum(trainer.train_step(order[s:s + 64], x, y)[0] * len(order[s:s + 64])
                        for s in range(0, len(x), 64))
            assert row["loss"] == total / len(x)


def test_by_class_training_forgets_the_first_classes():
    """The point of the order: trained class after class, the model ends up predicting the last classes
    it saw, so the first classes' test accuracy collapses while shuffled training learns them all."""
    shuffled = NativeBackend().run(experiment("shuffle", epochs=5, per_class=True)).metrics
    by_class = NativeBackend().run(experiment("by_class", epochs=5, per_class=True)).metrics
    assert shuffled["accuracy"] > 0.8 and by_class["accuracy"] < shuffled["accuracy"] - 0.3
    confusion = np.array(by_class["per_class"]["confusion"])
    predicted, examples = confusion.sum(axis=0), confusion.sum(axis=1)
    assert predicted.argmax() == 9 and predicted[9] > 3 * examples[9]   # the last class seen swallows the rest
    assert by_class["per_class"]["accuracy"][9] == 1.0
    assert np.mean(by_class["per_class"]["accuracy"][1:6]) < 0.3


def check_per_class(metrics, test_size):
    per_class = metrics["per_class"]
    confusion = np.array(per_class["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == test_size and per_class["classes"] == list(range(10))
    counts = confusion.sum(axis=1)
    weighted = sum(a * n for a, n in zip(per_class["accuracy"], counts)) / counts.sum()
    assert weighted == pytest.approx(metrics["accuracy"], abs=1e-6)


def test_native_per_class_agrees_with_its_accuracy():
    exp = experiment("shuffle", epochs=2, per_class=True)
    result = NativeBackend().run(exp)
    check_per_class(result.metrics, len(exp.data.load().y_test))
    assert "per_class" not in NativeBackend().run(experiment("shuffle", epochs=1)).metrics


# -- Keras --------------------------------------------------------------------------------------------------
@needs_tf
@pytest.mark.parametrize("order", ["sequential", "by_class"])
def test_keras_is_fed_the_batches_the_native_trainer_trains_on(order):
    from mldsl.backends.keras import KerasBackend

    exp = experiment(order, validation_split=0.25, backend="keras")
    prepared = KerasBackend().prepare(exp)
    (batches,), kwargs = prepared.fit_arguments()
    splits = exp.data.load()
    split = int(np.floor(len(splits.y_train) * 0.75))
    assert kwargs["shuffle"] is False and kwargs["steps_per_epoch"] == -(-split // 64)
    x_val, y_val = kwargs["validation_data"]
    assert np.array_equal(x_val, splits.x_train[split:]) and np.array_equal(y_val, splits.y_train[split:])
    fed = list(batches)
    assert len(fed) == 3 * kwargs["steps_per_epoch"]
    orders = epoch_orders(split, order, exp.seed, splits.y_train[:split])
    for epoch in range(3):
        rows = next(orders)
        chunk = fed[epoch * kwargs["steps_per_epoch"]:(epoch + 1) * kwargs["steps_per_epoch"]]
        assert np.array_equal(np.concatenate([b[1] for b in chunk]), splits.y_train[rows])
        assert np.array_equal(np.concatenate([b[0] for b in chunk]), splits.x_train[rows])


@needs_tf
def test_keras_and_native_train_the_same_by_class_epochs_from_the_same_weights():
    """The differential check: from the same initial weights, both backends trained class by class (the same
    batches in the same order) log the same losses epoch after epoch; shuffled they would not."""
    from mldsl.backends.keras import KerasBackend, import_weights
    from mldsl.backends.keras._callbacks import EpochReporter

    exp = experiment("by_class", epochs=3, validation_split=0.2, backend="keras")
    native = NativeBackend().run(exp.clone(deep=True, override={"backend": "native"}))
    backend = KerasBackend()
    prepared = backend.prepare(exp)
    start = MLPTrainer(NativeBackend().plan(exp), exp.data.load().x_train.shape[1:])
    import_weights(prepared.model, start.get_weights())     # the native trainer's initial weights
    reporter = EpochReporter(["accuracy"])
    args, kwargs = prepared.fit_arguments()
    prepared.model.fit(*args, callbacks=[reporter], **kwargs)
    for ours, theirs in zip(reporter.history, native.history, strict=True):
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert ours[key] == pytest.approx(theirs[key], rel=2e-3, abs=2e-3), key


@needs_tf
def test_keras_runs_every_order_and_its_per_class_agrees_with_its_accuracy():
    from mldsl.backends.keras import KerasBackend

    for order in ("shuffle", "by_class"):
        exp = experiment(order, epochs=1, validation_split=0.2, per_class=True, backend="keras")
        result = KerasBackend().run(exp)
        assert [row["epoch"] for row in result.history] == [1] and "val_loss" in result.history[0]
        check_per_class(result.metrics, len(exp.data.load().y_test))


@pytest.mark.parametrize("backend", ["native", pytest.param("keras", marks=needs_tf)])
def test_eval_every_rows_hold_numbers_only_when_per_class_is_on(backend):
    # the per-class evaluation is the final one's; an epoch's test_ columns are numbers (history.csv, plots)
    if backend == "keras":
        from mldsl.backends.keras import KerasBackend as Backend
    else:
        Backend = NativeBackend
    exp = experiment("by_class", epochs=2, per_class=True, backend=backend)
    exp.rebind({"training.eval_every": 1})
    result = Backend().run(exp)
    assert [sorted(k for k in row if k.startswith("test_")) for row in result.history] == \
        [["test_accuracy", "test_loss"]] * 2
    assert all(isinstance(v, float) for row in result.history for k, v in row.items() if k.startswith("test_"))
    check_per_class(result.metrics, len(exp.data.load().y_test))


def test_the_forgetting_example_forgets_class_by_class():
    """examples/forgetting.mlx: the tutorial's MLP on the digits; sorted by class it ends up worse than
    shuffled, and at learning rate 1 it reads every image as the last class it saw."""
    from pathlib import Path

    import mldsl

    module = mldsl.load_mlx(str(Path(__file__).resolve().parents[2] / "examples" / "forgetting.mlx"))
    results = {name: NativeBackend().run(module[name]).metrics
               for name in ("shuffled", "by_class", "by_class_lr_1")}
    assert results["shuffled"]["accuracy"] > 0.9
    assert results["by_class"]["accuracy"] < results["shuffled"]["accuracy"] - 0.05
    assert min(results["by_class"]["per_class"]["accuracy"]) < 0.6 < min(results["shuffled"]["per_class"]["accuracy"])
    confusion = np.array(results["by_class_lr_1"]["per_class"]["confusion"])
    assert confusion[:, 9].sum() > 0.9 * confusion.sum()
