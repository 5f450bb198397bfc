"""Running a search: propose, record, run, feed back — durably, resumably, on any executor.

**Deterministic schedule.** Trial number *k* always gets the algorithm's *k*-th proposal, and the
algorithm has then been fed exactly the outcomes of trials ``0 .. k-window`` (in trial order), where
``window`` is fixed when the study is created (default: ``DEFAULT_WINDOW``, the same on every executor). So a
proposal never depends on which trial happened to finish first: the same seed gives the same
proposals on every executor for the same window, and at most ``window`` trials are in flight. Each
trial's early-stopping reference set is likewise fixed at proposal time (the completed trials among
those fed), so early stopping is as deterministic as the proposals.

**Durability.** A trial is recorded (its DNA and the materialised experiment as ``.mlx``) before it
runs, and its outcome (completed / failed with the reason / stopped) is committed before anything
depends on it: the outcome of trial *j* is fed to the algorithm only once it is in the store.

**Resume.** Running the same search again continues it: trials left ``running`` by a dead process are
marked failed ("abandoned: ...") and retried (up to ``max_retries`` further attempts); completed,
stopped and failed trials are never rerun. The algorithm is rebuilt by replaying the schedule over the
stored ``(dna, reward)`` history — each replayed proposal is checked against the stored DNA — so the
resumed search proposes exactly what an uninterrupted one would have.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from mldsl.hyper.early_stopping import EarlyStoppingRule, resolve_rule
from mldsl.engine.executors import EXECUTORS, Executor, make_executor
from mldsl.engine.memory_store import MemoryStore
from mldsl.engine.store import Store, StudyRecord, TrialRecord
from mldsl.engine.trial import Evaluate, TrialResult, TrialTask, curve_of
from mldsl.errors import MldslError, SearchError, StoreError

#: Error text of trials left running by a process that died (they are retried on resume).
ABANDONED = "abandoned: the search process stopped while this trial was running"
INTERRUPTED = "abandoned: the search was interrupted (Ctrl-C) while this trial was running"
_ABANDONED_PREFIX = "abandoned:"

DIRECTIONS = ("maximize", "minimize")


# -- what a search needs from the space -------------------------------------------------------------
class SpaceOps:
    """How the runner turns a space and a DNA into a concrete experiment and text. The default uses
    :mod:`mldsl.hyper` (``dna_spec``, ``materialize``) and the DSL printer; a raw DNA spec
    (:class:`mldsl.hyper.geno.Space`) is searched directly, each trial getting ``{decision id: value}``."""

    def __init__(self, space: Any):
        from mldsl.hyper.geno import Space as GenoSpace

        self.space = space
        self.raw = isinstance(space, GenoSpace)

    def dna_spec(self):
        if self.raw:
            self.spec = self.space
        else:
            self.spec = _hyper("dna_spec")(self.space)
        return self.spec

    def materialize(self, dna) -> Any:
        if self.raw:
            return self.space.dna_dict(dna)
        return _hyper("materialize")(self.space, dna, self.spec)

    def to_text(self, value: Any, name: Optional[str] = None) -> str:
        """``.mlx`` text of ``value``: a statement defining ``name`` when given (so a trial's record is a
        file ``mldsl run`` can run), else an expression."""
        if self.raw:
            import json

            return value.format() if hasattr(value, "format") and not isinstance(value, dict) else \
                json.dumps(value, sort_keys=True, default=repr)
        from mldsl.dsl.printer import to_mlx

        return to_mlx(value, name=name)

    @staticmethod
    def dna_to_json(dna) -> list:
        return dna.to_json() if hasattr(dna, "to_json") else list(dna)


def _hyper(name: str):
    import mldsl.hyper

    if hasattr(mldsl.hyper, name):
        return getattr(mldsl.hyper, name)
    from mldsl.hyper import space

    return getattr(space, name)


def trial_name(study: str, number: int) -> str:
    """The name a trial's experiment gets in its ``.mlx`` record: ``<study>_trial_<number>``."""
    import re

    base = re.sub(r"\W", "_", study) or "search"
    if base[0].isdigit():
        base = "s_" + base
    return f"{base}_trial_{number}"


# -- the algorithm ----------------------------------------------------------------------------------
_BUILTIN_ALGORITHMS = {"grid": ("mldsl.hyper.grid", "Grid"), "random": ("mldsl.hyper.random_search", "Random"),
                       "evolution": ("mldsl.hyper.evolution", "Evolution")}


