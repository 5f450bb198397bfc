"""Run one experiment: pick its backend, train, evaluate, and record everything in the store.

The run is recorded as ``running`` before training starts, its history is saved after every epoch, and
it ends ``completed``, ``failed`` (with the error) or ``interrupted`` (Ctrl-C, with what it had), so a
run is never lost. Artifacts go to ``<store folder>/runs/<run id>/``.
"""
from __future__ import annotations

import csv
import platform
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Optional, Sequence

from mldsl.backends.base import EpochCallback, RunResult, choose_backend
from mldsl.errors import MldslError
from mldsl.engine.store import RunRecord, Store


#: Seconds between durable saves of a running experiment's per-epoch history.
HISTORY_SAVE_INTERVAL = 1.0


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


def _write_history_csv(path: Path, history: Sequence[dict]) -> None:
    keys: list[str] = []
    for row in history:
        keys.extend(k for k in row if k not in keys)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(history)


def plot_history(path: Path, history: Sequence[dict], title: str) -> Optional[Path]:
    """Draws loss and the metric per epoch (train and validation) to a PNG with matplotlib's Agg."""
    if not history:
        return None
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    metric_keys = [k for k in history[0] if k not in ("epoch", "seconds", "loss") and not k.startswith("val_")]
    panels = ["loss"] + metric_keys[:1]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.5), squeeze=False)
    epochs = [row.get("epoch", i + 1) for i, row in enumerate(history)]
    for ax, key in zip(axes[0], panels):
        ax.plot(epochs, [row.get(key) for row in history], marker="o", label=key)
        if any(f"val_{key}" in row for row in history):
            ax.plot(epochs, [row.get(f"val_{key}") for row in history], marker="o", label=f"val_{key}")
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def run_experiment(experiment: Any, *, name: str, store: Optional[Store] = None, source: Optional[str] = None,
                   patches: Sequence[str] = (), backend: Optional[str] = None, seed: Optional[int] = None,
                   on_epoch: Optional[EpochCallback] = None,
                   save_model: bool = True) -> RunOutcome:
    """Trains and evaluates ``experiment`` on its backend and records the run in ``store``.

    ``backend``/``seed`` override the experiment's own fields (and are recorded as such). A run that
    fails or is interrupted is recorded with its reason and what it had, then the error is re-raised.
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

    record = None
    artifacts = None
    if store is not None:
        record = store.start_run(name=name, experiment_mlx=text, source=source, patches=list(patches),
                                 seed=experiment.seed, backend=chosen, versions=versions(chosen))
        artifacts = store.path.parent / "runs" / record.id
        artifacts.mkdir(parents=True, exist_ok=True)
        (artifacts / "experiment.mlx").write_text(text + ("" if text.endswith("\n") else "\n"))
        store.set_run_artifacts(record.id, artifacts)

    history: list[dict] = []
    last_saved = [-float("inf")]

    def epoch_hook(epoch: int, logs: dict) -> Optional[bool]:
        history.append({"epoch": epoch, **logs})
        # Durable history for a run killed outright: the first epoch, then at most once per
        # HISTORY_SAVE_INTERVAL (a commit per 3 ms epoch would cost more than the training).
        # The final record, a failure and Ctrl-C all store the complete history.
        now = time.monotonic()
        if store is not None and now - last_saved[0] >= HISTORY_SAVE_INTERVAL:
            store.update_run_history(record.id, history)
            last_saved[0] = now
        return on_epoch(epoch, logs) if on_epoch is not None else None

    try:
        result = runner.run(experiment, on_epoch=epoch_hook)
    except KeyboardInterrupt:
        if store is not None:
            store.finish_run(record.id, status="interrupted", history=history,
                             error="interrupted by the user (Ctrl-C)")
            _write_artifacts(artifacts, history, name)
        raise
    except Exception as exc:  # recorded, then re-raised for the caller to report
        if store is not None:
            store.finish_run(record.id, status="failed", history=history, error=f"{type(exc).__name__}: {exc}")
            _write_artifacts(artifacts, history, name)
        raise
    result.backend = result.backend or chosen
    result.backend_reason = reason
    if store is None:
        return RunOutcome(record=None, result=result, artifacts=None)
    if save_model and result.model is not None and hasattr(runner, "save_model"):
        runner.save_model(result.model, artifacts / "model")
    _write_artifacts(artifacts, result.history, name)
    final = store.finish_run(record.id, status="completed", metrics=result.metrics, history=result.history,
                             backend=result.backend)
    return RunOutcome(record=final, result=result, artifacts=artifacts)


def _write_artifacts(artifacts: Optional[Path], history: Sequence[dict], title: str) -> None:
    if artifacts is None:
        return
    _write_history_csv(artifacts / "history.csv", history)
    plot_history(artifacts / "history.png", history, title)
