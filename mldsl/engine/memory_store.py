"""An in-memory stand-in for :class:`~mldsl.engine.store.Store`'s study/trial API.

``run_search(..., store=None)`` uses it: nothing survives the process (no resume), nothing touches the
disk, and the bookkeeping costs a few dictionary operations per trial.
"""
from __future__ import annotations

import copy
import math
import time
from typing import Any, Optional

from mldsl.engine.records import TRIAL_STATUSES, Claim, StudyRecord, TrialRecord
from mldsl.errors import StoreError


class _MemoryTrial(TrialRecord):
    """A trial record whose ``.mlx`` text may be computed on first access (nothing reads it in most
    in-memory searches, and printing an experiment costs more than running a trivial trial)."""

    @property
    def experiment_mlx(self) -> Optional[str]:
        value = self.__dict__.get("_experiment_mlx")
        if callable(value):
            try:
                value = value()
            except Exception as exc:  # printing is best effort here; the trial itself is unaffected
                value = f"# cannot print this experiment: {type(exc).__name__}: {exc}"
            self.__dict__["_experiment_mlx"] = value
        return value

    @experiment_mlx.setter
    def experiment_mlx(self, value) -> None:
        self.__dict__["_experiment_mlx"] = value

    def to_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "_experiment_mlx"}
        out["experiment_mlx"] = self.experiment_mlx
        out["duration"] = self.duration
        return out


class MemoryStore:
    """Studies and trials in dictionaries, with the same methods the search runner uses on a Store
    (one process, so a trial is never claimed by another)."""

    path = None

    def __init__(self):
        self._studies: dict[str, StudyRecord] = {}
        self._trials: dict[int, dict[int, TrialRecord]] = {}

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def open_study(self, *, name: str, space: str, algorithm: dict, objective: str, direction: str,
                   seed: Optional[int]) -> StudyRecord:
        study = self._studies.get(name)
        if study is None:
            study = StudyRecord(id=len(self._studies) + 1, name=name, space=space, algorithm=copy.deepcopy(algorithm),
                                objective=objective, direction=direction, seed=seed, created=time.time())
            self._studies[name] = study
            self._trials[study.id] = {}
        elif (study.space, study.algorithm, study.objective, study.direction, study.seed) != (
                space, algorithm, objective, direction, seed):
            raise StoreError(f"study {name!r} was started with different settings; give the search another name")
        return study

    def get_study(self, name: str) -> StudyRecord:
        if name not in self._studies:
            raise StoreError(f"no study named {name!r} in memory; studies: {', '.join(self._studies) or 'none'}")
        return self._studies[name]

    def find_study(self, name: str) -> Optional[StudyRecord]:
        return self._studies.get(name)

    def list_studies(self) -> list[StudyRecord]:
        return list(self._studies.values())

    def claim_trial(self, study: StudyRecord, number: int, dna: Any, experiment_mlx: Any) -> Claim:
        """As :meth:`Store.claim_trial`; the ``.mlx`` text may be a function, called when it is read."""
        trials = self._trials[study.id]
        record = trials.get(number)
        if record is None:
            record = trials[number] = _MemoryTrial(id=number + 1, study=study.name, number=number, dna=dna,
                                                  status="running", experiment_mlx=experiment_mlx,
                                                  started=time.time())
            return Claim("claimed", record)
        if record.dna != dna:
            return Claim("mismatch", record)
        if record.final:
            return Claim("final", record)
        # one process: a trial still running here was left by a search that raised; take it over
        record.status, record.attempts, record.started = "running", record.attempts + 1, time.time()
        record.finished, record.error, record.history = None, None, []
        return Claim("claimed", record)

    def retry_trial(self, study: StudyRecord, number: int, attempt: int) -> int:
        record = self._trials[study.id][number]
        record.failures += 1
        record.attempts = attempt + 1
        record.started, record.history = time.time(), []
        return record.attempts

    def update_trial_history(self, study: StudyRecord, number: int, history: list,
                             attempt: Optional[int] = None) -> None:
        record = self._trials[study.id][number]
        if attempt is None or (record.attempts == attempt and record.status == "running"):
            record.history = list(history)

    def finish_trial(self, study: StudyRecord, number: int, *, status: str, attempt: Optional[int] = None,
                     reward: Optional[float] = None, metrics: Optional[dict] = None,
                     history: Optional[list] = None, error: Optional[str] = None,
                     failure: bool = False) -> TrialRecord:
        if status not in TRIAL_STATUSES or status == "running":
            raise ValueError(f"unknown trial status {status!r}; expected one of {TRIAL_STATUSES[1:]}")
        record = self._trials[study.id][number]
        if attempt is not None and (record.attempts != attempt or record.status != "running"):
            return record
        record.status = status
        record.failures += failure
        record.reward = reward if reward is not None and math.isfinite(reward) else None
        record.metrics = dict(metrics or {})
        record.error = error
        record.finished = time.time()
        if history is not None:
            record.history = list(history)
        return record

    def release_trials(self, study: StudyRecord, claims: dict, reason: str) -> None:
        for number, attempt in claims.items():
            record = self._trials[study.id][number]
            if record.attempts == attempt and record.status == "running":
                record.status, record.error, record.finished = "interrupted", reason, time.time()

    def get_trial(self, study: StudyRecord, number: int, *, strict: bool = True) -> TrialRecord:
        try:
            return self._trials[study.id][number]
        except KeyError:
            raise StoreError(f"no trial {number} in study {study.name!r}") from None

    def trials(self, study: StudyRecord) -> list[TrialRecord]:
        return [self._trials[study.id][n] for n in sorted(self._trials[study.id])]