def _algorithm_factory(name: str):
    """The algorithm registered as ``name`` (plugins), else one of mldsl.hyper's built-ins."""
    known = set(_BUILTIN_ALGORITHMS)
    try:
        from mldsl.registry import get_registry

        registry = get_registry()
        try:
            known |= set(registry.names("algorithm"))
        except Exception:
            pass
        return registry.algorithm(name)
    except (ImportError, AttributeError, MldslError):
        pass
    if name not in _BUILTIN_ALGORITHMS:
        from mldsl.errors import suggestion_text

        hint = suggestion_text(name, known)
        raise SearchError(f"unknown search algorithm {name!r}" + (f"; {hint}" if hint else "")
                          + f" (known: {', '.join(sorted(known))})")
    import importlib

    module, attr = _BUILTIN_ALGORITHMS[name]
    return getattr(importlib.import_module(module), attr)


def build_algorithm(algorithm: Any, seed: Optional[int]):
    """A fresh algorithm (not set up) from an Algorithm instance, a name (``"random"``), a class or
    factory. The search's ``seed`` fills in an algorithm without one of its own."""
    if isinstance(algorithm, str):
        algorithm = _algorithm_factory(algorithm)
    elif not hasattr(algorithm, "propose") and hasattr(algorithm, "kwargs") and isinstance(
            getattr(algorithm, "name", None), str):
        # a compiled ``.mlx`` call such as ``evolution(population_size=5)`` (mldsl.dsl.search_statement.Invocation)
        factory = _algorithm_factory(algorithm.name)
        try:
            algorithm = algorithm.make(factory) if hasattr(algorithm, "make") else factory(
                *list(algorithm.args or []), **dict(algorithm.kwargs or {}))
        except TypeError as exc:
            raise SearchError(f"bad arguments for search algorithm {algorithm.name}(): {exc}") from None
    if isinstance(algorithm, type) or (callable(algorithm) and not hasattr(algorithm, "propose")):
        try:
            return algorithm(seed=seed)
        except TypeError:
            return algorithm()
    if not hasattr(algorithm, "propose"):
        raise SearchError(f"{algorithm!r} is not a search algorithm (it has no propose())")
    if hasattr(algorithm, "hyper_params"):
        params = dict(algorithm.hyper_params())
        if "seed" in params and params["seed"] is None:
            params["seed"] = seed
        return type(algorithm)(**params)
    if hasattr(algorithm, "fresh"):
        return algorithm.fresh()
    import copy

    return copy.deepcopy(algorithm)


def describe_algorithm(algorithm: Any) -> dict:
    """The JSON recorded with the study (what makes two algorithms propose the same)."""
    out = {"name": getattr(algorithm, "name", type(algorithm).__name__)}
    if hasattr(algorithm, "hyper_params"):
        out.update({k: v for k, v in algorithm.hyper_params().items()})
    return out


# -- results ----------------------------------------------------------------------------------------
@dataclass
class SearchProgress:
    """Where a search stands; passed to ``on_trial`` after each trial."""

    done: int
    total: int
    best: Optional[TrialRecord]
    elapsed: float
    running: int = 0


@dataclass
class SearchResult:
    """What :func:`run_search` returns."""

    study: StudyRecord
    trials: list
    best: Optional[TrialRecord]
    objective: str
    direction: str
    retried: list = field(default_factory=list)   # trial numbers rerun after a dead process or worker
    ran: int = 0                                  # trials evaluated by this call (attempts)
    elapsed: float = 0.0

    def counts(self) -> dict:
        out: dict = {}
        for t in self.trials:
            out[t.status] = out.get(t.status, 0) + 1
        return out


def best_trial(trials: Sequence[TrialRecord], direction: str) -> Optional[TrialRecord]:
    """The completed trial with the best reward (the earliest on a tie)."""
    done = [t for t in trials if t.status == "completed" and t.reward is not None]
    if not done:
        return None
    sign = 1.0 if direction == "maximize" else -1.0
    return max(done, key=lambda t: (sign * t.reward, -t.number))


# -- the runner -------------------------------------------------------------------------------------
@dataclass
class _Outcome:
    reward: Optional[float]          # sign-adjusted for the algorithm (maximised); None = skip
    curve: Optional[list] = None     # objective per epoch of a completed trial (early-stopping reference)


