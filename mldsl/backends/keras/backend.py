"""The Keras backend: lowers a symbolic experiment to Keras 3 on TensorFlow, then compile / fit / evaluate.

TensorFlow is imported only inside :meth:`KerasBackend.prepare`, :meth:`KerasBackend.run` and the model
helpers, never when this module is imported.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Optional, Tuple

if TYPE_CHECKING:  # NumPy is imported on use: the registry loads this module for `mldsl check` too
    import numpy as np

from mldsl.backends.base import (PER_CLASS_KEY, EpochCallback, RunResult, check_outputs_fit_classes,
                                 constant_prediction_loss, divergence_warning, lower_learning_rate, path_of,
                                 monitor_problem, type_name_of, unsupported_reasons, uses_images)
from mldsl.backends.keras._runtime import import_keras, missing_tensorflow
from mldsl.backends.keras.lowering import LoweringContext, field
from mldsl.errors import BackendError

@dataclass
class Prepared:
    """An experiment lowered to Keras and ready to ``fit``: the compiled model, the arrays and the settings."""

    model: Any
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    batch_size: int
    epochs: int
    validation_split: float
    eval_batch_size: int
    metric_name: Optional[str]
    eval_every: int = 0
    callbacks: List[Any] = dc_field(default_factory=list)
    learning_rate: Optional[float] = None
    order: str = "shuffle"
    seed: int = 0
    #: the class indices of the examples (before the targets were encoded): ``by_class`` orders the
    #: training examples by them, ``per_class`` compares the test predictions with them
    train_labels: Optional[np.ndarray] = None
    test_labels: Optional[np.ndarray] = None
    per_class: bool = False
    num_classes: int = 0
    class_names: Optional[List[str]] = None  # the dataset's names of its classes, if it has them

    def fit_kwargs(self) -> dict:
        """The keyword arguments of ``model.fit`` for the ``shuffle`` order (without callbacks): Keras
        holds out the last ``validation_split`` of the examples and shuffles the rest every epoch."""
        return dict(batch_size=self.batch_size, epochs=self.epochs, validation_split=self.validation_split,
                    verbose=0, shuffle=True)

    def fit_arguments(self) -> Tuple[tuple, dict]:
        """``(args, kwargs)`` of ``model.fit`` (without callbacks). ``shuffle``: the arrays and
        :meth:`fit_kwargs`. Another order: the last ``validation_split`` of the examples held out as
        ``validation_data`` (the examples Keras' own split would hold out), and the rest fed batch by
        batch in the order of :func:`mldsl.data.order.epoch_orders`, the same batches as the native
        backend's, with ``shuffle=False``."""
        if self.order == "shuffle":
            return (self.x_train, self.y_train), self.fit_kwargs()
        from mldsl.data.order import epoch_orders  # noqa: PLC0415 - NumPy

        n_all = len(self.x_train)
        split = int(math.floor(n_all * (1.0 - self.validation_split))) if self.validation_split else n_all
        if split == 0:
            raise BackendError(f"no training samples left (n={n_all}, validation_split={self.validation_split})")
        if split == n_all and self.validation_split:
            raise BackendError(f"validation_split={self.validation_split} leaves no validation samples of {n_all}")
        x, y = self.x_train[:split], self.y_train[:split]
        labels = self.train_labels[:split] if self.train_labels is not None else None
        orders = epoch_orders(split, self.order, self.seed, labels if self.order == "by_class" else None)
        size, epochs = self.batch_size, self.epochs

        def batches():
            for _ in range(epochs):
                indices = next(orders)
                for start in range(0, split, size):
                    rows = indices[start:start + size]
                    yield x[rows], y[rows]

        kwargs = dict(epochs=epochs, steps_per_epoch=math.ceil(split / size), verbose=0, shuffle=False)
        if split < n_all:
            kwargs["validation_data"] = (self.x_train[split:], self.y_train[split:])
            kwargs["validation_batch_size"] = self.batch_size
        return (batches(),), kwargs


class KerasBackend:
    """Runs experiments on Keras 3 / TensorFlow (CPU, or GPU when TensorFlow sees one)."""

    name = "keras"

    def __init__(self, registry: Any = None) -> None:
        self._registry = registry

    # -- Backend protocol ------------------------------------------------------------------------------
    def available(self) -> Optional[str]:
        """None when TensorFlow can be imported, else a sentence naming ``pip install "mldsl[keras]"``."""
        return missing_tensorflow()

    def unsupported(self, experiment: Any) -> List[str]:
        """One sentence per component of ``experiment`` with no Keras lowering (with its path); imports no
        TensorFlow."""
        return unsupported_reasons(experiment, self.name, self._get_registry())

    def run(self, experiment: Any, *, on_epoch: Optional[EpochCallback] = None,
            splits: Any = None) -> RunResult:
        """Trains ``experiment`` with ``model.fit`` and evaluates it on the test split.

        ``on_epoch(epoch, logs)`` is called after every epoch (returning ``False`` stops training). A loss
        that becomes NaN or infinite stops training with a BackendError saying what to change.
        ``splits`` (a :class:`mldsl.data.DataSplits`) replaces ``experiment.data.load()`` when given.
        """
        _tf, keras = import_keras()
        prepared = self.prepare(experiment, splits)
        from mldsl.backends.keras._callbacks import EpochReporter  # noqa: PLC0415 - imports keras

        reporter = EpochReporter([prepared.metric_name] if prepared.metric_name else [], on_epoch,
                                 evaluate_test=lambda: self.evaluate(prepared, per_class=False),
                                 eval_every=prepared.eval_every)
        try:
            if prepared.epochs > 0:                   # 0 epochs: evaluate the untrained model
                args, kwargs = prepared.fit_arguments()
                prepared.model.fit(*args, callbacks=[reporter, *prepared.callbacks], **kwargs)
        except (ValueError, _tf.errors.OpError) as exc:
            raise BackendError(f"Keras training failed: {_first_line(exc)}") from exc
        if reporter.diverged is not None:
            raise diverged_error(*reporter.diverged, prepared.learning_rate)
        metrics = self.evaluate(prepared)
        early = any(getattr(cb, "stopped_epoch", 0) > 0 for cb in prepared.callbacks
                    if isinstance(cb, keras.callbacks.EarlyStopping))
        loss_name = {"mean_squared_error": "mse"}.get(str(getattr(prepared.model.loss, "name", "")),
                                                      str(getattr(prepared.model.loss, "name", "")))
        baseline = constant_prediction_loss(loss_name, prepared.y_train, int(prepared.model.output_shape[-1]))
        diverged = divergence_warning(reporter.history, baseline, prepared.learning_rate,
                                      "training.optimizer.learning_rate")
        return RunResult(metrics=metrics, history=reporter.history, backend=self.name,
                         stopped_early=bool(early or reporter.stopped_by_caller), model=prepared.model,
                         warnings=[diverged] if diverged else [])

    # -- steps, public for tests and the benchmark -----------------------------------------------------
    def prepare(self, experiment: Any, splits: Any = None) -> Prepared:
        """Loads the data (unless ``splits`` is given), seeds Keras, lowers and compiles the model."""
        _tf, keras = import_keras()
        if splits is None:
            data = field(experiment, "data")
            if data is None or not hasattr(data, "load"):
                raise BackendError("the experiment has no dataset to load (field 'data')")
            splits = data.load()
        keras.backend.clear_session()
        keras.utils.set_random_seed(int(field(experiment, "seed", 0)))

        model_c = field(experiment, "model")
        if model_c is None:
            raise BackendError("the experiment has no model (field 'model')")
        x_train, x_test = splits.x_train, splits.x_test
        if x_train.ndim == 3 and uses_images(model_c):
            x_train, x_test = x_train[..., None], x_test[..., None]  # (n, h, w) -> (n, h, w, 1)

        training = field(experiment, "training", {})
        evaluation = field(experiment, "evaluation", {})
        ctx = LoweringContext(keras, input_shape=x_train.shape[1:], num_classes=splits.num_classes,
                              registry=self._get_registry())
        model = ctx.lower(model_c)
        if not isinstance(model, keras.Model):
            raise BackendError(f"the Keras lowering of {type_name_of(model_c)} gave {type(model).__name__}, "
                               "not a keras.Model")
        ctx.output_units = check_outputs(model, model_c)
        loss_c = field(training, "loss")
        loss = ctx.lower(loss_c) if loss_c is not None else keras.losses.SparseCategoricalCrossentropy()
        check_outputs_fit_classes(ctx.output_units, splits.num_classes, ctx.target_encoding, path_of(model_c))
        metric_c = field(evaluation, "metric")
        metric = ctx.lower(metric_c) if metric_c is not None else None
        optimizer_c = field(training, "optimizer")
        optimizer = ctx.lower(optimizer_c) if optimizer_c is not None else keras.optimizers.Adam()
        for cb in field(training, "callbacks", []) or []:
            monitor = field(cb, "monitor", None) if type_name_of(cb) == "EarlyStopping" else None
            problem = monitor is not None and monitor_problem(
                str(monitor), None if metric_c is None else str(field(metric_c, "name", "")) or None,
                float(field(training, "validation_split", 0.0)), f" (at {path_of(cb)})" if path_of(cb) else "")
            if problem:
                raise BackendError(problem)
        callbacks = [ctx.lower(cb) for cb in field(training, "callbacks", []) or []]
        y_train, y_test = (encode_targets(y, ctx.target_encoding, splits.num_classes)
                           for y in (splits.y_train, splits.y_test))
        model.compile(optimizer=optimizer, loss=loss, metrics=[metric] if metric is not None else [])
        lr = field(optimizer_c, "learning_rate") if optimizer_c is not None else None
        return Prepared(
            model=model, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
            batch_size=int(field(training, "batch_size", 32)), epochs=int(field(training, "num_epochs", 1)),
            validation_split=float(field(training, "validation_split", 0.0)),
            eval_every=int(field(training, "eval_every", 0)), eval_batch_size=int(field(evaluation, "batch_size", 256)),
            metric_name=None if metric is None else str(metric.name), callbacks=callbacks,
            learning_rate=None if lr is None else float(lr), order=str(field(training, "order", "shuffle")),
            seed=int(field(experiment, "seed", 0)), train_labels=splits.y_train, test_labels=splits.y_test,
            per_class=bool(field(evaluation, "per_class", False)), num_classes=int(splits.num_classes),
            class_names=splits.class_names)

    def evaluate(self, prepared: Prepared, *, per_class: bool = True) -> dict:
        """``{"loss": ..., <metric name>: ...}`` on the test split (NaN is a BackendError), with the per-class
        evaluation when the experiment asks for it and ``per_class`` (the final evaluation; the history's
        ``eval_every`` rows hold numbers only, as the native backend's do)."""
        if len(prepared.x_test) == 0:
            raise BackendError("the dataset has an empty test split; give it a test_split > 0")
        logs = prepared.model.evaluate(prepared.x_test, prepared.y_test, batch_size=prepared.eval_batch_size,
                                       verbose=0, return_dict=True)
        keys = ["loss"] + ([prepared.metric_name] if prepared.metric_name else [])
        metrics = {k: float(logs[k]) for k in keys if k in logs}
        if not math.isfinite(metrics.get("loss", 0.0)):
            raise diverged_error(None, "test loss", metrics["loss"], prepared.learning_rate)
        if prepared.per_class and per_class:
            from mldsl.data.per_class import per_class_metrics, predicted_classes  # noqa: PLC0415

            outputs = prepared.model.predict(prepared.x_test, batch_size=prepared.eval_batch_size, verbose=0)
            metrics[PER_CLASS_KEY] = per_class_metrics(prepared.test_labels, predicted_classes(outputs),
                                                       prepared.num_classes, prepared.class_names)
        return metrics

    # -- models ----------------------------------------------------------------------------------------
    def save_model(self, model: Any, folder: Any) -> Path:
        """Saves ``model`` as ``folder/model.keras`` (Keras' own format) plus its Dense weights as
        ``folder/weights.npz`` (the format the native backend reads); returns the ``.keras`` path."""
        from mldsl.backends.keras.weights import export_weights, save_weights  # noqa: PLC0415

        import_keras()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "model.keras"
        model.save(os.fspath(path))
        weights = export_weights(model)
        if weights:
            save_weights(weights, folder / "weights.npz")
        return path

    def _get_registry(self) -> Any:
        from mldsl.registry import get_registry

        return self._registry if self._registry is not None else get_registry()


def load_model(path: Any) -> Any:
    """Loads a model saved by :meth:`KerasBackend.save_model` (a ``.keras`` file or the folder holding it)."""
    _tf, keras = import_keras()
    from mldsl.backends.keras import _layers  # noqa: F401,PLC0415 - registers mldsl's custom layers

    path = Path(path)
    if path.is_dir():
        path = path / "model.keras"
    if not path.exists():
        raise BackendError(f"no saved Keras model at {os.fspath(path)!r}")
    return keras.saving.load_model(os.fspath(path))


def encode_targets(y: np.ndarray, encoding: str, num_classes: int) -> np.ndarray:
    """Integer labels as the loss wants them: unchanged (``sparse``), one-hot float32 (``one_hot``) or a
    float32 column (``raw``)."""
    import numpy as np

    if encoding == "one_hot":
        return np.eye(int(num_classes), dtype=np.float32)[np.asarray(y, dtype=np.int64)]
    if encoding == "raw":
        return np.asarray(y, dtype=np.float32).reshape(-1, 1)
    return y


def check_outputs(model: Any, model_c: Any) -> int:
    """The number of outputs per example of a lowered model, which must be a vector (batch, units)."""
    shape = tuple(model.output_shape)
    if len(shape) != 2:
        where = path_of(model_c) or "model"
        raise BackendError(f"the model's output has shape {shape[1:]} per example, not a vector: Dense acts on "
                           f"the last axis, so put a Flatten() layer before the first Dense layer of {where}")
    return int(shape[-1])


def diverged_error(epoch: Optional[int], key: str, value: float, learning_rate: Optional[float]) -> BackendError:
    """The actionable error for a loss that became NaN/inf."""
    when = f" in epoch {epoch}" if epoch is not None else ""
    return BackendError(
        f"training diverged: {key} became {value}{when}. "
        f"{lower_learning_rate(learning_rate, 'training.optimizer.learning_rate')}, scale the input features "
        "(e.g. to [0, 1]), or add a regularizer/BatchNormalization; check the data for NaN values too")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
