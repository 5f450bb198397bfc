"""The Keras callback that turns ``fit``'s epochs into mldsl's history rows. Importing it imports Keras.

It only hooks epoch boundaries (never batches), so Keras never has to copy per-batch logs to the host:
the per-step cost of training is the same as without it.
"""
from __future__ import annotations

import math
import time
from typing import Callable, List, Optional, Sequence

from mldsl.backends.base import EpochCallback
from mldsl.backends.keras._runtime import import_keras

_tf, keras = import_keras()


class EpochReporter(keras.callbacks.Callback):
    """Records one history row per epoch and passes it to ``on_epoch``; stops on NaN or when asked.

    Rows are ``{"epoch": 1-based, "loss", <metric>, "val_loss", "val_<metric>", "seconds"}`` (the ``val_``
    keys only with a validation split). ``on_epoch(epoch, logs)`` returning ``False`` stops training
    (``stopped_by_caller``). A non-finite loss stops training and is kept in ``diverged`` as
    ``(epoch, key, value)`` for the backend to report. With ``eval_every`` N > 0, every N-th row also gets
    ``test_loss`` and ``test_<metric>`` from ``evaluate_test()`` (the test split's evaluation; ``seconds``
    leaves it out).
    """

    def __init__(self, metric_names: Sequence[str], on_epoch: Optional[EpochCallback] = None, *,
                 evaluate_test: Optional[Callable[[], dict]] = None, eval_every: int = 0) -> None:
        super().__init__()
        self.evaluate_test, self.eval_every = evaluate_test, eval_every if evaluate_test is not None else 0
        self.keys = ["loss", *metric_names, "val_loss", *("val_" + m for m in metric_names)]
        self.on_epoch = on_epoch
        self.history: List[dict] = []
        self.stopped_by_caller = False
        self.diverged: Optional[tuple] = None
        self._started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._started
        logs = logs or {}
        row = {"epoch": epoch + 1}
        for key in self.keys:
            if key in logs:
                row[key] = float(logs[key])
        if self.eval_every and (epoch + 1) % self.eval_every == 0 and math.isfinite(row.get("loss", 0.0)):
            row.update({"test_" + k: v for k, v in self.evaluate_test().items()})
        row["seconds"] = seconds
        self.history.append(row)
        for key in ("loss", "val_loss"):
            if key in row and not math.isfinite(row[key]):
                self.diverged = (epoch + 1, key, row[key])
                self.model.stop_training = True
                return
        if self.on_epoch is not None:
            reported = {k: v for k, v in row.items() if k != "epoch"}
            if self.on_epoch(epoch + 1, reported) is False:
                self.stopped_by_caller = True
                self.model.stop_training = True