@dataclass
class _InFlight:
    number: int
    dna: Any
    task: TrialTask
    on_history: Optional[Callable] = None


class _SearchRun:
    def __init__(self, *, ops: SpaceOps, spec, algorithm, seed, store, study: StudyRecord, executor: Executor,
                 trials: int, objective: str, direction: str, window: int, rule: Optional[EarlyStoppingRule],
                 evaluate: Optional[Evaluate], max_retries: int, on_trial):
        self.ops, self.spec, self.store, self.study, self.executor = ops, spec, store, study, executor
        self.target, self.objective, self.direction, self.window = trials, objective, direction, window
        self.rule, self.evaluate, self.max_retries, self.on_trial = rule, evaluate, max_retries, on_trial
        self.sign = 1.0 if direction == "maximize" else -1.0
        self.algorithm = build_algorithm(algorithm, seed)
        if hasattr(self.algorithm, "setup"):
            self.algorithm.setup(spec)
        self.outcomes: dict[int, _Outcome] = {}
        self.proposed: dict[int, Any] = {}          # number -> DNA object (for feedback)
        self.reference: list = []                   # curves of completed trials fed so far
        self.fed = 0
        self.inflight: dict[int, _InFlight] = {}
        self.records: dict[int, TrialRecord] = {}
        self.retried: list[int] = []
        self.ran = 0
        self.started = time.perf_counter()
        self.encode_json = executor.name != "inprocess"
        self.history_store = (str(store.path) if isinstance(store, Store) and executor.shares_filesystem
                              and executor.name != "inprocess" else None)

    # -- bookkeeping --
    def _outcome_of(self, record: TrialRecord) -> _Outcome:
        if record.status in ("completed", "stopped") and record.reward is not None:
            curve = curve_of(record.history, self.objective) if (self.rule and record.status == "completed") else None
            return _Outcome(self.sign * record.reward, curve)
        return _Outcome(None)

    def _settle(self, record: TrialRecord) -> None:
        self.records[record.number] = record
        self.outcomes[record.number] = self._outcome_of(record)

    def _feed_until(self, last: int) -> bool:
        """Feeds outcomes of trials ``fed .. last`` in order; False if one is not final yet."""
        while self.fed <= last:
            outcome = self.outcomes.get(self.fed)
            if outcome is None:
                return False
            if hasattr(self.algorithm, "feedback"):
                self.algorithm.feedback(self.proposed[self.fed], outcome.reward)
            if outcome.curve is not None:
                self.reference.append(outcome.curve)
            del self.proposed[self.fed]
            self.fed += 1
        return True

    def _is_final(self, record: TrialRecord) -> bool:
        return not (record.status == "failed" and (record.error or "").startswith(_ABANDONED_PREFIX))

    def _progress(self) -> SearchProgress:
        done = sum(1 for n in self.outcomes if n < self.target)
        best = best_trial(list(self.records.values()), self.direction)
        return SearchProgress(done=done, total=self.target, best=best,
                              elapsed=time.perf_counter() - self.started, running=len(self.inflight))

    def _finished(self, record: TrialRecord) -> None:
        self._settle(record)
        if self.on_trial is not None:
            self.on_trial(record, self._progress())

    # -- running --
    def _start(self, number: int, dna, *, retry: bool) -> None:
        dna_json = self.ops.dna_to_json(dna)
        try:
            experiment = self.ops.materialize(dna)
            label = trial_name(self.study.name, number)
            if getattr(self.store, "lazy_text", False):
                text = lambda: self.ops.to_text(experiment, label)  # noqa: E731  (in memory: printed when read)
            else:
                text = self.ops.to_text(experiment, label)
        except Exception as exc:  # a proposal that does not make a valid experiment: a failed trial
            self.store.start_trial(self.study, number, dna_json, None)
            self._finished(self.store.finish_trial(self.study, number, status="failed",
                                                   error=f"cannot materialise DNA {dna_json}: "
                                                         f"{type(exc).__name__}: {exc}"))
            return
        record = self.store.start_trial(self.study, number, dna_json, text)
        if retry:
            self.retried.append(number)
        payload, encoding = experiment, "raw"
        if self.encode_json and hasattr(experiment, "sym_init_args"):
            from mldsl import symbolic as sym

            payload, encoding = sym.to_json(experiment), "json"
        task = TrialTask(number=number, attempt=record.attempts, experiment=payload, objective=self.objective,
                         direction=self.direction, evaluate=self.evaluate, encoding=encoding, rule=self.rule,
                         reference=tuple(self.reference) if self.rule else (),
                         history_store=self.history_store, study_id=self.study.id)
        self._submit(_InFlight(number, dna, task))

    def _submit(self, item: _InFlight) -> None:
        on_history = None
        if self.executor.name == "inprocess" and not isinstance(self.store, MemoryStore):
            study, number = self.study, item.number
            on_history = lambda history: self.store.update_trial_history(study, number, history)  # noqa: E731
        handle = self.executor.submit(item.task, on_history)
        self.inflight[handle] = item
        self.ran += 1

    def _collect(self, handle: int, result: Any) -> None:
        item = self.inflight.pop(handle)
        number = item.number
        if isinstance(result, TrialResult):
            record = self.store.finish_trial(self.study, number, status=result.status, reward=result.reward,
                                             metrics=result.metrics, history=result.history, error=result.error)
            self._finished(record)
            return
        # The infrastructure failed (a worker died): retry, or give up after max_retries.
        reason = f"{type(result).__name__}: {result}".strip()
        record = self.store.get_trial(self.study, number)
        if record.attempts <= self.max_retries:
            record = self.store.start_trial(self.study, number, record.dna, record.experiment_mlx)
            item.task.attempt = record.attempts
            self.retried.append(number)
            self._submit(item)
        else:
            self._finished(self.store.finish_trial(
                self.study, number, status="failed",
                error=f"gave up after {record.attempts} attempts: the worker failed ({reason})"))

    def run(self) -> SearchResult:
        store, study = self.store, self.study
        store.mark_abandoned(study, ABANDONED)
        stored = {t.number: t for t in store.trials(study)}
        k = 0
        exhausted = False
        try:
            while True:
                while not exhausted and k < self.target and len(self.inflight) < self.executor.workers:
                    if not self._feed_until(k - self.window):
                        break
                    try:
                        dna = self.algorithm.propose()
                    except StopIteration:  # a finite sweep (grid) is done
                        exhausted = True
                        self.target = k
                        break
                    self.proposed[k] = dna
                    record = stored.get(k)
                    if record is not None:
                        if record.dna != self.ops.dna_to_json(dna):
                            raise SearchError(
                                f"cannot resume study {study.name!r}: trial {k} was DNA {record.dna} but the "
                                f"algorithm now proposes {self.ops.dna_to_json(dna)}; the algorithm or space "
                                "changed (or proposes nondeterministically). Start a new study (another name "
                                "or --store file)")
                        if self._is_final(record):
                            self._settle(record)
                        elif record.attempts > self.max_retries:
                            self._finished(store.finish_trial(
                                study, k, status="failed",
                                error=f"gave up after {record.attempts} attempts: {record.error}"))
                        else:
                            self._start(k, dna, retry=True)
                    else:
                        self._start(k, dna, retry=False)
                    k += 1
                if not self.inflight:
                    if not exhausted and k < self.target and self._feed_until(k - self.window):
                        continue
                    break
                for handle, result in self.executor.wait():
                    self._collect(handle, result)
        except BaseException:
            if self.inflight and not isinstance(store, MemoryStore):
                try:
                    store.mark_abandoned(study, INTERRUPTED)
                except MldslError:
                    pass
            raise
        trials = [t for t in store.trials(study)]
        return SearchResult(study=study, trials=trials, best=best_trial(trials, self.direction),
                            objective=self.objective, direction=self.direction, retried=self.retried,
                            ran=self.ran, elapsed=time.perf_counter() - self.started)


