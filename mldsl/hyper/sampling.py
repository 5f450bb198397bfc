"""``sample(space, algorithm, num_examples)``: PyGlove's sampling loop, yielding
``(example, feedback)`` pairs."""
from __future__ import annotations

from typing import Any, Iterator, Optional, Tuple

from mldsl.errors import SearchError
from mldsl.hyper.algorithm import Algorithm
from mldsl.hyper.dna import DNA
from mldsl.hyper.space import dna_spec, materialize

__all__ = ["sample", "Feedback"]


class Feedback:
    """Reports how one sampled example did: ``feedback(reward)`` or ``feedback.skip(reason)``.

    ``id`` (1-based, in proposal order), ``dna``, ``reward``, ``status`` (``"pending"``,
    ``"completed"`` or ``"skipped"``) and ``skip_reason``. Reporting twice is a SearchError."""

    def __init__(self, id: int, dna: DNA, algorithm: Algorithm):  # noqa: A002 - PyGlove's name
        self._id = id
        self._dna = dna
        self._algorithm = algorithm
        self._status = "pending"
        self._reward: Optional[float] = None
        self._skip_reason: Optional[str] = None

    @property
    def id(self) -> int:
        return self._id

    @property
    def dna(self) -> DNA:
        return self._dna

    @property
    def reward(self) -> Optional[float]:
        return self._reward

    @property
    def status(self) -> str:
        return self._status

    @property
    def skip_reason(self) -> Optional[str]:
        return self._skip_reason

    def _check_pending(self) -> None:
        if self._status != "pending":
            raise SearchError(f"feedback for example {self._id} was already given ({self._status})")

    def __call__(self, reward: float) -> None:
        """Reports the reward of this example (higher is better)."""
        self._check_pending()
        if reward is None:
            raise SearchError(f"feedback({reward!r}) for example {self._id}: use feedback.skip() "
                              f"to report no result")
        self._algorithm.feedback(self._dna, reward)
        self._reward = float(reward)
        self._status = "completed"

    def skip(self, reason: Optional[str] = None) -> None:
        """Reports that this example has no result (invalid, failed, ...)."""
        self._check_pending()
        self._algorithm.feedback(self._dna, None)
        self._skip_reason = reason
        self._status = "skipped"

    def __repr__(self) -> str:
        return f"Feedback(id={self._id}, dna={self._dna!r}, status={self._status!r})"


def sample(space: Any, algorithm: Algorithm, num_examples: Optional[int] = None
           ) -> Iterator[Tuple[Any, Feedback]]:
    """Yields ``(example, feedback)``: ``example`` is ``space`` materialised with the algorithm's
    next proposal. Stops after ``num_examples`` (None: until the algorithm runs out, e.g. a grid).

    An algorithm that is not set up is set up with ``dna_spec(space)``; one already set up (say after
    ``recover(history)``) continues where it is, ids counting on from its proposals so far."""
    if not isinstance(algorithm, Algorithm) and not hasattr(algorithm, "propose"):
        raise SearchError(f"sample() needs a search algorithm (grid/random/evolution), got {algorithm!r}")
    if num_examples is not None and (isinstance(num_examples, bool) or not isinstance(num_examples, int)
                                     or num_examples < 0):
        raise SearchError(f"num_examples must be a non-negative int or None, got {num_examples!r}")
    spec = dna_spec(space)
    if getattr(algorithm, "dna_spec", None) is None:
        algorithm.setup(spec)
    elif algorithm.dna_spec is not spec and algorithm.dna_spec != spec:
        raise SearchError("the algorithm is set up for a different search space")
    count = 0
    while num_examples is None or count < num_examples:
        try:
            dna = algorithm.propose()
        except StopIteration:
            return
        example_id = getattr(algorithm, "num_proposals", count + 1)
        example = materialize(space, dna, spec)
        count += 1
        yield example, Feedback(example_id, dna, algorithm)
