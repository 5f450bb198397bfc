"""Running a search: propose, claim, run, feed back -- durably, resumably, on any executor, from any
number of processes.

**Deterministic schedule.** Trial number *k* always gets the algorithm's *k*-th proposal, and the
algorithm has then been fed exactly the outcomes of trials ``0 .. k-window`` (in trial order), where
``window`` is fixed when the study is created (default: the trials that run at once, :func:`default_window`).
So a proposal never depends on which trial happened to finish first: the same seed gives the same
proposals on every executor, in every process, for the same window, and at most ``window`` trials are
in flight. Each trial's early-stopping reference set is likewise fixed at proposal time (the completed
trials among those fed), so early stopping is as deterministic as the proposals.

**Durability.** A trial is recorded (its DNA and the materialised experiment as ``.mlx``) before it
runs, and its outcome (completed / failed with the reason / stopped) is committed before anything
depends on it: the outcome of trial *j* is fed to the algorithm only once it is in the store.

**Claims.** Each process walks the same schedule and claims trial numbers in the store, atomically
(:meth:`~mldsl.engine.store.Store.claim_trial`): a trial is run by the process that claimed it, and the
others wait for its outcome. So several processes on one study share the work, and none runs a trial
another one runs. A claim names its process; a claim whose process is gone (killed, crashed) or that was
given back on Ctrl-C is taken over by the next process that reaches it.

**Resume.** Running the same search again continues it: final trials are never rerun; a trial cut off
by the search's own end (Ctrl-C, a crash, SIGKILL) runs again without counting as a failure; only a
worker process that dies while the search lives counts against ``max_retries``. The algorithm is rebuilt
by replaying the schedule over the stored ``(dna, reward)`` history (each replayed proposal is checked
against the stored DNA), so the resumed search proposes exactly what an uninterrupted one would have.
"""
from __future__ import annotations

import json
import os
import re
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from mldsl import components
from mldsl import symbolic as sym
from mldsl.dsl.printer import to_mlx
from mldsl.hyper.calls import call_parts
from mldsl.hyper.early_stopping import EarlyStoppingRule, resolve_rule
from mldsl.backends.base import affinity_cpus
from mldsl.engine.executors import EXECUTORS, Executor, make_executor
from mldsl.engine.memory_store import MemoryStore
from mldsl.engine.records import StudyRecord, TrialRecord
from mldsl.engine.store import Store
from mldsl.engine.trial import Evaluate, TrialResult, TrialTask, curve_of
from mldsl.errors import MldslError, SearchError
from mldsl.gcpause import full_collections_paused
from mldsl.hyper import Algorithm, DNA, dna_spec, materialize
from mldsl.hyper.algorithm import SearchWarning
from mldsl.hyper.geno import Space as GenoSpace

#: Error text of trials given back when the search is interrupted (the next run of it runs them again).
INTERRUPTED = "interrupted: the search was interrupted (Ctrl-C) while this trial was running"
#: Seconds between looks at the store while waiting for trials another process runs.
POLL_SECONDS = 0.1

DIRECTIONS = ("maximize", "minimize")


# -- what a search needs from the space -------------------------------------------------------------
class SpaceOps:
    """How the runner turns a space and a DNA into a concrete experiment and text: a symbolic space
    through :mod:`mldsl.hyper` (``dna_spec``, ``materialize``) and the DSL printer; a raw DNA spec
    (:class:`mldsl.hyper.geno.Space`) directly, each trial getting ``{decision id: value}``."""

    def __init__(self, space: Any):
        self.space = space
        self.raw = isinstance(space, GenoSpace)
        self.spec = space if self.raw else dna_spec(space)

    def materialize(self, dna: DNA) -> Any:
        if self.raw:
            return self.space.dna_dict(dna)
        return materialize(self.space, dna, self.spec)

    def dna_problem(self, dna_json: Any) -> Optional[str]:
        """Why the recorded DNA ``dna_json`` is no DNA of this space (too many or too few numbers, a
        number out of range), or None when it is one."""
        try:
            DNA.from_json(dna_json, self.spec)
        except SearchError as exc:
            return str(exc)
        return None

    def to_text(self, value: Any, name: Optional[str] = None) -> str:
        """``.mlx`` text of ``value``: a statement defining ``name`` when given (so a trial's record is a
        file ``mldsl run`` can run), else an expression; a raw space's values as JSON."""
        if self.raw:
            return value.format() if isinstance(value, GenoSpace) else json.dumps(value, sort_keys=True,
                                                                                    default=repr)
        return to_mlx(value) if name is None else to_mlx(value, name=name)