#: Trials that may run without seeing each other's results, unless a study sets its own. It is the same
#: for every executor and worker count, so a seed gives the same proposals everywhere; more workers than
#: this run at most this many trials at once (raise it with ``window=``/``--window``).
DEFAULT_WINDOW = 8


def _default_workers(executor: str) -> int:
    return 1 if executor == "inprocess" else (os.cpu_count() or 1)


def run_search(space: Any, *, name: str, algorithm: Any, trials: int, objective: str,
               direction: str = "maximize", store: Any = None, executor: Any = "inprocess",
               workers: Optional[int] = None, seed: Optional[int] = 0, early_stopping: Any = None,
               evaluate: Optional[Evaluate] = None, max_retries: int = 2,
               on_trial: Optional[Callable[[TrialRecord, SearchProgress], None]] = None,
               address: Optional[str] = None, window: Optional[int] = None) -> SearchResult:
    """Runs (or resumes) the search ``name`` over ``space`` until ``trials`` trials are final.

    - ``space``: a symbolic value holding hyper primitives (or a raw DNA spec).
    - ``algorithm``: an algorithm object (``mldsl.hyper`` Random/Evolution/Grid), or its name.
      ``seed`` seeds an algorithm that has no seed of its own.
    - ``objective``/``direction``: the metric to ``maximize`` or ``minimize``.
    - ``store``: a :class:`Store`, a path to one, or None (in memory: no resume).
    - ``executor``: ``"inprocess"``, ``"local"`` (``workers`` processes, default one per core) or
      ``"ray"`` (``address`` of a cluster, or a local Ray with ``workers`` CPUs).
    - ``evaluate(experiment, report) -> metrics``: how to run one trial; default: train the experiment
      on its backend. ``report(epoch, logs)`` returns False when the trial should stop.
    - ``early_stopping``: a rule such as ``median(after=2)`` (object, string or dict).
    - ``max_retries``: how many more times a trial whose process or worker died is run again.
    - ``on_trial(record, progress)``: called after each trial is recorded.
    - ``window``: how many trials may run without seeing each other's results (default ``workers``;
      ``DEFAULT_WINDOW``, fixed when the study is created). Proposals are a function of (algorithm, seed,
      window), so the same seed gives the same proposals on every executor and worker count.
    """
    if not name or not isinstance(name, str):
        raise SearchError("a search needs a name")
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 0:
        raise SearchError(f"trials must be a non-negative integer, got {trials!r}")
    if direction not in DIRECTIONS:
        raise SearchError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
    if not objective or not isinstance(objective, str):
        raise SearchError(f"objective must be a metric name, got {objective!r}")
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise SearchError(f"max_retries must be an integer >= 0, got {max_retries!r}")
    if not isinstance(executor, Executor) and executor not in EXECUTORS:
        make_executor(executor)  # raises the "unknown executor" error
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise SearchError(f"workers must be an integer >= 1, got {workers!r}")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 1):
        raise SearchError(f"window must be an integer >= 1, got {window!r}")
    rule = resolve_rule(early_stopping)
    ops = SpaceOps(space)
    spec = ops.dna_spec()
    probe = build_algorithm(algorithm, seed)
    algo_desc = describe_algorithm(probe)

    own_store = False
    if store is None:
        store = MemoryStore()
    elif isinstance(store, (str, os.PathLike)):
        store = Store(store)
        own_store = True
    try:
        existing = None
        if not isinstance(store, MemoryStore) or name in getattr(store, "_studies", {}):
            try:
                existing = store.get_study(name)
            except StoreError:
                existing = None
        stored_window = existing.algorithm.get("window") if existing is not None else None
        if stored_window is not None and window is not None and window != stored_window:
            raise SearchError(f"study {name!r} was started with window={stored_window}; resume it with the same "
                              "window (or omit it)")
        window = stored_window or window or DEFAULT_WINDOW
        study = store.open_study(name=name, space=ops.to_text(space), algorithm={
            "algorithm": algo_desc, "window": window,
            "early_stopping": rule.to_json() if rule is not None else None},
            objective=objective, direction=direction, seed=seed)
        own_executor = not isinstance(executor, Executor)
        runner_executor = make_executor(executor, workers, address=address) if own_executor else executor
        try:
            run = _SearchRun(ops=ops, spec=spec, algorithm=probe, seed=seed, store=store, study=study,
                             executor=runner_executor, trials=trials, objective=objective, direction=direction,
                             window=window, rule=rule, evaluate=evaluate, max_retries=max_retries,
                             on_trial=on_trial)
            result = run.run()
        except BaseException:
            if own_executor:
                runner_executor.close(abort=True)
            raise
        if own_executor:
            runner_executor.close()
        return result
    finally:
        if own_store:
            store.close()


def study_summary(store: Any, name: str) -> SearchResult:
    """The stored state of study ``name`` as a :class:`SearchResult` (nothing is run)."""
    study = store.get_study(name)
    trials = store.trials(study)
    return SearchResult(study=study, trials=trials, best=best_trial(trials, study.direction),
                        objective=study.objective, direction=study.direction)


__all__ = ["run_search", "SearchResult", "SearchProgress", "best_trial", "study_summary", "SpaceOps",
           "build_algorithm", "describe_algorithm", "ABANDONED"]
