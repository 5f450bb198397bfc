"""Searches: the plan a ``search`` statement (or a bare space) gives, running or resuming it in a store,
and reading its trials back for ``mldsl trials`` and the REPL.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, List, Optional

from mldsl.errors import SearchError
from mldsl.service.output import metric_text, shorten


@dataclass(frozen=True)
class SearchPlan:
    """What to search: the study's ``name``, the ``space``, and the settings of the search statement
    (or, for a bare space, a random search maximizing ``accuracy``)."""

    name: str
    space: Any
    algorithm: Any = "random"         # a registered name, or the statement's call (``evolution(...)``)
    trials: Optional[int] = None
    objective: str = "accuracy"
    direction: str = "maximize"
    early_stopping: Any = None

    def with_options(self, **options: Any) -> "SearchPlan":
        """The plan with the options that are given (not None) replacing its settings."""
        return replace(self, **{k: v for k, v in options.items() if v is not None})


def plan_for(name: str, value: Any) -> SearchPlan:
    """The plan of ``value``: a compiled ``search`` statement, or a space holding hyper primitives."""
    from mldsl.dsl.search_statement import Search
    from mldsl.hyper import is_deterministic

    if isinstance(value, Search):
        return SearchPlan(name=name, space=value.space, algorithm=value.algorithm, trials=value.trials,
                          objective=value.metric, direction=value.direction, early_stopping=value.early_stopping)
    if is_deterministic(value):
        raise SearchError(f"{name} has no hyper primitives (oneof, manyof, floatv, intv): nothing to search; "
                          "derive a space with `with { path = oneof([...]) }`")
    return SearchPlan(name=name, space=value)


def load_plan(spec: str) -> SearchPlan:
    """The plan of ``FILE[:NAME]``: NAME a ``search`` statement or a space; without NAME the file's one
    ``search`` statement (``mldsl.service.targets.pick_search``)."""
    from mldsl.service.targets import load_target

    target = load_target(spec, "search")
    return plan_for(target.name, target.value)


def space_notes(space: Any) -> List[str]:
    """Before the first trial: the choices of ``space`` its backend cannot run. With an explicitly named
    backend they are a :class:`SearchError`; with ``auto``, notes saying they will run on keras
    (``mldsl.backends.base.backend_notes``)."""
    from mldsl.backends.base import backend_notes as notes_of
    from mldsl.registry import get_registry

    notes, errors = notes_of(space, get_registry(), concrete=False)
    if errors and notes:
        raise SearchError("the search space has choices its backend cannot run:\n  " + "\n  ".join(notes)
                          + '\nremove those choices, or set backend = "auto" to run them on keras')
    return notes


def executor_for(executor: Optional[str], workers: Optional[int], address: Optional[str]) -> str:
    """The executor to use: as given, else ``local`` for more than one worker, else ``inprocess``."""
    chosen = executor or ("local" if workers and workers > 1 else "inprocess")
    if address and chosen != "ray":
        raise SearchError("--address names a Ray cluster; use it with --executor ray")
    return chosen


def run(plan: SearchPlan, *, store: Optional[Path], executor: Optional[str] = None, workers: Optional[int] = None,
        window: Optional[int] = None, seed: Optional[int] = None, max_retries: int = 2,
        address: Optional[str] = None, on_trial: Optional[Callable[[Any, Any], None]] = None,
        on_start: Optional[Callable[[str], None]] = None):
    """Runs or resumes ``plan`` in the store at ``store`` (None: in memory, no resume) and returns the
    engine's ``SearchResult``. ``on_start(line)`` is told first what starts: resumed or new, the trials,
    the objective, the executor, the window and the store."""
    from mldsl.engine.search import default_window, run_search
    from mldsl.engine.store import Store

    if plan.trials is None:
        raise SearchError(f"how many trials? the search {plan.name!r} sets no `trials`; pass --trials N")
    executor = executor_for(executor, workers, address)
    opened = Store(store) if store is not None else None
    try:
        if on_start is not None:
            study = opened.find_study(plan.name) if opened is not None else None
            shown = (study.algorithm.get("window") if study is not None else None) or window or default_window(executor, workers)
            where = f"store {store}" if store is not None else "not stored"
            on_start(f"{'resuming' if study is not None else 'starting'} search {plan.name!r}: {plan.trials} "
                     f"trials, {plan.direction} {plan.objective!r}, executor {executor} (window {shown}); {where}")
        return run_search(plan.space, name=plan.name, algorithm=plan.algorithm, trials=int(plan.trials),
                          objective=plan.objective, direction=plan.direction, store=opened, executor=executor,
                          workers=workers, window=window, seed=0 if seed is None else seed,
                          early_stopping=plan.early_stopping, max_retries=max_retries, on_trial=on_trial,
                          address=address)
    finally:
        if opened is not None:
            opened.close()


def interrupted_message(store: Optional[Path]) -> str:
    """What Ctrl-C during a search left behind."""
    if store is None:
        return "interrupted; the trials were kept in memory only (not stored)"
    return ("interrupted: the trials that were running are recorded as interrupted and run again on resume; "
            f"run the same search again to resume (store {store})")


def result_lines(result: Any) -> List[str]:
    """The summary of a finished search: the trials by status, then the best trial (its experiment is
    ``result.best.experiment_mlx``)."""
    counts = result.counts()
    lines = [f"search {result.study.name!r}: {len(result.trials)} trials ("
             + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + f") in {result.elapsed:.1f} s; "
             f"{result.ran} run now" + (f", {len(result.retried)} retried" if result.retried else "")]
    if result.best is None:
        lines.append("no trial completed; `mldsl trials` shows the errors")
    else:
        lines.append(f"best: trial {result.best.number} with {result.objective}={metric_text(result.best.reward)}")
    return lines


# ---------------------------------------------------------------------------------------- trials
@dataclass
class StudyView:
    """A study with its trials and its best trial, as ``mldsl trials`` shows it."""

    study: Any
    trials: list
    best: Any

    @property
    def title(self) -> str:
        algo = self.study.algorithm.get("algorithm", self.study.algorithm)
        algo = algo.get("name", algo) if isinstance(algo, dict) else algo
        return (f"study {self.study.name!r}: {self.study.direction} {self.study.objective!r}, algorithm {algo}, "
                f"{len(self.trials)} trials")

    @property
    def headers(self) -> List[str]:
        return ["id", "DNA", self.study.objective, "status", "time", "note"]

    def rows(self) -> List[List[str]]:
        out = []
        for t in self.trials:
            note = shorten(t.error, 60) if t.error else ""
            if t.attempts > 1:
                died = f", {t.failures} worker death(s)" if t.failures else ""
                note = (f"attempt {t.attempts}{died}; " + note).rstrip("; ")
            out.append([str(t.number), dna_text(t.dna), metric_text(t.reward), t.status,
                        f"{t.duration:.2f}s" if t.duration is not None else "-", note])
        return out

    def best_line(self) -> str:
        if self.best is None:
            return "no completed trial yet"
        return f"best: trial {self.best.number} with {self.study.objective}={metric_text(self.best.reward)}"

    def to_json(self) -> dict:
        """The ``mldsl trials --json`` object of the study."""
        def row(t):
            d = t.to_dict()
            d["metric"] = t.reward if t.reward is not None else t.metrics.get(self.study.objective)
            return d

        return {"study": self.study.name, "objective": self.study.objective, "direction": self.study.direction,
                "algorithm": self.study.algorithm, "seed": self.study.seed,
                "trials": [row(t) for t in self.trials], "best": self.best.number if self.best else None}


def dna_text(dna: Any) -> str:
    """A trial's DNA as the trials table shows it (floats to 4 significant digits)."""
    if isinstance(dna, list):
        return "[" + ", ".join(f"{x:.4g}" if isinstance(x, float) else str(x) for x in dna) + "]"
    return str(dna)


def searches_of(path: str) -> List[str]:
    """The names of the ``search`` statements of the ``.mlx`` file at ``path`` (each names its study)."""
    from mldsl.service.targets import load_file

    module = load_file(path)
    return [name for name, kind in module.kinds.items() if kind == "search"]


def study_views(store: Any, name: Optional[str] = None, among: Optional[List[str]] = None) -> List[StudyView]:
    """The studies of an open store (just ``name``, when given; only those named in ``among``, when
    given), each with its trials and best trial."""
    from mldsl.engine.search import best_trial

    found = [store.get_study(name)] if name else store.list_studies()
    if among is not None:
        found = [study for study in found if study.name in among]
    views = []
    for study in found:
        trials = store.trials(study)
        views.append(StudyView(study, trials, best_trial(trials, study.direction)))
    return views


def plot_trials(path: Path, view: StudyView) -> Path:
    """The objective of each trial (completed and stopped) and the best-so-far line, as a PNG."""
    from mldsl.engine.plots import plot_trials as draw

    return draw(Path(path), view.study, view.trials)
