"""What a results store holds, as Python values: runs, studies, trials, and how rows decode.

A column holding JSON that does not parse is reported (``damaged``) instead of raising, so one damaged
row never makes the others unreadable.
"""
from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Optional

RUN_STATUSES = ("running", "completed", "failed", "interrupted", "crashed")
#: ``interrupted`` and ``crashed`` trials are not final: the next run of the search runs them again.
TRIAL_STATUSES = ("running", "completed", "failed", "stopped", "skipped", "interrupted", "crashed")
FINAL_TRIAL_STATUSES = ("completed", "failed", "stopped", "skipped")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, allow_nan=False, sort_keys=True)


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def clean_floats(value: Any) -> Any:
    """NaN/inf are not JSON: store them as strings so nothing is lost or rejected. NumPy scalars (numbers
    that are not Python's own) become Python numbers."""
    if isinstance(value, numbers.Integral) and not isinstance(value, int):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, float) and not isinstance(value, int):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return repr(float(value))  # 'nan', 'inf', '-inf' (np.float64 is a float with another repr)
    if isinstance(value, dict):
        return {k: clean_floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_floats(v) for v in value]
    return value


@dataclass
class RunRecord:
    """One row of ``runs``: a single experiment run.

    ``status``: ``running``, ``completed``, ``failed``, ``interrupted`` (Ctrl-C; what was done is kept)
    or ``crashed`` (its process ended without recording an outcome). ``host``/``pid``: the process that
    ran it. ``backend_reason``: why that backend ran it; ``warnings``: what a person should know about
    the run. ``damaged``: set when part of the row could not be read (the readable part is kept).
    """

    id: str
    name: str
    status: str
    experiment_mlx: str
    source: Optional[str] = None
    patches: list = field(default_factory=list)
    seed: Optional[int] = None
    backend: Optional[str] = None
    versions: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    artifacts: Optional[str] = None
    error: Optional[str] = None
    started: float = 0.0
    finished: Optional[float] = None
    duration: Optional[float] = None
    backend_reason: Optional[str] = None
    warnings: list = field(default_factory=list)
    host: Optional[str] = None
    pid: Optional[int] = None
    damaged: Optional[str] = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class TrialRecord:
    """One row of ``trials``: a single proposal of a search and what became of it.

    ``attempts``: how many times it was started (a search resumed after a crash starts it again);
    ``failures``: how many of those ended because its worker process died (``--max-retries`` bounds
    these; a crash of the search itself is not counted). ``host``/``pid``: the process that claimed it.
    """

    id: int
    study: str
    number: int
    dna: Any
    status: str
    experiment_mlx: Optional[str] = None
    reward: Optional[float] = None
    metrics: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    error: Optional[str] = None
    attempts: int = 1
    started: float = 0.0
    finished: Optional[float] = None
    failures: int = 0
    host: Optional[str] = None
    pid: Optional[int] = None
    damaged: Optional[str] = None

    @property
    def duration(self) -> Optional[float]:
        return None if self.finished is None else self.finished - self.started

    @property
    def final(self) -> bool:
        """Whether the outcome is settled (a search never runs it again)."""
        return self.status in FINAL_TRIAL_STATUSES

    def to_dict(self) -> dict:
        out = dict(self.__dict__)
        out["duration"] = self.duration
        return out


@dataclass
class StudyRecord:
    """One row of ``studies``: a named search over a space."""

    id: int
    name: str
    space: str
    algorithm: dict
    objective: str
    direction: str
    seed: Optional[int]
    created: float


@dataclass
class Claim:
    """What :meth:`Store.claim_trial` found: ``claimed`` (this process runs it now, as ``attempt``),
    ``final`` (already settled), ``busy`` (a live process runs it) or ``mismatch`` (the stored DNA is
    another one)."""

    state: str
    record: TrialRecord

    @property
    def attempt(self) -> int:
        return self.record.attempts


class _Damaged(Exception):
    def __init__(self, column: str, exc: json.JSONDecodeError):
        super().__init__(f"its {column} is not valid JSON ({exc.msg} at character {exc.pos})")
        self.column = column


def decode_json_column(data: dict, column: str, default: Any, problems: list) -> None:
    try:
        data[column] = json.loads(data[column]) if data[column] is not None else default
    except json.JSONDecodeError as exc:
        problems.append(str(_Damaged(column, exc)))
        data[column] = default
    except TypeError:
        problems.append(f"its {column} is not text")
        data[column] = default


def loads_or_none(text: Any) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return None
