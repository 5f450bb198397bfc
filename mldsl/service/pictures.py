"""The pictures people look at, and the text beside them: a dataset's examples, several runs' curves
overlaid, a run's first-layer weights as images.

Each comes as a value the front ends print (``lines()``, a table) and draw (``plot(path)``, through
:mod:`mldsl.engine.plots`): ``mldsl data``, ``mldsl runs compare``, ``mldsl runs weights``, the REPL's
``:data``, ``:compare`` and ``:weights``, and the Python functions :func:`plot_examples`, :func:`plot_runs`
and :func:`plot_first_layer` (exported by ``mldsl``). Runs are read from the store
(:mod:`mldsl.service.stores`); weights from the run's ``model/weights.npz``, which both backends write and
which is read without pickle and without TensorFlow.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

from mldsl.backends.base import PER_CLASS_KEY
from mldsl.errors import MldslError
from mldsl.service.output import metric_text

#: The examples a grid shows unless told otherwise.
DEFAULT_COUNT = 25
#: The most examples or units one picture draws.
MAX_COUNT = 400
#: Layers without weights that may come before the first Dense layer of a model whose weights are drawn.
WEIGHTLESS = ("Flatten", "Dropout", "Activation")


def png_path(path: str | os.PathLike) -> Path:
    """``path`` as the PNG to write; an :class:`MldslError` unless it ends in ``.png``."""
    path = Path(os.path.expanduser(os.fspath(path)))
    if path.suffix.lower() != ".png":
        raise MldslError(f"pictures are written as PNG: name the file FILE.png (got {os.fspath(path)!r})")
    if path.is_dir():
        raise MldslError(f"{path} is a folder; name the PNG file to write, e.g. {path / 'picture.png'}")
    return path


def _draw(draw, path: Path, *args) -> Any:
    """Calls ``draw(path, *args)``; a file that cannot be written is an :class:`MldslError` saying why."""
    try:
        return draw(path, *args)
    except OSError as exc:
        raise MldslError(f"cannot write the picture {path}: {exc.strerror or exc}; name another file") from None


def _count(count: Optional[int], default: int = DEFAULT_COUNT) -> int:
    count = default if count is None else int(count)
    if not 1 <= count <= MAX_COUNT:
        raise MldslError(f"--count must be between 1 and {MAX_COUNT}, got {count}")
    return count


# ------------------------------------------------------------------------------------ datasets
@dataclass
class DataView:
    """A loaded dataset (``splits``: :class:`mldsl.data.DataSplits`) and the name it is shown by."""

    name: str
    splits: Any

    def part(self, split: str) -> Tuple[Any, Any]:
        if split not in ("train", "test"):
            raise MldslError(f"the split is train or test, got {split!r}")
        return getattr(self.splits, "x_" + split), getattr(self.splits, "y_" + split)

    def label_text(self, label: int) -> str:
        names = self.splits.class_names
        return names[label] if names is not None and 0 <= label < len(names) else str(int(label))

    def lines(self) -> List[str]:
        """Shapes, sizes, value range and the examples of each class, per split."""
        import numpy as np

        from mldsl.engine.plots import image_shape

        s = self.splits
        kind = "images" if image_shape(s.input_shape) is not None else "not images: a vector of features"
        lines = [f"{self.name}: {len(s.x_train) + len(s.x_test)} examples of shape {s.input_shape} ({kind}), "
                 f"{s.num_classes} classes"]
        for split in ("train", "test"):
            x, y = self.part(split)
            counts = Counter(int(v) for v in np.asarray(y))
            per_class = ", ".join(f"{self.label_text(c)}: {counts[c]}" for c in sorted(counts))
            values = f", values in [{metric_text(float(x.min()))}, {metric_text(float(x.max()))}]" if len(x) else ""
            lines.append(f"  {split}: {len(x)} examples, x {tuple(x.shape)} {x.dtype}{values}")
            lines.append(f"    per class: {per_class or 'none'}")
        return lines

    def plot(self, path: str | os.PathLike, *, count: Optional[int] = None, split: str = "train") -> Any:
        """The first ``count`` examples of ``split`` with their labels (see :func:`plot_examples`)."""
        from mldsl.engine.plots import plot_examples as draw

        path = png_path(path)
        x, y = self.part(split)
        if len(x) == 0:
            raise MldslError(f"{self.name} has no {split} examples to draw")
        n = min(_count(count), len(x))
        labels = [self.label_text(int(label)) for label in y[:n]]
        title = f"{self.name}: the first {n} {split} examples"
        return _draw(draw, path, x[:n], labels, title)


def data_view(value: Any, name: Optional[str] = None) -> DataView:
    """The dataset of ``value``: an experiment (its ``data``), a dataset component, or ``DataSplits``;
    loaded once (:class:`mldsl.errors.DataError` says what is missing when it cannot be)."""
    from mldsl.components import Dataset, ExperimentBase
    from mldsl.data import DataSplits

    if isinstance(value, DataSplits):
        return DataView(name or "the dataset", value)
    dataset = value.sym_get("data", None) if isinstance(value, ExperimentBase) else value
    if not isinstance(dataset, Dataset):
        what = getattr(type(value), "type_name", type(value).__name__)
        raise MldslError(f"{name or 'the value'} is a {what}, not an experiment or a dataset; name one whose "
                         "data to show (an experiment, or a dataset such as Digits())")
    from mldsl.hyper import is_deterministic

    if not is_deterministic(dataset):
        raise MldslError(f"the dataset of {name or 'the value'} is a search space (oneof, floatv, ...); "
                         "pick its values with --set first")
    label = f"{name} ({dataset.type_name})" if name else dataset.type_name
    return DataView(label, dataset.load())


def plot_examples(data: Any, path: str | os.PathLike, *, count: int = DEFAULT_COUNT, split: str = "train") -> Any:
    """Draws the first ``count`` examples of ``split`` (``"train"`` or ``"test"``) of ``data`` (an
    experiment, a dataset component or ``DataSplits``) to the PNG ``path``, each titled with its label:
    images as a grid, other examples as a heat map with one row of features each. Returns the
    :class:`~mldsl.engine.plots.Picture` (its ``labels`` and ``images``; shown inline in a notebook)."""
    return data_view(data).plot(path, count=count, split=split)


# ------------------------------------------------------------------------------------ runs compared
def _run_name(record: Any) -> str:
    """``run ID`` for a recorded run, ``trial N`` for a study's trial (whose id says so already)."""
    return record.id if str(record.id).startswith("trial ") else f"run {record.id}"


