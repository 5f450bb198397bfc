"""Early-stopping rules for search trials: stop a trial that is clearly worse than the ones before it.

A trial reports its objective after every epoch; a rule compares that value with the per-epoch curves of
a *reference set* of completed trials and answers "stop" (with a reason) or "go on". The search runner
fixes each trial's reference set when the trial is proposed (the completed trials whose results the
algorithm had seen), so the decision does not depend on timing: the same seed stops the same trials on
every executor, and a resumed search stops what an uninterrupted one would have.

In ``.mlx``: ``early_stopping = median(after=2)``. The rules sit beside the search algorithms (as in
PyGlove), below both the language, which checks a search's rule when it compiles it, and the engine,
which applies it.
"""
from __future__ import annotations

import math
import re
import statistics
from dataclasses import asdict, dataclass
from typing import Any, Optional, Sequence

from mldsl.hyper.calls import call_parts
from mldsl.errors import SearchError

#: A curve: the objective per epoch of one trial (index 0 is epoch 1); None where it was not reported.
Curve = Sequence[Optional[float]]


class EarlyStoppingRule:
    """Base class. Subclasses are small frozen dataclasses (picklable, sent to worker processes)."""

    name = "rule"

    def should_stop(self, epoch: int, value: float, reference: Sequence[Curve], direction: str) -> Optional[str]:
        """The reason to stop a trial whose objective at ``epoch`` (1-based) is ``value``, or None."""
        raise NotImplementedError

    def problem(self, max_epochs: int) -> Optional[str]:
        """Why this rule cannot work for trials of at most ``max_epochs`` epochs, or None."""
        return None

    def to_json(self) -> dict:
        """``{"name": ..., arguments...}`` (recorded with the study)."""
        return {"name": self.name, **asdict(self)}

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in asdict(self).items())
        return f"{self.name}({args})"


@dataclass(frozen=True)
class MedianStopping(EarlyStoppingRule):
    """Stops a trial whose objective at epoch k (k >= ``after``) is worse than the median of the reference
    trials' objective at epoch k, once at least ``min_trials`` of them reached epoch k."""

    after: int = 2
    min_trials: int = 1

    name = "median"

    def __post_init__(self):
        if isinstance(self.after, bool) or not isinstance(self.after, int) or self.after < 1:
            raise SearchError(f"median(after=...) must be an integer >= 1, got {self.after!r}")
        if isinstance(self.min_trials, bool) or not isinstance(self.min_trials, int) or self.min_trials < 1:
            raise SearchError(f"median(min_trials=...) must be an integer >= 1, got {self.min_trials!r}")

    def problem(self, max_epochs):
        if self.after > max_epochs:
            return (f"{self} never stops a trial: it starts comparing at epoch {self.after}, but the "
                    f"trials train at most {max_epochs} epoch(s); lower `after` or drop early_stopping")
        return None

    def should_stop(self, epoch, value, reference, direction):
        if epoch < self.after or value is None or not math.isfinite(value):
            return None
        at_epoch = [c[epoch - 1] for c in reference
                    if len(c) >= epoch and c[epoch - 1] is not None and math.isfinite(c[epoch - 1])]
        if len(at_epoch) < self.min_trials:
            return None
        median = statistics.median(at_epoch)
        worse = value < median if direction == "maximize" else value > median
        if not worse:
            return None
        word = "below" if direction == "maximize" else "above"
        return (f"stopped at epoch {epoch}: objective {value:.6g} is {word} the median {median:.6g} "
                f"of {len(at_epoch)} completed trial(s) at that epoch")


def median(after: int = 2, min_trials: int = 1) -> MedianStopping:
    """``median(after=2)``: stop a trial below the median of completed trials at the same epoch."""
    return MedianStopping(after=after, min_trials=min_trials)


#: Rule name -> factory, as written in ``.mlx`` and on the command line.
RULES = {"median": median}

_CALL = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$")


def _literal(text: str) -> Any:
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise SearchError(f"early-stopping argument {text!r} is not a literal") from None


def resolve_rule(value: Any) -> Optional[EarlyStoppingRule]:
    """An :class:`EarlyStoppingRule` from what a user or the DSL gives: None, a rule, a string such as
    ``"median(after=2)"``, a dict ``{"name": "median", "after": 2}``, or a compiled ``.mlx`` call."""
    if value is None or isinstance(value, EarlyStoppingRule):
        return value
    if isinstance(value, str):
        match = _CALL.match(value)
        if not match:
            raise SearchError(f"cannot read early-stopping rule {value!r}; expected e.g. 'median(after=2)'")
        name, argtext = match.group(1), (match.group(2) or "").strip()
        args, kwargs = [], {}
        for part in filter(None, (p.strip() for p in argtext.split(","))):
            if "=" in part:
                key, _, val = part.partition("=")
                kwargs[key.strip()] = _literal(val.strip())
            else:
                args.append(_literal(part))
        return _build(name, args, kwargs)
    if isinstance(value, dict):
        data = dict(value)
        name = data.pop("name", None) or data.pop("_type", None)
        return _build(str(name), [], data)
    parts = call_parts(value)
    if parts is None:
        raise SearchError(f"cannot read early-stopping rule {value!r}; expected e.g. 'median(after=2)'")
    return _build(*parts)


def _build(name: str, args: list, kwargs: dict) -> EarlyStoppingRule:
    factory = RULES.get(name.lower())
    if factory is None:
        from mldsl.errors import suggestion_text

        hint = suggestion_text(name, RULES)
        raise SearchError(f"unknown early-stopping rule {name!r}" + (f"; {hint}" if hint else "")
                          + f" (known: {', '.join(sorted(RULES))})")
    try:
        return factory(*args, **kwargs)
    except TypeError as exc:
        raise SearchError(f"bad arguments for early-stopping rule {name}(): {exc}") from None
