"""Where a command prints in a notebook: the service layer's :class:`~mldsl.service.output.Output` with
tables and ``.mlx`` shown as HTML, and progress as one live line that updates in place (an HTML
``<progress>`` bar with the epoch's or the search's text; the text alone where HTML is not shown), through
IPython's display handles (``display(..., display_id=True)`` then ``update``): no widget library needed,
and a saved notebook keeps the last state.
"""
from __future__ import annotations

import sys
from typing import Any, Optional

from mldsl.notebook.display import MlxText, Table, escape
from mldsl.service.output import EpochProgress, Output, TrialProgress


class LiveLine:
    """One output that a run or a search updates in place: a bar (``done`` of ``total``) and a line."""

    def __init__(self) -> None:
        self.handle: Any = None

    def update(self, done: int, total: Optional[int], text: str) -> None:
        from IPython.display import display

        bar = f"<progress value='{done}' max='{total}' style='width:20em'></progress> " if total else ""
        bundle = {"text/plain": text, "text/html": f"<div>{bar}<code>{escape(text)}</code></div>"}
        if self.handle is None:
            self.handle = display(bundle, raw=True, display_id=True)
        else:
            self.handle.update(bundle, raw=True)


class NotebookEpochProgress(EpochProgress):
    """The ``on_epoch`` callback of a run in a notebook: a bar over the epochs and the latest epoch's line."""

    def __init__(self, output: Output, total_epochs: int, *, every: int = 1) -> None:
        super().__init__(output, total_epochs, every=every)
        self.live = LiveLine()

    def __call__(self, epoch: int, logs: dict) -> None:
        if self.reports(epoch):
            self.live.update(epoch, self.total, self.line(epoch, logs))


class NotebookTrialProgress(TrialProgress):
    """The ``on_trial`` callback of a search in a notebook: a bar over the trials, the best so far."""

    def __init__(self, output: Output, objective: str, *, quiet: bool = False) -> None:
        super().__init__(output, objective, quiet=quiet)
        self.live = LiveLine()

    def __call__(self, record: Any, progress: Any) -> None:
        if self.quiet:
            return
        if record.status == "failed":
            self.failed += 1
        self.live.update(progress.done, progress.total, f"[{progress.done}/{progress.total}] "
                         f"{self.best_text(progress)} · {self.failed} failed")


class NotebookOutput(Output):
    """The cell's standard output, with tables and ``.mlx`` displayed as HTML and live progress."""

    def __init__(self) -> None:
        super().__init__(sys.stdout, color=False)

    def mlx(self, text: str) -> None:
        from IPython.display import display

        display(MlxText(text))

    def picture(self, path, what: str = "") -> None:
        """The picture itself, inline, under its path."""
        from IPython.display import Image, display

        super().picture(path, what)
        display(Image(filename=str(path)))

    def table(self, headers, rows) -> None:
        from IPython.display import display

        display(Table(headers, rows))

    def epoch_progress(self, total_epochs: int, *, every: int = 1, plain_lines: bool = False) -> EpochProgress:
        return NotebookEpochProgress(self, total_epochs, every=every)

    def trial_progress(self, objective: str, *, quiet: bool = False) -> TrialProgress:
        return NotebookTrialProgress(self, objective, quiet=quiet)