def _store(store: Any):
    """An open store: ``store`` itself when it is one, else the path resolved as every verb does."""
    from mldsl.engine.store import Store
    from mldsl.service.stores import open_store

    return store if isinstance(store, Store) else open_store(store, create=False)


def curve_keys(history: Sequence[dict]) -> List[str]:
    """The quantities a history records per epoch (``loss``, ``accuracy``, ...; not ``val_`` ones)."""
    from mldsl.engine.plots import NOT_CURVES

    keys: List[str] = []
    for row in history:
        keys += [k for k in row if k not in NOT_CURVES and not k.startswith("val_") and k not in keys]
    return keys


@dataclass
class Comparison:
    """Several recorded runs side by side: ``records`` (the store's ``RunRecord``s) in the order named."""

    records: List[Any]
    title: Optional[str] = None  # the picture's title (default: "runs ID, ID, ...")

    def label(self, record: Any) -> str:
        return f"{record.id} {record.name}"

    def curves(self) -> List[Any]:
        """The records that have a per-epoch history (a run of ``num_epochs = 0`` has none)."""
        return [r for r in self.records if r.history]

    def common_keys(self) -> List[str]:
        """The per-epoch quantities every run with a history recorded: ``loss`` first, then the others in
        the first such run's order."""
        curves = self.curves()
        if not curves:
            return []
        keys = curve_keys(curves[0].history)
        for record in curves[1:]:
            keys = [k for k in keys if k in curve_keys(record.history)]
        return sorted(keys, key=lambda k: k != "loss")

    def panels(self, metric: Optional[str] = None) -> List[str]:
        """``loss`` and ``metric`` (default: the first other common quantity), both recorded by every run."""
        common = self.common_keys()
        if not self.curves():
            return []
        if metric is not None:
            if metric not in common:
                raise MldslError(f"not every run recorded {metric!r} per epoch; the runs have in common: "
                                 f"{', '.join(common) or 'nothing'}")
            return [k for k in ("loss", metric) if k in common] if metric != "loss" else ["loss"]
        if not common:
            raise MldslError("these runs record no per-epoch quantity in common ("
                             + "; ".join(f"{r.id}: {', '.join(curve_keys(r.history))}" for r in self.records) + ")")
        others = [k for k in common if k != "loss"]
        return (["loss"] if "loss" in common else []) + others[:1]

    def headers(self) -> List[str]:
        return ["", *(self.label(r) for r in self.records)]

    def rows(self) -> List[List[str]]:
        """status, backend, epochs, then each final metric, one column per run ("-" where it has none)."""
        rows = [["status", *(r.status for r in self.records)],
                ["backend", *(r.backend or "-" for r in self.records)],
                ["epochs", *(str(len(r.history)) for r in self.records)]]
        keys: List[str] = []
        for r in self.records:
            keys += [k for k in r.metrics if k not in keys]
        for key in keys:
            if key == PER_CLASS_KEY:
                rows += self.class_rows()
                continue
            rows.append([key, *(metric_text(r.metrics[key]) if key in r.metrics else "-" for r in self.records)])
        return rows

    def class_rows(self) -> List[List[str]]:
        """One row per class of the runs' per-class evaluations (``evaluation.per_class``): its accuracy."""
        accuracies = []
        for r in self.records:
            per_class = r.metrics.get(PER_CLASS_KEY)
            accuracies.append(dict(zip(per_class.get("classes", []), per_class.get("accuracy", [])))
                              if isinstance(per_class, dict) else {})
        classes: List[Any] = []
        for accuracy in accuracies:
            classes += [c for c in accuracy if c not in classes]
        return [[f"class {c} accuracy", *(metric_text(a[c]) if a.get(c) is not None else "-" for a in accuracies)]
                for c in classes]

    def to_json(self) -> dict:
        """The ``--json`` payload: each run's id, name, status, backend, final metrics and history."""
        return {"runs": [{"id": r.id, "name": r.name, "status": r.status, "backend": r.backend,
                          "metrics": r.metrics, "history": r.history} for r in self.records],
                "common": self.common_keys()}

    def check_curves(self) -> None:
        """An :class:`MldslError` naming the first run without a per-epoch history (nothing to plot)."""
        for record in self.records:
            if not record.history:
                raise MldslError(f"{_run_name(record)} ({record.name}, {record.status}) recorded no epoch, so it "
                                 "has no curve to draw; leave it out of the plot")

    def plot(self, path: str | os.PathLike, *, metric: Optional[str] = None) -> Any:
        """Each run's loss and metric per epoch (validation dashed) in one figure, a colour per run."""
        from mldsl.engine.plots import plot_curves

        path = png_path(path)
        self.check_curves()
        panels = self.panels(metric)
        title = self.title or "runs " + ", ".join(r.id for r in self.records)
        return _draw(plot_curves, path, [(self.label(r), r.history) for r in self.records], panels, title)


