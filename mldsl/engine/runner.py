"""Run one experiment: pick its backend, train, evaluate, save, and record everything in the store.

The run is recorded as ``running`` (owned by this process) before training starts, and its history is
saved as it trains. The whole sequence -- train, evaluate, save the model, write ``history.csv``, plot,
record the outcome -- is one protected step: whenever Ctrl-C arrives, the run ends ``interrupted`` with
what was done (metrics when training had finished), or ``completed`` when everything had; Ctrl-C during
a durable write waits for the write. A failure (the backend's error, a folder that cannot be made, a
full disk) ends it ``failed`` with the reason. A process killed outright leaves the row ``running``;
the next reader of the store finds its process gone and finalises it as ``crashed``. Artifacts go to
``<store folder>/runs/<run id>/``.
"""
from __future__ import annotations

import csv
import os
import platform
import shutil
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Optional, Sequence

from mldsl.backends.base import PER_CLASS_KEY, EpochCallback, RunResult, choose_backend, history_columns
from mldsl.engine.artifact_files import partial_folder, replace_atomically
from mldsl.engine.interrupts import SigintGuard
from mldsl.engine.plots import plot_confusion, plot_history
from mldsl.engine.records import RunRecord
from mldsl.engine.store import Store
from mldsl.engine.store_file import explain_os_error
from mldsl.components import logged_metrics
from mldsl.errors import MldslError, StoreError


#: Seconds between durable saves of a running experiment's per-epoch history.
HISTORY_SAVE_INTERVAL = 1.0

#: The PNG of the per-class evaluation (``metrics["per_class"]``) in a run's artifacts folder.
CONFUSION_PNG = "confusion.png"


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped :func:`run_experiment`. ``record`` is the run as the store now holds it
    (``interrupted``, or ``completed`` when everything had finished; None when nothing was recorded);
    the message says which, for the front ends to print."""

    def __init__(self, message: str, record: Optional[RunRecord] = None):
        super().__init__(message)
        self.record = record

    def __str__(self) -> str:
        return str(self.args[0])


class RunFailed(MldslError):
    """A run failed outside the backend (its artifacts could not be written); ``record`` is the run as
    recorded (``failed``), or None when the store could not record it either."""

    def __init__(self, message: str, record: Optional[RunRecord] = None):
        super().__init__(message)
        self.record = record


@dataclass
class RunOutcome:
    """What :func:`run_experiment` gives back: the stored record, the backend's result and the artifacts."""

    record: RunRecord
    result: Optional[RunResult]
    artifacts: Optional[Path]


def versions(backend_name: str) -> dict:
    """Versions of mldsl, Python, NumPy, the backend's framework and every installed mldsl plugin."""
    out = {"python": platform.python_version()}
    dists = ["mldsl", "numpy", "scipy"] + (["tensorflow", "tensorflow-cpu", "keras"] if backend_name == "keras" else [])
    for dist in dists:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    from mldsl.registry import get_registry

    for plugin in get_registry().plugins():
        if not plugin.blocked:
            out[f"plugin:{plugin.name}"] = plugin.dist_version or "(not installed)"
    return out


def _write_history_csv(path: Path, history: Sequence[dict], columns: Sequence[str]) -> None:
    """Writes ``history`` as CSV: the keys of its rows, or ``columns`` (a trained run's) when it has none."""
    keys: list[str] = [] if history else list(columns)
    for row in history:
        keys.extend(k for k in row if k not in keys)
    if "seconds" in keys:  # last, after keys only some epochs have (test_*, every eval_every epochs)
        keys.remove("seconds")
        keys.append("seconds")

    def write(temp: Path) -> None:
        with temp.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=keys)
            writer.writeheader()
            writer.writerows(history)

    replace_atomically(path, write)


