"""The ``native`` backend: symbolic experiment -> :class:`~.plan.Plan` -> :class:`~.trainer.MLPTrainer`."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from mldsl.backends.base import (PER_CLASS_KEY, EpochCallback, RunResult, check_outputs_fit_classes,
                                 constant_prediction_loss, divergence_warning, unsupported_reasons)
from mldsl.errors import BackendError

if TYPE_CHECKING:
    from mldsl.backends.native.trainer import MLPTrainer

# The registry instantiates this class whenever plugins load (e.g. for `mldsl check`), so NumPy, the
# lowering and the trainer are imported on first use, not here.


class NativeBackend:
    """Runs MLP experiments (Sequential of Dense/Dropout/Flatten/Activation) on the compiled CPU kernels.

    ``kernels``: "cython" (default) or "numpy" (the reference twins, for testing)."""

    name = "native"

    def __init__(self, registry: Any = None, kernels: str = "cython") -> None:
        self._registry = registry
        self.kernels = kernels

    def available(self) -> Optional[str]:
        """None when the compiled kernels import, else how to rebuild them."""
        if self.kernels != "cython":
            return None
        try:
            import mldsl.kernels  # noqa: PLC0415
            mldsl.kernels.module("dense")
        except ImportError as exc:
            return f"the compiled kernels cannot be imported ({exc}); rebuild them with `pip install -e .`"
        return None

    def plan(self, experiment: Any):
        """The :class:`Plan` this backend would train for ``experiment``."""
        from mldsl.backends.native.lowering import lower_experiment

        return lower_experiment(experiment, self._get_registry())

    def unsupported(self, experiment: Any) -> list:
        """Why this backend cannot run ``experiment`` exactly as Keras would: one sentence per component
        without a native lowering (with its path), else what lowering it finds it cannot reproduce (a
        cross-entropy on outputs that are not a softmax's, ...); empty when it can. A setting that is wrong
        on any backend is raised as the BackendError it is. Imports no NumPy."""
        from mldsl.backends.native.plan import NativeUnsupported

        reasons = unsupported_reasons(experiment, self.name, self._get_registry())
        if not reasons:
            try:
                self.plan(experiment)
            except NativeUnsupported as exc:
                reasons.append(str(exc))
        return reasons

    def run(self, experiment: Any, *, on_epoch: Optional[EpochCallback] = None) -> RunResult:
        """Trains ``experiment`` and evaluates it on its test split (``metrics``: loss and the metric, and
        with ``evaluation.per_class`` the per-class evaluation of :mod:`mldsl.data.per_class`)."""
        import numpy as np

        from mldsl.backends.native.lowering import field
        from mldsl.backends.native.trainer import MLPTrainer

        plan = self.plan(experiment)
        data = field(experiment, "data")
        if data is None or not hasattr(data, "load"):
            raise BackendError("the experiment has no dataset to load (field 'data')")
        splits = data.load()
        trainer = MLPTrainer(plan, np.asarray(splits.x_train).shape[1:], kernels=self.kernels)
        encoding = "sparse" if plan.loss == "sparse_categorical_crossentropy" else \
            "raw" if plan.loss == "mse" and trainer.output_units == 1 else "one_hot"
        check_outputs_fit_classes(trainer.output_units, splits.num_classes, encoding,
                                  str(getattr(field(experiment, "model"), "sym_path", "") or ""))
        stopped = []

        def report(epoch: int, logs: dict):
            if on_epoch is not None and on_epoch(epoch, logs) is False:
                stopped.append(epoch)
                return False
            return None

        if len(splits.x_test) == 0:
            raise BackendError("the dataset has an empty test split; give it a test_split > 0")
        history = trainer.fit(splits.x_train, splits.y_train, on_epoch=report, test=(splits.x_test, splits.y_test))
        metrics = trainer.evaluate(splits.x_test, splits.y_test)
        if field(field(experiment, "evaluation", {}), "per_class", False):
            from mldsl.data.per_class import per_class_metrics, predicted_classes

            predicted = predicted_classes(trainer.predict(splits.x_test))
            metrics[PER_CLASS_KEY] = per_class_metrics(splits.y_test, predicted, splits.num_classes,
                                                       splits.class_names)
        early = bool(stopped) or bool(getattr(trainer, "stopped_epoch", 0))
        warnings = list(plan.warnings)
        baseline = constant_prediction_loss(plan.loss, trainer._prepare_y(splits.y_train, len(splits.y_train)),
                                            trainer.output_units)
        diverged = divergence_warning(history, baseline, plan.optimizer.learning_rate)
        if diverged:
            warnings.append(diverged)
        return RunResult(metrics=metrics, history=history, backend=self.name, stopped_early=early, model=trainer,
                         warnings=warnings)

    def gradcheck(self, experiment: Any, *, batch: int = 16, samples: int = 10, eps: Optional[float] = None,
                  threshold: Optional[float] = None):
        """Checks the gradients of ``experiment``'s lowered model (its initial weights, float64, Dropout off)
        against central differences on ``batch`` rows of its training data; the experiment's seed draws the
        weights, the rows and the coordinates compared. Returns a :class:`~.gradcheck.GradcheckReport`
        (see :func:`~.gradcheck.gradcheck`)."""
        import numpy as np

        from mldsl.backends.native.gradcheck import EPS, THRESHOLD, gradcheck
        from mldsl.backends.native.lowering import field

        if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
            raise BackendError(f"the gradient check's batch must be an integer >= 1, got {batch!r}")
        plan = self.plan(experiment)
        data = field(experiment, "data")
        if data is None or not hasattr(data, "load"):
            raise BackendError("the experiment has no dataset to load (field 'data')")
        splits = data.load()
        n = len(splits.x_train)
        if n == 0:
            raise BackendError("the dataset has no training examples to check the gradients on")
        rows = np.sort(np.random.default_rng(plan.seed).choice(n, size=min(batch, n), replace=False))
        return gradcheck(plan, np.asarray(splits.x_train)[rows], np.asarray(splits.y_train)[rows],
                         samples=samples, seed=plan.seed, kernels=self.kernels, eps=EPS if eps is None else eps,
                         threshold=THRESHOLD if threshold is None else threshold)

    def save_model(self, model: MLPTrainer, folder: Any) -> Path:
        """Writes the Dense weights to ``folder/weights.npz`` (:mod:`mldsl.backends.weight_files`, the format
        the Keras backend reads too), and the parameters of plugins' NumPy layers, if any, to
        ``folder/layer_params.npz`` (``layers[I].NAME``, what ``MLPTrainer.set_layer_params`` reads);
        returns the path of ``weights.npz``."""
        import numpy as np

        from mldsl.backends.weight_files import WEIGHTS_FILE, save_weights

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / WEIGHTS_FILE
        save_weights(model.get_weights(), path)
        layer_params = model.get_layer_params()
        if layer_params:
            np.savez(str(folder / "layer_params.npz"), **layer_params)
        return path

    def _get_registry(self) -> Any:
        from mldsl.registry import get_registry

        return self._registry if self._registry is not None else get_registry()
