"""Every picture mldsl draws, as a PNG: a run's history, a search's trials, dataset examples, several runs'
curves overlaid, and first-layer weights as images.

Each function takes plain values (histories, trial records, NumPy arrays), draws with matplotlib's Agg
backend (imported on the first call, so importing this module stays cheap), writes the file whole or not
at all (:func:`~mldsl.engine.artifact_files.replace_atomically`; a missing parent folder is made) and
returns a :class:`Picture`: the path and what was drawn (the panels' labels, the curves, the images), which
callers and tests read instead of pixels, and which a notebook displays inline (``_repr_png_``).
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mldsl.engine.artifact_files import replace_atomically

#: Keys of a history row that are not curves.
NOT_CURVES = ("epoch", "seconds")


@dataclass
class Picture:
    """A PNG written by this module and what it shows.

    ``labels``: the title of each drawn image (or the label of each heat-map row, or each panel's
    title), read back from the figure; ``curves``: panel -> legend label -> the values of the line drawn,
    read back from the figure; ``images``: the arrays drawn, one per label.
    """

    path: Path
    labels: List[str] = field(default_factory=list)
    curves: Dict[str, Dict[str, List[Optional[float]]]] = field(default_factory=dict, repr=False)
    images: Any = field(default=None, repr=False)

    def _repr_png_(self) -> bytes:
        """The PNG's bytes: Jupyter shows a returned picture inline."""
        return Path(self.path).read_bytes()


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _closing(draw: Any) -> Any:
    """``draw``, closing the figures it opened even when it fails (pyplot keeps every open figure)."""
    @functools.wraps(draw)
    def closing(*args: Any, **kwargs: Any) -> Any:
        plt = _pyplot()
        before = set(plt.get_fignums())
        try:
            return draw(*args, **kwargs)
        finally:
            for number in set(plt.get_fignums()) - before:
                plt.close(number)

    return closing


def _save(fig: Any, path: Path) -> Path:
    """Writes ``fig`` to ``path`` as a PNG (whole or absent) and closes it."""
    plt = _pyplot()
    try:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_atomically(path, lambda temp: fig.savefig(temp, dpi=100, format="png"))
    finally:
        plt.close(fig)
    return path


def _title(fig: Any, title: str) -> None:
    """The figure's title, wrapped to its width."""
    import textwrap

    fig.suptitle(textwrap.fill(title, max(20, int(fig.get_figwidth() * 11))), fontsize=11)


def _grid(count: int, width: float = 1.4, title_space: float = 0.5) -> Tuple[Any, List[Any]]:
    """A figure of ``count`` small square panels in a near-square grid; the unused panels hidden."""
    cols = max(1, math.ceil(math.sqrt(count)))
    rows = max(1, math.ceil(count / cols))
    fig, axes = _pyplot().subplots(rows, cols, figsize=(width * cols, (width + 0.25) * rows + title_space),
                                   squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in flat[count:]:
        ax.set_axis_off()
    return fig, flat[:count]


# ----------------------------------------------------------------------------------- image shapes
def image_shape(shape: Sequence[int]) -> Optional[Tuple[int, ...]]:
    """How one example of ``shape`` is drawn as an image: ``(H, W)`` (grayscale) or ``(H, W, 3|4)``
    (colour); None when it is not an image (a vector of features, a volume)."""
    shape = tuple(int(d) for d in shape)
    if len(shape) == 2 and min(shape) >= 2:
        return shape
    if len(shape) == 3 and min(shape[:2]) >= 2 and shape[2] in (1, 3, 4):
        return shape[:2] if shape[2] == 1 else shape
    return None


def _as_images(values: Any, shape: Tuple[int, ...]) -> Any:
    import numpy as np

    return np.asarray(values, dtype=np.float64).reshape((len(values),) + tuple(shape))


# ----------------------------------------------------------------------------------- the pictures
@_closing
def plot_history(path: Path, history: Sequence[dict], title: str) -> Optional[Path]:
    """Draws loss and the metric per epoch (train, validation and test) to a PNG; None when there is no
    history. The test curve (``test_*``, every ``eval_every`` epochs) has a point at each epoch that
    evaluated it."""
    if not history:
        return None
    plt = _pyplot()
    metric_keys = [k for k in history[0] if k not in NOT_CURVES + ("loss",) and not k.startswith(("val_", "test_"))]
    panels = ["loss"] + metric_keys[:1]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.5), squeeze=False)
    epochs = [row.get("epoch", i + 1) for i, row in enumerate(history)]
    for ax, key in zip(axes[0], panels):
        ax.plot(epochs, [row.get(key) for row in history], marker="o", label=key)
        for prefix in ("val_", "test_"):
            points = [(e, row[prefix + key]) for e, row in zip(epochs, history) if prefix + key in row]
            if points:
                ax.plot(*zip(*points), marker="o", label=prefix + key)
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