def comparison(store: Any, run_ids: Sequence[str]) -> Comparison:
    """The runs ``run_ids`` (ids or unique prefixes, as ``mldsl runs`` shows them) of the open ``store``
    (a run without a per-epoch history compares by its final metrics only; it has no curve to plot)."""
    if len(run_ids) < 1:
        raise MldslError("name the runs to compare: mldsl runs compare ID ID ... (`mldsl runs` lists them)")
    records = []
    for run_id in run_ids:
        record = store.get_run(run_id)
        if any(r.id == record.id for r in records):
            raise MldslError(f"run {record.id} is named twice; name each run once")
        records.append(record)
    return Comparison(records)


#: The trials of a study a comparison takes when none are named: the best ones, at most this many.
BEST_TRIALS = 8


@dataclass
class TrialRun:
    """A trial of a search, seen as a run for :class:`Comparison` (``id``: ``trial N``)."""

    id: str
    name: str
    status: str
    history: list
    metrics: dict
    backend: Optional[str] = None


def study_comparison(store: Any, study: str, numbers: Sequence[str] = ()) -> Comparison:
    """The trials ``numbers`` of the study ``study`` (default: its best :data:`BEST_TRIALS` completed ones,
    best first), as runs to compare."""
    record = store.get_study(study)
    trials = {t.number: t for t in store.trials(record)}
    if numbers:
        chosen = []
        for number in numbers:
            if not str(number).isdigit() or int(number) not in trials:
                raise MldslError(f"study {study!r} has no trial {number!r}; its trials are numbered "
                                 f"{min(trials, default=0)}..{max(trials, default=-1)} (`mldsl trials --study {study}`)")
            chosen.append(trials[int(number)])
    else:
        sign = -1.0 if record.direction == "maximize" else 1.0
        done = [t for t in trials.values() if t.status == "completed" and t.reward is not None]
        chosen = sorted(done, key=lambda t: (sign * t.reward, t.number))[:BEST_TRIALS]
        if not chosen:
            raise MldslError(f"study {study!r} has no completed trial to compare")
    runs = [TrialRun(f"trial {t.number}", study, t.status, t.history, t.metrics) for t in chosen]
    which = "the best trials, best first: " if not numbers else "trials "
    return Comparison(runs, f"search {study}: {which}" + ", ".join(str(t.number) for t in chosen))