def trial_name(study: str, number: int) -> str:
    """The name a trial's experiment gets in its ``.mlx`` record: ``<study>_trial_<number>``."""
    base = re.sub(r"\W", "_", study) or "search"
    if base[0].isdigit():
        base = "s_" + base
    return f"{base}_trial_{number}"


# -- the algorithm ----------------------------------------------------------------------------------
def _algorithm_factory(name: str):
    """The algorithm registered as ``name`` (the standard ones come from the ``mldsl_std`` plugin)."""
    from mldsl.errors import RegistryError, suggestion_text
    from mldsl.registry import get_registry

    registry = get_registry()
    try:
        return registry.algorithm(name)
    except RegistryError:
        known = sorted(registry.algorithms())
        hint = suggestion_text(name, known)
        raise SearchError(f"unknown search algorithm {name!r}" + (f"; {hint}" if hint else "")
                          + f" (known: {', '.join(known) or 'none: is the mldsl_std plugin blocked?'})") from None


def build_algorithm(algorithm: Any, seed: Optional[int]) -> Algorithm:
    """A fresh algorithm (not set up) from an :class:`~mldsl.hyper.Algorithm`, a registered name
    (``"random"``), a compiled ``.mlx`` call (``evolution(population_size=5)``) or a factory. The
    search's ``seed`` fills in an algorithm without a seed of its own."""
    parts = call_parts(algorithm)
    if isinstance(algorithm, str):
        algorithm = _algorithm_factory(algorithm)
    elif parts is not None:
        name, args, kwargs = parts
        try:
            algorithm = _algorithm_factory(name)(*args, **kwargs)
        except TypeError as exc:
            raise SearchError(f"bad arguments for search algorithm {name}(): {exc}") from None
    if isinstance(algorithm, Algorithm):
        made = algorithm.fresh()
    elif callable(algorithm):
        made = algorithm()
    else:
        made = algorithm
    if not isinstance(made, Algorithm):
        raise SearchError(f"{made!r} is not a search algorithm (an mldsl.hyper.Algorithm)")
    if made.seed is None and seed is not None:
        made = type(made)(**{**made.hyper_params(), "seed": seed})
    return made


def describe_algorithm(algorithm: Algorithm) -> dict:
    """The JSON recorded with the study (what makes two algorithms propose the same)."""
    return {"name": algorithm.name, **algorithm.hyper_params()}


# -- checks before the first trial ---------------------------------------------------------------------
def check_search(space: Any, objective: str, rule: Optional[EarlyStoppingRule]) -> None:
    """Raises :class:`SearchError` when trials of ``space`` would all fail or never stop early: the
    objective is not a metric they log, or the early-stopping rule cannot apply to their epochs."""
    from mldsl.errors import suggestion_text

    names = components.logged_metrics(space)
    if names is not None and objective not in names:
        hint = suggestion_text(objective, names)
        raise SearchError(f"objective {objective!r} is not a metric the trials log (they log: "
                          f"{', '.join(sorted(names))})" + (f"; {hint}" if hint else "")
                          + "; nothing was run")
    epochs = components.max_epochs(space)
    problem = rule.problem(epochs) if rule is not None and epochs is not None else None
    if problem:
        raise SearchError(f"early_stopping: {problem}; nothing was run")


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
class _Proposal:
    """Trial ``number`` as the schedule made it: its DNA and its early-stopping reference set."""

    number: int
    dna: DNA
    reference: tuple


