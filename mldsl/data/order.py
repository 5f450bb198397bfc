"""The order in which training visits its examples, epoch by epoch: one definition for every backend.

``training.order`` of an experiment names one of :data:`ORDERS`:

* ``shuffle`` (the default): a fresh random permutation every epoch. The permutations are those the native
  trainer has always drawn: one ``numpy.random.default_rng(seed)`` shuffling ``arange(n)`` in place once per
  epoch. (The Keras backend keeps Keras' own ``fit(shuffle=True)`` for this order.)
* ``sequential``: the data's own order, every epoch.
* ``by_class``: all examples of class 0, then all of class 1, ...; within a class in a random order drawn
  from the same seeded generator, drawn again every epoch (the "correlated inputs" of catastrophic
  forgetting).

The order covers the training part only: a validation split holds out the *last* examples of the data
before any ordering, so the held-out part never depends on the order.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, Optional

from mldsl.errors import DataError

if TYPE_CHECKING:  # NumPy is imported on use: the Experiment's schema reads ORDERS, `mldsl check` needs no NumPy
    import numpy as np

#: The values of ``training.order``, the default first.
ORDERS = ("shuffle", "sequential", "by_class")


def epoch_orders(n: int, order: str = "shuffle", seed: int = 0,
                 labels: Optional[np.ndarray] = None) -> Iterator[np.ndarray]:
    """The index array (int64, a permutation of ``range(n)``) of each epoch, endlessly, in training order.

    ``labels`` (class indices, one per example) is needed for ``by_class`` only. Each array yielded is
    the caller's to keep (a new array per epoch). A :class:`DataError` says what is wrong with the
    arguments when it is called, before the first epoch."""
    import numpy as np

    if order not in ORDERS:
        raise DataError(f"unknown training order {order!r}; choose one of: {', '.join(ORDERS)}")
    n = int(n)
    if order == "by_class":
        if labels is None:
            raise DataError("the by_class training order needs the class label of every training example")
        labels = np.asarray(labels)
        if labels.shape != (n,):
            raise DataError(f"the by_class training order needs one class label per example: labels of shape "
                            f"{labels.shape} for {n} examples")
    return _orders(np, n, order, seed, labels)


def _orders(np, n: int, order: str, seed: int, labels: Optional[np.ndarray]) -> Iterator[np.ndarray]:
    if order == "sequential":
        while True:
            yield np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    if order == "shuffle":      # the native trainer's permutations since its first version
        current = np.arange(n, dtype=np.int64)
        while True:
            rng.shuffle(current)
            yield current.copy()
    while True:                 # by_class: a fresh shuffle, then a stable sort by class keeps it within classes
        shuffled = rng.permutation(n)
        yield shuffled[np.argsort(labels[shuffled], kind="stable")].astype(np.int64, copy=False)


def epoch_order(n: int, order: str, seed: int, epoch: int, labels: Optional[np.ndarray] = None) -> np.ndarray:
    """The index array of epoch ``epoch`` (1-based) of :func:`epoch_orders`."""
    if epoch < 1:
        raise DataError(f"epochs count from 1, got {epoch}")
    for number, indices in enumerate(epoch_orders(n, order, seed, labels), start=1):
        if number == epoch:
            return indices
    raise AssertionError("unreachable")  # pragma: no cover - the generator is endless