def compared(store: Any, ids: Sequence[str], study: Optional[str] = None) -> Comparison:
    """The runs ``ids`` of the open ``store``, or with ``study`` that study's trials numbered ``ids``."""
    return study_comparison(store, study, ids) if study else comparison(store, ids)


def plot_runs(run_ids: Sequence[str], path: str | os.PathLike, *, store: Any = None,
              metric: Optional[str] = None, study: Optional[str] = None) -> Any:
    """Draws the per-epoch loss and ``metric`` (default: the first other quantity all of them recorded)
    of the recorded runs ``run_ids`` overlaid in one PNG at ``path``, one colour per run, validation
    dashed. With ``study``, ``run_ids`` are that search's trial numbers (none: its best 8 trials).
    ``store``: a path (default: ``$MLDSL_STORE``, else ``./mldsl.db``) or an open store. Returns the
    :class:`~mldsl.engine.plots.Picture` (``curves``: panel -> "ID NAME" -> values)."""
    if isinstance(run_ids, (str, int)):
        run_ids = [run_ids]
    opened = _store(store)
    try:
        return compared(opened, [str(i) for i in run_ids], study).plot(path, metric=metric)
    finally:
        if opened is not store:
            opened.close()


# ------------------------------------------------------------------------------------ first-layer weights
@dataclass
class FirstLayer:
    """The first Dense layer of a recorded run: ``kernel`` ``(inputs, units)`` and the input image shape."""

    record: Any
    kernel: Any
    shape: Tuple[int, ...]
    layer: str  # the layer's path in the experiment, e.g. model.layers[1]

    def lines(self) -> List[str]:
        k = self.kernel
        return [f"run {self.record.id} ({self.record.name}, {self.record.backend}): {self.layer} is Dense with "
                f"{k.shape[1]} units over inputs of shape {self.shape}",
                f"  weights in [{metric_text(float(k.min()))}, {metric_text(float(k.max()))}], "
                f"mean |w| {metric_text(float(abs(k).mean()))}"]

    def plot(self, path: str | os.PathLike, *, count: Optional[int] = None) -> Any:
        """The first ``count`` units' incoming weights (default: all, at most 400) as images."""
        from mldsl.engine.plots import plot_weights

        path = png_path(path)
        n = min(_count(count, default=min(self.kernel.shape[1], MAX_COUNT)), self.kernel.shape[1])
        units = self.kernel.shape[1]
        title = (f"run {self.record.id} ({self.record.name}): {self.layer}'s incoming weights, "
                 f"{'all' if n == units else f'the first {n} of'} {units} units (red +, blue -)")
        return _draw(plot_weights, path, self.kernel[:, :n], self.shape, title)


def _experiment_of(record: Any) -> Any:
    """The experiment a run recorded, compiled from its ``.mlx``."""
    from mldsl.dsl.api import parse

    module = parse(record.experiment_mlx, filename=f"run {record.id}")
    return module[record.name] if record.name in module else next(iter(module.values()))


def _first_dense(record: Any, experiment: Any) -> str:
    """The path of the model's first Dense layer; an MldslError unless only weightless layers precede it."""
    layers = experiment.sym_get("model.layers", None)
    if layers is None:
        model = getattr(type(experiment.sym_get("model", None)), "type_name", "this model")
        raise MldslError(f"run {record.id}: the weights are drawn for a Sequential model's first Dense layer; "
                         f"{model} has no list of layers")
    for i, layer in enumerate(layers):
        name = getattr(type(layer), "type_name", type(layer).__name__)
        if name == "Dense":
            return f"model.layers[{i}]"
        if name not in WEIGHTLESS:
            raise MldslError(f"run {record.id}: the first layer with weights is {name} (model.layers[{i}]), not "
                             f"Dense; first-layer weights are drawn as images only when a Dense layer sees the "
                             f"inputs (after {', '.join(WEIGHTLESS)} at most)")
    raise MldslError(f"run {record.id}: the model has no Dense layer, so no weights to draw")