@dataclass
class _InFlight:
    proposal: _Proposal
    task: TrialTask


class _SearchRun:
    def __init__(self, *, ops: SpaceOps, algorithm: Algorithm, store, study: StudyRecord, executor: Executor,
                 trials: int, objective: str, direction: str, window: int, rule: Optional[EarlyStoppingRule],
                 evaluate: Optional[Evaluate], max_retries: int, on_trial):
        self.ops, self.store, self.study, self.executor = ops, store, study, executor
        self.target, self.objective, self.direction, self.window = trials, objective, direction, window
        self.rule, self.evaluate, self.max_retries, self.on_trial = rule, evaluate, max_retries, on_trial
        self.sign = 1.0 if direction == "maximize" else -1.0
        self.algorithm = algorithm
        self.algorithm.setup(ops.spec)
        self.outcomes: dict[int, _Outcome] = {}
        self.proposed: dict[int, DNA] = {}          # number -> DNA, until fed back
        self.reference: list = []                   # curves of completed trials fed so far
        self.fed = 0
        self.inflight: dict[int, _InFlight] = {}    # executor handle -> trial this process runs
        self.elsewhere: dict[int, _Proposal] = {}   # number -> trial another process runs
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
            self.algorithm.feedback(self.proposed.pop(self.fed), outcome.reward)
            if outcome.curve is not None:
                self.reference.append(outcome.curve)
            self.fed += 1
        return True

    def _progress(self) -> SearchProgress:
        done = sum(1 for n in self.outcomes if n < self.target)
        best = best_trial(list(self.records.values()), self.direction)
        return SearchProgress(done=done, total=self.target, best=best,
                              elapsed=time.perf_counter() - self.started, running=len(self.inflight))

    def _finished(self, record: TrialRecord) -> None:
        self._settle(record)
        if self.on_trial is not None:
            self.on_trial(record, self._progress())

    def _mismatch(self, number: int, stored: Any, proposed: Any) -> SearchError:
        problem = self.ops.dna_problem(stored)
        if problem is not None:
            decisions = self.ops.spec.decision_points()
            names = ", ".join(getattr(d, "name", None) or d.id for d in decisions)
            recorded = len(stored) if isinstance(stored, list) else int(stored is not None)
            return SearchError(
                f"cannot resume study {self.study.name!r}: its recorded trials do not match the search space's "
                f"decisions: trial {number} recorded {recorded} number(s) {stored} but the space now has "
                f"{len(decisions)} decision(s) ({names or 'none'}); {problem}. This happens when the study was "
                "recorded by an mldsl that counted decisions differently (hyper primitives sharing a name= "
                "used to be one decision each; they are one decision now) or when the space changed in a way "
                "its text does not show. Start a new study: give the search another name, or use another "
                "--store file")
        return SearchError(
            f"cannot resume study {self.study.name!r}: trial {number} was DNA {stored} but the algorithm now "
            f"proposes {proposed}; the algorithm or space changed (or proposes nondeterministically). Start a "
            "new study (another name or --store file)")

    # -- claiming and running --
    def _take(self, proposal: _Proposal, known: Optional[TrialRecord] = None) -> None:
        """Settles trial ``proposal.number`` from the store, or claims and starts it, or leaves it to the
        process that runs it."""
        number, dna_json = proposal.number, proposal.dna.to_json()
        if known is not None:  # final when this call started: nothing to claim
            if known.dna != dna_json:
                raise self._mismatch(number, known.dna, dna_json)
            self._settle(known)
            return
        label = trial_name(self.study.name, number)
        try:
            experiment = self.ops.materialize(proposal.dna)
            problem = None
            text: Any = lambda: self.ops.to_text(experiment, label)  # noqa: E731 (printed only if recorded)
        except Exception as exc:  # a proposal that does not make a valid experiment: a failed trial
            experiment, text = None, None
            problem = f"cannot materialise DNA {dna_json}: {type(exc).__name__}: {exc}"
        claim = self.store.claim_trial(self.study, number, dna_json, text)
        if claim.state == "mismatch":
            raise self._mismatch(number, claim.record.dna, dna_json)
        if claim.state == "final":
            self._settle(claim.record)
            return
        if claim.state == "busy":
            self.elsewhere[number] = proposal
            return
        if claim.attempt > 1:
            self.retried.append(number)
        if problem is not None:
            self._finished(self.store.finish_trial(self.study, number, status="failed", attempt=claim.attempt,
                                                   error=problem))
            return
        payload, encoding = experiment, "raw"
        if self.encode_json and isinstance(experiment, sym.Symbolic):
            payload, encoding = sym.to_json(experiment), "json"
        task = TrialTask(number=number, attempt=claim.attempt, experiment=payload, objective=self.objective,
                         direction=self.direction, evaluate=self.evaluate, encoding=encoding, rule=self.rule,
                         reference=proposal.reference if self.rule else (),
                         history_store=self.history_store, study_id=self.study.id)
        self._submit(_InFlight(proposal, task))

    def _submit(self, item: _InFlight) -> None:
        on_history = None
        if self.executor.name == "inprocess" and isinstance(self.store, Store):
            study, number, attempt = self.study, item.task.number, item.task.attempt
            on_history = lambda history: self.store.update_trial_history(  # noqa: E731
                study, number, history, attempt=attempt)
        handle = self.executor.submit(item.task, on_history)
        self.inflight[handle] = item
        self.ran += 1

    def _collect(self, handle: int, result: Any) -> None:
        item = self.inflight.pop(handle)
        number, attempt = item.task.number, item.task.attempt
        if isinstance(result, TrialResult):
            record = self.store.finish_trial(self.study, number, status=result.status, attempt=attempt,
                                             reward=result.reward, metrics=result.metrics,
                                             history=result.history, error=result.error)
            if record.final:
                self._finished(record)
            else:  # another process took the claim over meanwhile: its outcome is the one that counts
                self.elsewhere[number] = item.proposal
            return
        # The process running the trial died while this search lived: the trial's own failure.
        reason = f"{type(result).__name__}: {result}".strip()
        record = self.store.get_trial(self.study, number)
        if record.failures < self.max_retries:
            item.task.attempt = self.store.retry_trial(self.study, number, attempt)
            self.retried.append(number)
            self._submit(item)
        else:
            self._finished(self.store.finish_trial(
                self.study, number, status="failed", attempt=attempt, failure=True,
                error=f"gave up after {record.failures + 1} attempts: the worker died ({reason})"))

    def _look_elsewhere(self) -> bool:
        """Settles or takes over the trials other processes were running; True if one changed."""
        changed = False
        for number, proposal in sorted(self.elsewhere.items()):
            record = self.store.get_trial(self.study, number)
            if record.status == "running":
                continue
            del self.elsewhere[number]
            changed = True
            if record.final:
                self._settle(record)
            else:  # interrupted, or its process is gone
                self._take(proposal)
        return changed

    def _give_back(self, exc: BaseException) -> None:
        """Stops the workers and gives the trials this process was running back to the study."""
        claims = {item.task.number: item.task.attempt for item in self.inflight.values()}
        self.executor.close(abort=True)
        if not claims or isinstance(self.store, MemoryStore):
            return
        reason = INTERRUPTED if isinstance(exc, KeyboardInterrupt) else (
            f"interrupted: the search stopped ({type(exc).__name__}) while this trial was running")
        try:
            self.store.release_trials(self.study, claims, reason)
        except MldslError:
            pass  # not recorded: the claims name this process, so they count as crashed once it ends

    def run(self) -> SearchResult:
        store, study = self.store, self.study
        final = {t.number: t for t in store.trials(study) if t.final and t.damaged is None}
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
                    self._take(_Proposal(k, dna, tuple(self.reference)), final.get(k))
                    k += 1
                if self.inflight:
                    for handle, result in self.executor.wait(POLL_SECONDS if self.elsewhere else None):
                        self._collect(handle, result)
                    if self.elsewhere:
                        self._look_elsewhere()
                elif self.elsewhere:
                    if not self._look_elsewhere():
                        time.sleep(POLL_SECONDS)
                else:
                    break
        except BaseException as exc:
            self._give_back(exc)
            raise
        trials = store.trials(study)
        return SearchResult(study=study, trials=trials, best=best_trial(trials, self.direction),
                            objective=self.objective, direction=self.direction, retried=self.retried,
                            ran=self.ran, elapsed=time.perf_counter() - self.started)


