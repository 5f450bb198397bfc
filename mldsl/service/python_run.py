"""``mldsl.run``: one experiment trained and evaluated from Python, as ``mldsl run`` does on the command line.

It reuses :func:`mldsl.service.runs.run` (the same engine run, store and artifacts as the CLI) and
returns a :class:`RunReport`. The store is resolved as every verb resolves it
(:mod:`mldsl.service.stores`): ``store=None`` is ``$MLDSL_STORE``, else ``./mldsl.db``; ``store=False``
records nothing. It prints nothing unless ``progress=True``.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional, Union

from mldsl.errors import MldslError

#: The name a run is recorded under when ``name`` is not given and the experiment is a Python object.
DEFAULT_RUN_NAME = "experiment"


@dataclass
class RunReport:
    """What :func:`run` gives back.

    ``metrics``: the final evaluation (e.g. ``{"loss": ..., "accuracy": ...}``); ``history``: one dict
    per epoch (``epoch``, ``loss``, the metrics, ``val_*`` when validating); ``run_id`` and
    ``artifacts`` (the run's folder next to the store): None when the run was not recorded;
    ``backend``: the backend that ran it; ``warnings``: what the backend noted."""

    metrics: dict
    history: List[dict]
    run_id: Optional[str]
    artifacts: Optional[Path]
    backend: str
    name: str
    warnings: List[str] = field(default_factory=list)


def run(experiment: Any, *, backend: Optional[str] = None, store: Union[None, bool, str, os.PathLike] = None,
        name: Optional[str] = None, seed: Optional[int] = None, progress: bool = False) -> RunReport:
    """Trains and evaluates ``experiment`` and records the run, as ``mldsl run`` does.

    ``experiment``: a concrete experiment (``Experiment(...)``, a value of ``mldsl.load_mlx``, or one
    yielded by ``mldsl.sample``), or an ``.mlx`` path as ``"FILE"`` or ``"FILE:NAME"`` (without NAME, the
    file's first experiment that is not a search space). ``backend``: ``"native"``, ``"keras"`` or
    ``"auto"`` overrides the experiment's own; ``seed`` likewise. ``store``: None records in the store the
    CLI uses (``$MLDSL_STORE``, else ``./mldsl.db``), a path records there, False records nothing.
    ``name``: what ``mldsl runs`` lists (default: the definition's name for a file, else
    ``"experiment"``). ``progress``: a line every ``training.report_every`` epochs (and the last) on stderr,
    and a bar on a terminal.

    A search space (one with ``oneof``/``floatv``/... left) is an :class:`MldslError`: pick concrete
    experiments from it with ``mldsl.sample(space, algorithm)``.
    """
    from mldsl.service import runs
    from mldsl.service.stores import store_path

    if isinstance(experiment, (str, os.PathLike)):
        from mldsl.service.targets import load_target

        target = load_target(os.fspath(experiment), "runnable")
        experiment, name, source = target.value, name or target.name, str(target.path)
    else:
        source = None
    name = name or DEFAULT_RUN_NAME
    _require_concrete(experiment, name)
    if store is True:
        raise MldslError("store=True is not a store: leave it out (None) for the default store "
                         "($MLDSL_STORE, else ./mldsl.db), name a file, or pass False to record nothing")
    path = None if store is False else store_path(store)
    if progress:
        from mldsl.service.output import Output

        with runs.epoch_progress(Output(sys.stderr), experiment, plain_lines=True) as on_epoch:
            outcome = runs.run(experiment, name=name, store=path, source=source, backend=backend, seed=seed,
                               on_epoch=on_epoch)
    else:
        outcome = runs.run(experiment, name=name, store=path, source=source, backend=backend, seed=seed)
    result, record = outcome.result, outcome.record
    return RunReport(metrics=dict(result.metrics), history=[dict(row) for row in result.history],
                     run_id=record.id if record is not None else None, artifacts=outcome.artifacts,
                     backend=result.backend, name=name, warnings=list(result.warnings))


def _require_concrete(experiment: Any, name: str) -> None:
    from mldsl.components import ExperimentBase
    from mldsl.hyper import is_deterministic

    if not isinstance(experiment, ExperimentBase):
        raise MldslError(f"mldsl.run needs an experiment (an Experiment(...) or an .mlx path), got "
                         f"{type(experiment).__name__}: {experiment!r:.80}")
    if not is_deterministic(experiment):
        raise MldslError(f"{name!r} is a search space (it has oneof/manyof/floatv/intv values), not an "
                         f"experiment to run; pick concrete experiments from it with "
                         f"`for exp, feedback in mldsl.sample(space, mldsl.Random(seed=0), num_examples=N)`, "
                         f"or fix its values with `space.clone(override={{path: value}})`")