def first_layer(store: Any, run_id: str) -> FirstLayer:
    """The first Dense layer of the recorded run ``run_id``, from its ``model/weights.npz`` (both backends
    write it; read without pickle and without TensorFlow). Clear errors when the run saved no model,
    its first layer with weights is not Dense, or its inputs are not images."""
    from mldsl.backends.weight_files import WEIGHTS_FILE, load_weights
    from mldsl.engine.plots import image_shape

    record = store.get_run(run_id)
    experiment = _experiment_of(record)
    layer = _first_dense(record, experiment)
    folder = Path(record.artifacts) / "model" if record.artifacts else None
    if folder is None or not (folder / WEIGHTS_FILE).is_file():
        keras_only = folder is not None and (folder / "model.keras").is_file()
        why = (f"its model folder holds model.keras only (reading that needs TensorFlow: "
               f"mldsl.backends.keras.load_model)" if keras_only else
               f"it saved no model ({record.status}; artifacts: {record.artifacts or 'none'})")
        raise MldslError(f"run {record.id} has no {WEIGHTS_FILE} to draw: {why}")
    kernel = load_weights(folder / WEIGHTS_FILE)[0]["kernel"]
    shape = data_view(experiment).splits.input_shape
    drawn = image_shape(shape)
    if drawn is None:
        raise MldslError(f"run {record.id}: its inputs have shape {shape}, not images (H, W) or (H, W, C), so "
                         "the weights have no picture to take")
    size = 1
    for d in shape:
        size *= d
    if kernel.ndim != 2 or kernel.shape[0] != size:
        raise MldslError(f"run {record.id}: the saved first Dense kernel has shape {tuple(kernel.shape)}, which "
                         f"does not take inputs of shape {shape} ({size} values); the data changed since the run?")
    return FirstLayer(record, kernel, drawn, layer)


def plot_first_layer(run_id: str, path: str | os.PathLike, *, store: Any = None, count: Optional[int] = None) -> Any:
    """Draws each hidden unit's incoming weights of the recorded run's first Dense layer, reshaped to the
    input image's shape, as a grid in the PNG ``path`` (the NumPy notebook's picture). ``store``: a path
    (default: ``$MLDSL_STORE``, else ``./mldsl.db``) or an open store. Returns the
    :class:`~mldsl.engine.plots.Picture` (``images``: units x image shape)."""
    opened = _store(store)
    try:
        return first_layer(opened, run_id).plot(path, count=count)
    finally:
        if opened is not store:
            opened.close()


# ------------------------------------------------------------------------------------ what the front ends print
def _check_plot_options(plot: Optional[str], count: Optional[int], what: str) -> None:
    """Refuses a bad ``--plot`` name, a bad ``--count``, or ``--count`` without ``--plot`` (it counts the
    ``what`` drawn), before anything loads or prints."""
    if plot:
        png_path(plot)
        if count is not None:
            _count(count)
    elif count is not None:
        raise MldslError(f"--count is the number of {what} --plot draws; add --plot FILE.png")


def show_data(out: Any, value: Any, name: str, *, plot: Optional[str] = None, count: Optional[int] = None,
              split: str = "train") -> None:
    """``mldsl data`` and ``:data``: the dataset's lines on ``out`` (an :class:`~mldsl.service.output.Output`),
    then, with ``plot``, its first examples drawn there and the picture's path."""
    _check_plot_options(plot, count, "examples")  # a bad name or count is said before the data loads
    view = data_view(value, name)
    out.lines(view.lines())
    if plot:
        out.picture(view.plot(plot, count=count, split=split).path)


def show_comparison(out: Any, store: Any, run_ids: Sequence[str], *, metric: Optional[str] = None,
                    plot: Optional[str] = None, study: Optional[str] = None, as_json: bool = False) -> None:
    """``mldsl runs compare`` and ``:compare``: the runs' (or ``study``'s trials') final metrics side by
    side (``as_json``: as JSON, with ``"plot"``), then, with ``plot``, their curves overlaid and the
    picture's path."""
    if plot:
        png_path(plot)
    runs = compared(store, run_ids, study)
    panels = runs.panels(metric)  # checks --metric even without --plot
    if plot:
        runs.check_curves()  # before any output
    if as_json:
        import json

        payload = runs.to_json()
        payload["plot"] = str(runs.plot(plot, metric=metric).path) if plot else None
        out.print(json.dumps(payload, indent=2, default=float))
        return
    out.table(runs.headers(), runs.rows())
    if plot:
        out.print()
        out.picture(runs.plot(plot, metric=metric).path, f"{', '.join(panels)} per epoch")


def show_weights(out: Any, store: Any, run_id: str, *, plot: Optional[str] = None,
                 count: Optional[int] = None) -> None:
    """``mldsl runs weights`` and ``:weights``: the run's first Dense layer in words, then, with ``plot``,
    its units' incoming weights as images and the picture's path."""
    _check_plot_options(plot, count, "units")
    layer = first_layer(store, run_id)
    out.lines(layer.lines())
    if plot:
        out.picture(layer.plot(plot, count=count).path)
    else:
        out.print("draw them: add --plot FILE.png")