class _RecordedRun:
    """One run's record and artifacts as the protected sequence of :func:`run_experiment` builds them."""

    def __init__(self, store: Store, guard: SigintGuard, name: str, experiment: Any):
        self.store, self.guard, self.name, self.experiment = store, guard, name, experiment
        self.epochs: Optional[int] = experiment.sym_get("training.num_epochs", None)
        self.record: Optional[RunRecord] = None
        self.artifacts: Optional[Path] = None
        self.history: list[dict] = []
        self.result: Optional[RunResult] = None
        self.phase = "starting"
        self.history_error: Optional[StoreError] = None
        self._last_saved = -float("inf")

    # -- the steps --
    def start(self, text: str, **fields) -> None:
        """Records the run as ``running`` and makes its artifacts folder (with ``experiment.mlx``)."""
        self.record = self.store.start_run(experiment_mlx=text, name=self.name, **fields)
        self.artifacts = self.store.path.parent / "runs" / self.record.id
        self.phase = "making the artifacts folder"
        self.artifacts.mkdir(parents=True, exist_ok=True)
        (self.artifacts / "experiment.mlx").write_text(text + ("" if text.endswith("\n") else "\n"))
        self.store.set_run_artifacts(self.record.id, self.artifacts)
        self.phase = "starting"

    def epoch_hook(self, on_epoch: Optional[EpochCallback]) -> EpochCallback:
        def hook(epoch: int, logs: dict) -> Optional[bool]:
            self.history.append({"epoch": epoch, **logs})
            # Durable history for a run killed outright: the first epoch, then at most once per
            # HISTORY_SAVE_INTERVAL (a commit per 3 ms epoch would cost more than the training). The
            # outcome records the complete history. A store that fails here is reported then.
            now = time.monotonic()
            if self.history_error is None and now - self._last_saved >= HISTORY_SAVE_INTERVAL:
                try:
                    with self.guard.deferred():
                        self.store.update_run_history(self.record.id, self.history)
                except StoreError as exc:
                    self.history_error = exc
                self._last_saved = now
                self.guard.raise_pending()
            return on_epoch(epoch, logs) if on_epoch is not None else None

        return hook

    def save_model(self, runner: Any) -> None:
        """Saves the model to ``model/`` through ``model.partial/``, so ``model/`` is whole or absent."""
        final = self.artifacts / "model"
        partial = partial_folder(final)
        try:
            runner.save_model(self.result.model, partial)
            with self.guard.deferred():
                if final.exists():
                    shutil.rmtree(final)
                os.replace(partial, final)
        finally:
            if partial.exists():
                shutil.rmtree(partial, ignore_errors=True)

    def write_history(self, plot: bool) -> None:
        history = self.result.history if self.result is not None else self.history
        self.phase = "writing history.csv"
        _write_history_csv(self.artifacts / "history.csv", history, self.history_columns())
        if plot:
            self.phase = "plotting the history"
            plot_history(self.artifacts / "history.png", history, self.name)
            per_class = self.result.metrics.get(PER_CLASS_KEY) if self.result is not None else None
            if per_class:
                self.phase = "plotting the confusion matrix"
                plot_confusion(self.artifacts / CONFUSION_PNG, per_class, self.name)

    def history_columns(self) -> list:
        """The columns a trained run of this experiment has in its history (for a run of none)."""
        if self.result is not None:
            metrics = [k for k in self.result.metrics if k != PER_CLASS_KEY]
        else:
            metrics = logged_metrics(self.experiment) or ["loss"]
        validation = float(self.experiment.sym_get("training.validation_split", 0.0) or 0.0) > 0
        eval_every = int(self.experiment.sym_get("training.eval_every", 0) or 0) > 0
        return history_columns(metrics, validation, eval_every)

    def finish(self, status: str, error: Optional[str] = None) -> RunRecord:
        """Records the outcome (Ctrl-C waits for it); StoreError when the store cannot."""
        result = self.result
        with self.guard.deferred():
            return self.store.finish_run(
                self.record.id, status=status, error=error,
                metrics=result.metrics if result is not None else None,
                history=result.history if result is not None else self.history,
                backend=result.backend if result is not None else None,
                backend_reason=result.backend_reason if result is not None else None,
                warnings=result.warnings if result is not None else None)

    # -- what happened, in words --
    def epochs_done(self) -> str:
        done = len(self.result.history if self.result is not None else self.history)
        return f"{done} of {self.epochs} epoch(s)" if self.epochs else f"{done} epoch(s)"

    def interrupted_error(self) -> str:
        text = f"interrupted by the user (Ctrl-C) while {self.phase}"
        if self.result is not None:
            text += "; training had finished, its metrics are kept"
            if self.phase == "saving the model":
                text += "; the model was not saved"
        else:
            text += f", after {self.epochs_done()}"
        return text

    def not_recorded(self, what: str, exc: StoreError) -> str:
        return (f"{what}, but the store could not record it ({exc}); `mldsl runs` will show run "
                f"{self.record.id} as crashed once this process has ended")


def _interrupted(run: _RecordedRun) -> RunInterrupted:
    """Finalises ``run`` as interrupted and says so (or says what could not be recorded)."""
    phase, error = run.phase, run.interrupted_error()
    if run.artifacts is not None:
        try:
            run.write_history(plot=False)
        except OSError:
            pass  # the outcome below says what was kept
    try:
        final = run.finish("interrupted", error=error)
    except StoreError as exc:
        run.store.release_run(run.record.id)
        return RunInterrupted(run.not_recorded("interrupted", exc))
    kept = "its metrics (training had finished)" if run.result is not None else \
        f"the {run.epochs_done()} it finished"
    return RunInterrupted(f"interrupted while {phase}: run {final.id} is recorded as interrupted with {kept}; "
                          f"artifacts in {run.artifacts}", final)


