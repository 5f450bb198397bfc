"""The search-algorithm protocol (PyGlove's ``DNAGenerator``).

An algorithm is set up with a :class:`~mldsl.hyper.geno.Space` (``dna_spec(space)``), then
``propose()`` returns the next :class:`~mldsl.hyper.dna.DNA` (``StopIteration`` once a finite sweep
is exhausted) and ``feedback(dna, reward)`` tells it how a proposal did (``reward=None``: the trial
was skipped or failed). Rewards are maximised.

Resuming: ``recover(history)`` rebuilds the state from the ``(dna, reward)`` records of earlier
proposals, in proposal order, so that the next ``propose()`` returns exactly what an uninterrupted
run would have. To make that possible every algorithm draws the randomness of its n-th proposal
from a generator seeded with ``(seed, n)`` (:meth:`Algorithm.rng_for`), never from a long-lived
stream, and its state is a pure function of the feedback it got.
"""
from __future__ import annotations

import math
import random as _random
from typing import Any, Dict, Iterable, List, Optional, Tuple

from mldsl.errors import SearchError, ValidationError
from mldsl.hyper.dna import DNA
from mldsl.hyper.geno import Space

Record = Tuple[Any, Optional[float]]


class SearchWarning(UserWarning):
    """Something about a search a person should know before it runs (shown as one line by the CLI)."""


class Algorithm:
    """Base class of search algorithms. Subclasses implement ``_propose`` (and may override
    ``_reset``, ``_on_setup`` and ``_on_feedback``)."""

    #: the name the algorithm is registered under (``grid``, ``random``, ``evolution``)
    name: str = "algorithm"

    def __init__(self, seed: Optional[int] = None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValidationError(f"{self.name}: seed must be an int or None, got {seed!r}. "
                                  f"(path=seed)")
        self._seed = seed
        # Without a seed the search is still reproducible within this object (and its recover()).
        self._base_seed = seed if seed is not None else _random.SystemRandom().randrange(2 ** 63)
        self._spec: Optional[Space] = None
        self._num_proposals = 0
        self._records: List[Tuple[DNA, Optional[float]]] = []

    # -- hyper-parameters ----------------------------------------------------------------------------
    @property
    def seed(self) -> Optional[int]:
        return self._seed

    def hyper_params(self) -> Dict[str, Any]:
        """The constructor arguments (what makes two algorithms propose the same)."""
        return {"seed": self._seed}

    def fresh(self) -> "Algorithm":
        """A new, not set-up algorithm with the same hyper-parameters."""
        return type(self)(**self.hyper_params())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyper_params().items())
        return f"{self.name}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.hyper_params() == other.hyper_params()

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.hyper_params().items(), key=lambda kv: kv[0]))))

    def for_budget(self, spec: Space, trials: int, recorded: Optional[Dict[str, Any]] = None
                   ) -> Tuple["Algorithm", List[str]]:
        """The algorithm a search of ``trials`` trials over ``spec`` runs (``recorded``: the description
        stored with the study when it is resumed), and sentences a person should read before it starts
        (e.g. that the budget cannot cover the space). By default itself, with nothing to say."""
        return self, []

    # -- state ---------------------------------------------------------------------------------------
    @property
    def dna_spec(self) -> Optional[Space]:
        return self._spec

    @property
    def num_proposals(self) -> int:
        """How many DNAs were proposed so far (including recovered ones)."""
        return self._num_proposals

    @property
    def num_feedbacks(self) -> int:
        return len(self._records)

    def rng_for(self, n: int) -> _random.Random:
        """The random generator of the n-th proposal (0-based): a pure function of seed and n."""
        return _random.Random(f"mldsl/{self.name}/{self._base_seed}/{n}")

    def setup(self, dna_spec: Space) -> None:
        """Binds the algorithm to a search space and clears its state."""
        if not isinstance(dna_spec, Space):
            raise SearchError(f"{self.name}: setup() needs a DNA spec (dna_spec(space)), got "
                              f"{type(dna_spec).__name__}")
        self._spec = dna_spec
        self._num_proposals = 0
        self._records = []
        self._reset()
        self._on_setup(dna_spec)

    def _require_setup(self) -> Space:
        if self._spec is None:
            raise SearchError(f"{self.name}: call setup(dna_spec(space)) before proposing")
        return self._spec

    # -- protocol ------------------------------------------------------------------------------------
    def propose(self) -> DNA:
        """The next DNA to try. Raises ``StopIteration`` when there is nothing left to propose."""
        spec = self._require_setup()
        dna = self._propose(spec, self._num_proposals, self.rng_for(self._num_proposals))
        self._num_proposals += 1
        return dna

    def feedback(self, dna: Any, reward: Optional[float]) -> None:
        """Reports the reward of a proposed DNA (None: skipped/failed). Rewards are maximised."""
        spec = self._require_setup()
        dna = _as_dna(dna, spec)
        reward = _as_reward(reward, self.name)
        self._records.append((dna, reward))
        self._on_feedback(dna, reward)

    def recover(self, history: Iterable[Record]) -> None:
        """Rebuilds the state from earlier ``(dna, reward)`` records, in proposal order (``reward``
        None for a skipped/failed trial). Afterwards ``propose()`` continues exactly where a run
        that made those proposals and got that feedback would be."""
        spec = self._require_setup()
        self.setup(spec)
        for dna, reward in history:
            dna = _as_dna(dna, spec)
            self._on_recovered_proposal(spec, self._num_proposals, dna)
            self._num_proposals += 1
            self.feedback(dna, reward)

    # -- hooks for subclasses ------------------------------------------------------------------------
    def _reset(self) -> None:
        """Clears the algorithm's own state (called by setup and recover)."""

    def _on_setup(self, spec: Space) -> None:
        """Checks the space (raise SearchError for a space this algorithm cannot search)."""

    def _propose(self, spec: Space, n: int, rng: _random.Random) -> DNA:
        raise NotImplementedError

    def _on_feedback(self, dna: DNA, reward: Optional[float]) -> None:
        """Learns from one result."""

    def _on_recovered_proposal(self, spec: Space, n: int, dna: DNA) -> None:
        """Accounts for proposal n having been made (before its feedback) during recover()."""


def _as_dna(dna: Any, spec: Space) -> DNA:
    if isinstance(dna, DNA):
        return dna
    if isinstance(dna, (list, tuple, int, float)):
        return DNA.from_json(dna, spec)
    raise SearchError(f"expected a DNA or its list of numbers, got {dna!r}")


def _as_reward(reward: Any, name: str) -> Optional[float]:
    if reward is None:
        return None
    if isinstance(reward, bool) or not isinstance(reward, (int, float)):
        try:
            reward = float(reward)
        except (TypeError, ValueError):
            raise SearchError(f"{name}: a reward must be a number (or None), got {reward!r}") from None
    reward = float(reward)
    if math.isnan(reward):
        return None
    return reward


def check_int(name: str, key: str, value: Any, min_value: int, allow_none: bool = False) -> None:
    """Validates an integer hyper-parameter, raising ValidationError naming it."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name}: {key} must be an int, got {value!r}. (path={key})")
    if value < min_value:
        raise ValidationError(f"{name}: Value {value} is out of range (min={min_value}, max=None). "
                              f"(path={key})")