def default_window(executor: Any, workers: Optional[int]) -> int:
    """Trials that may run without seeing each other's results when neither the study nor the caller says:
    as many as run at once, so no proposal comes from results older than the parallelism makes it: the
    ``workers`` asked for, else 1 in process and one per usable core on a pool or Ray (an executor object:
    its ``workers``). The same ``workers`` gives the same window, hence the same proposals, on every
    executor."""
    if workers:
        return int(workers)
    if isinstance(executor, Executor):
        return max(1, int(executor.workers))
    return 1 if executor == "inprocess" else affinity_cpus()


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
    - ``max_retries``: how many more times a trial is run after the worker process running it died
      (a crash or Ctrl-C of the search itself does not count: its trials simply run again on resume).
    - ``on_trial(record, progress)``: called after each trial is recorded.
    - ``window``: how many trials may run without seeing each other's results (default
      :func:`default_window`: the trials that run at once; fixed when the study is created). Proposals are
      a function of (algorithm, seed, window), so the same seed and window give the same proposals on every
      executor and worker count.

    Before any trial runs, a symbolic space trained on its backend (no ``evaluate``) is checked: the
    objective must be a metric its trials log and the early-stopping rule must fit their epochs
    (:func:`check_search`). Several processes may run the same search on one store at once: they share
    its trials through the store, and each returns when all ``trials`` are final.
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
    if evaluate is None and not ops.raw:
        check_search(space, objective, rule)
    algo = build_algorithm(algorithm, seed)

    own_store = False
    if store is None:
        store = MemoryStore()
    elif isinstance(store, (str, os.PathLike)):
        store = Store(store)
        own_store = True
    try:
        existing = store.find_study(name)
        algo, notes = algo.for_budget(ops.spec, trials, existing.algorithm.get("algorithm") if existing else None)
        for note in notes:
            warnings.warn(SearchWarning(note), stacklevel=2)
        algo_desc = describe_algorithm(algo)
        stored_window = existing.algorithm.get("window") if existing is not None else None
        if stored_window is not None and window is not None and window != stored_window:
            raise SearchError(f"study {name!r} was started with window={stored_window}; resume it with the same "
                              "window (or omit it)")
        window = stored_window or window or default_window(executor, workers)
        study = store.open_study(name=name, space=ops.to_text(space), algorithm={
            "algorithm": algo_desc, "window": window,
            "early_stopping": rule.to_json() if rule is not None else None},
            objective=objective, direction=direction, seed=seed)
        own_executor = not isinstance(executor, Executor)
        runner_executor = make_executor(executor, workers, address=address) if own_executor else executor
        try:
            run = _SearchRun(ops=ops, algorithm=algo, store=store, study=study, executor=runner_executor,
                             trials=trials, objective=objective, direction=direction, window=window, rule=rule,
                             evaluate=evaluate, max_retries=max_retries, on_trial=on_trial)
            with full_collections_paused():  # thousands of trials: the full collections would grow with them
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


__all__ = ["run_search", "default_window", "SearchResult", "SearchProgress", "best_trial", "SpaceOps",
           "build_algorithm", "describe_algorithm", "check_search", "INTERRUPTED"]