def _failed(run: _RecordedRun, exc: BaseException) -> BaseException:
    """Finalises ``run`` as failed; returns the error to raise (``exc`` itself for the backend's errors)."""
    if isinstance(exc, OSError):
        reason = explain_os_error(f"{run.phase} for run {run.record.id}:", run.artifacts, exc)
    else:
        reason = f"{type(exc).__name__}: {exc}"
    if run.artifacts is not None and run.phase == "training":  # what it trained is kept as history.csv
        try:
            run.write_history(plot=True)
        except Exception:
            pass  # the failure itself is what the record and the message report
    try:
        final = run.finish("failed", error=reason)
    except StoreError as store_exc:
        run.store.release_run(run.record.id)
        return StoreError(run.not_recorded(f"the run failed ({reason})", store_exc))
    if isinstance(exc, OSError):
        return RunFailed(f"{reason}; run {final.id} is recorded as failed"
                         + (" (its metrics are kept)" if run.result is not None else ""), final)
    return exc


def run_experiment(experiment: Any, *, name: str, store: Optional[Store] = None, source: Optional[str] = None,
                   patches: Sequence[str] = (), backend: Optional[str] = None, seed: Optional[int] = None,
                   on_epoch: Optional[EpochCallback] = None,
                   save_model: bool = True) -> RunOutcome:
    """Trains and evaluates ``experiment`` on its backend and records the run in ``store``.

    ``backend``/``seed`` override the experiment's own fields (and are recorded as such). A run that
    fails is recorded with its reason and what it had, then the error is raised (:class:`RunFailed` when
    its artifacts cannot be written). Once the run is recorded, Ctrl-C raises :class:`RunInterrupted` (a
    ``KeyboardInterrupt``) whose message and ``record`` say how the run is recorded; a plain
    ``KeyboardInterrupt`` means nothing was recorded yet.
    """
    from mldsl.registry import get_registry

    overrides = {}
    if seed is not None:
        overrides["seed"] = seed
    if backend is not None:
        overrides["backend"] = backend
    if overrides:
        experiment = experiment.clone(deep=True, override=overrides)
    from mldsl.hyper import is_deterministic

    if not is_deterministic(experiment):
        raise MldslError(f"{name!r} is a search space (it has oneof/manyof/floatv/intv values); "
                         "run it with `mldsl search`, or pick values with --set")
    runner, reason = choose_backend(experiment.backend, experiment, get_registry())
    chosen = runner.name
    from mldsl.dsl.printer import to_mlx  # the printer depends on symbolic only; it sits below the engine

    text = to_mlx(experiment, name=name)  # a whole program: `experiment NAME = ...`, so --rerun can parse it
    epochs = experiment.sym_get("training.num_epochs", None)
    if store is None:
        return _unrecorded(experiment, runner, chosen, reason, epochs, on_epoch)
    with SigintGuard() as guard:
        run = _RecordedRun(store, guard, name, experiment)
        try:
            with guard.deferred():
                run.start(text, source=source, patches=list(patches), seed=experiment.seed, backend=chosen,
                          versions=versions(chosen))
            guard.raise_pending()
            run.phase = "training"
            result = runner.run(experiment, on_epoch=run.epoch_hook(on_epoch))
            result.backend = result.backend or chosen
            result.backend_reason = result.backend_reason or reason
            run.result = result
            if save_model and result.model is not None and hasattr(runner, "save_model"):
                run.phase = "saving the model"
                run.save_model(runner)
            run.write_history(plot=True)
            run.phase = "recording the outcome"
        except KeyboardInterrupt:
            if run.record is None:
                raise
            with guard.deferred():
                stop = _interrupted(run)
            raise stop from None
        except Exception as exc:
            if run.record is None:
                raise  # nothing was recorded: the error says why
            with guard.deferred():
                error = _failed(run, exc)
            raise error from (None if error is exc else exc)
        try:
            final = run.finish("completed")
        except StoreError as exc:
            store.release_run(run.record.id)
            metrics = ", ".join(f"{k}={v}" for k, v in run.result.metrics.items() if k != PER_CLASS_KEY)
            raise StoreError(run.not_recorded(f"the run finished ({metrics}; artifacts in {run.artifacts})",
                                              exc)) from None
        if guard.pending:
            raise RunInterrupted(f"interrupted after the run finished: run {final.id} is recorded as completed; "
                                 f"artifacts in {run.artifacts}", final)
    return RunOutcome(record=final, result=run.result, artifacts=run.artifacts)


def _unrecorded(experiment: Any, runner: Any, chosen: str, reason: str, epochs: Optional[int],
                on_epoch: Optional[EpochCallback]) -> RunOutcome:
    done: list = []

    def hook(epoch: int, logs: dict) -> Optional[bool]:
        done.append(epoch)
        return on_epoch(epoch, logs) if on_epoch is not None else None

    try:
        result = runner.run(experiment, on_epoch=hook)
    except KeyboardInterrupt:
        raise RunInterrupted(f"interrupted after {len(done)}" + (f" of {epochs}" if epochs else "")
                             + " epoch(s); nothing was recorded (the run was not stored)") from None
    result.backend = result.backend or chosen
    result.backend_reason = result.backend_reason or reason
    return RunOutcome(record=None, result=result, artifacts=None)