@_closing
def plot_confusion(path: Path, per_class: dict, title: str) -> Path:
    """Draws a run's per-class evaluation (``metrics["per_class"]``, see :mod:`mldsl.data.per_class`) to a
    PNG: the confusion matrix (rows: true class, columns: predicted; each cell's count written in it) and
    each class's test accuracy."""
    plt = _pyplot()
    classes = [str(c) for c in per_class["classes"]]
    confusion = per_class["confusion"]
    accuracy = [a if isinstance(a, (int, float)) else 0.0 for a in per_class["accuracy"]]
    size = len(classes)
    fig, (left, right) = plt.subplots(1, 2, figsize=(5 + 0.35 * size + 4, 4 + 0.25 * size))
    image = left.imshow(confusion, cmap="Blues")
    top = max((max(row) for row in confusion), default=0)
    if size <= 30:
        for i, row in enumerate(confusion):
            for j, count in enumerate(row):
                if count:
                    left.text(j, i, str(count), ha="center", va="center", fontsize=8,
                              color="white" if count > top / 2 else "black")
    left.set_xticks(range(size), classes)
    left.set_yticks(range(size), classes)
    left.set_xlabel("predicted class")
    left.set_ylabel("true class")
    left.set_title("confusion matrix (test)")
    fig.colorbar(image, ax=left, fraction=0.046)
    right.bar(range(size), accuracy, color="tab:blue")
    right.set_xticks(range(size), classes)
    right.set_ylim(0, 1)
    right.set_xlabel("class")
    right.set_title("test accuracy per class")
    right.grid(alpha=0.3, axis="y")
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


@_closing
def plot_trials(path: Path, study: Any, trials: Sequence[Any]) -> Path:
    """The objective of each trial (completed and stopped) and the best-so-far line of ``study``."""
    plt = _pyplot()
    sign = 1.0 if study.direction == "maximize" else -1.0
    fig, ax = plt.subplots(figsize=(7, 4))
    for status, marker, color in (("completed", "o", "tab:blue"), ("stopped", "x", "tab:orange")):
        pts = [(t.number, t.reward) for t in trials if t.status == status and t.reward is not None]
        if pts:
            ax.scatter(*zip(*pts), marker=marker, color=color, label=status, zorder=3)
    xs, ys, current = [], [], None
    for t in trials:
        if t.status == "completed" and t.reward is not None and (current is None or sign * t.reward > sign * current):
            current = t.reward
        if current is not None:
            xs.append(t.number)
            ys.append(current)
    if xs:
        ax.step(xs, ys, where="post", color="tab:green", label="best so far")
    failed = [t.number for t in trials if t.status == "failed"]
    if failed:
        ax.plot(failed, [0.02] * len(failed), "v", color="tab:red", label="failed", zorder=3,
                transform=ax.get_xaxis_transform())
    ax.set_xlabel("trial")
    ax.set_ylabel(study.objective)
    ax.set_title(f"{study.name}: {study.direction} {study.objective}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return _save(fig, path)


@_closing
def plot_examples(path: Path, x: Any, labels: Sequence[str], title: str) -> Picture:
    """Examples ``x`` (one per row) with their ``labels``: a grid of images when an example is one
    (:func:`image_shape`), else one heat map with a row of features per example."""
    import numpy as np

    x = np.asarray(x)
    labels = [str(label) for label in labels]
    shape = image_shape(x.shape[1:])
    if shape is None:
        rows = x.reshape(len(x), -1).astype(np.float64)
        fig, ax = _pyplot().subplots(figsize=(min(12.0, 2 + 0.3 * rows.shape[1]), 1.2 + 0.3 * len(rows)))
        shown = ax.imshow(rows, aspect="auto", cmap="viridis", interpolation="nearest")
        ax.set_yticks(range(len(rows)), [f"{i}: {label}" for i, label in enumerate(labels)])
        ax.set_xlabel(f"feature (of {rows.shape[1]})")
        ax.set_ylabel("example: label")
        fig.colorbar(shown, ax=ax)
        ax.set_title(title)
        fig.tight_layout()
        drawn = [tick.get_text().partition(": ")[2] for tick in ax.get_yticklabels()]
        return Picture(_save(fig, path), drawn, images=rows)
    images = _as_images(x, shape)
    fig, axes = _grid(len(images))
    low, high = float(images.min()), float(images.max())
    for ax, image, label in zip(axes, images, labels):
        if image.ndim == 2:
            ax.imshow(image, cmap="gray_r", vmin=low, vmax=high, interpolation="nearest")
        else:
            ax.imshow(np.clip((image - low) / ((high - low) or 1.0), 0.0, 1.0), interpolation="nearest")
        ax.set_title(label, fontsize=10)
    _title(fig, title)
    fig.tight_layout()
    drawn = [ax.get_title() for ax in fig.axes if ax.images]
    return Picture(_save(fig, path), drawn, images=images)


@_closing
def plot_curves(path: Path, runs: Sequence[Tuple[str, Sequence[dict]]], keys: Sequence[str], title: str) -> Picture:
    """Several runs' histories overlaid: one panel per key of ``keys`` (loss, a metric), one colour per
    run (``(legend label, history)``), its ``val_`` curve dashed in the same colour when recorded."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(keys), figsize=(5.5 * len(keys), 4.2), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    curves: Dict[str, Dict[str, List[Optional[float]]]] = {}
    for ax, key in zip(axes[0], keys):
        for i, (label, history) in enumerate(runs):
            colour = colours[i % len(colours)]
            epochs = [row.get("epoch", n + 1) for n, row in enumerate(history)]
            for name, dashes, text in ((key, "-", label), (f"val_{key}", "--", f"{label} (val)")):
                if not any(name in row for row in history):
                    continue
                values = [row.get(name) for row in history]
                values = [float(v) if isinstance(v, (int, float)) else None for v in values]
                ax.plot(epochs, [math.nan if v is None else v for v in values], dashes, color=colour,
                        marker="o", markersize=4, label=text)
        curves[key] = {line.get_label(): [None if math.isnan(v) else float(v) for v in line.get_ydata()]
                       for line in ax.get_lines()}
        ax.set_xlabel("epoch")
        ax.set_title(key + "  (dashed: validation)" if any(" (val)" in t for t in curves[key]) else key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return Picture(_save(fig, path), list(keys), curves=curves)


@_closing
def plot_weights(path: Path, kernel: Any, shape: Tuple[int, ...], title: str) -> Picture:
    """A Dense kernel ``(inputs, units)`` as one image per unit: its incoming weights reshaped to ``shape``
    (the input image's), each on its own symmetric scale (red positive, blue negative, white zero; colour
    images scaled to [0, 1] per unit)."""
    import numpy as np

    kernel = np.asarray(kernel, dtype=np.float64)
    images = kernel.T.reshape((kernel.shape[1],) + tuple(shape))
    labels = [f"unit {i}" for i in range(len(images))]
    fig, axes = _grid(len(images), width=1.2)
    for ax, image, label in zip(axes, images, labels):
        if image.ndim == 2:
            scale = float(np.abs(image).max()) or 1.0
            ax.imshow(image, cmap="RdBu_r", vmin=-scale, vmax=scale, interpolation="nearest")
        else:
            low, high = float(image.min()), float(image.max())
            ax.imshow((image - low) / ((high - low) or 1.0), interpolation="nearest")
        ax.set_title(label, fontsize=8)
    _title(fig, title)
    fig.tight_layout()
    drawn = [ax.get_title() for ax in fig.axes if ax.images]
    return Picture(_save(fig, path), drawn, images=images)
