"""Where the front ends print: one :class:`Output` per stream, tables and progress bars from ``rich``.

On a terminal, tables have a bold header and wrap to its width, and runs and searches show a live
progress bar; colour is on unless ``NO_COLOR`` is set (or the REPL is told ``--no-color``). Off a
terminal (piped, a file, a test's ``StringIO``) nothing moves and nothing is coloured: tables are plain
columns under a dashed header line, a search prints one line per trial, and the text is the same from
one run to the next, for scripts and tests to read. ``rich`` is imported only when a table or a bar is
drawn, so verbs that print neither (``check``, ``show``, ``fmt``) never load it.
"""
from __future__ import annotations

import io
import math
import os
import sys
from typing import IO, Any, Optional, Sequence


def isatty(stream: Any) -> bool:
    """Whether ``stream`` is a terminal (False for anything that cannot say)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return False


def metric_text(value: Any) -> str:
    """A metric as every table and progress line shows it: 4 significant digits, ``-`` when missing."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def logs_text(logs: dict) -> str:
    """One epoch's logs as ``loss 0.1234  accuracy 0.9`` (the epoch number and timing left out)."""
    return "  ".join(f"{k} {metric_text(v)}" for k, v in logs.items() if k not in ("seconds", "epoch"))


def elapsed_text(seconds: float) -> str:
    """``mm:ss``, or ``h:mm:ss`` from an hour on."""
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def shorten(text: Any, width: int) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


class Output:
    """A text stream and how to write to it: ``terminal`` (live bars, wrapped tables) and ``color``
    (default: a terminal and ``NO_COLOR`` unset)."""

    def __init__(self, stream: Optional[IO[str]] = None, *, color: Optional[bool] = None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.terminal = isatty(self.stream)
        self.color = (self.terminal and "NO_COLOR" not in os.environ) if color is None else color
        self._console = None

    @property
    def console(self):
        """The ``rich`` console writing to this stream (made on first use)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self.stream, force_terminal=self.terminal,
                                    force_interactive=self.terminal, no_color=not self.color,
                                    color_system="auto" if self.color else None,
                                    width=None if self.terminal else 100_000, highlight=False, markup=False,
                                    emoji=False, legacy_windows=False)
        return self._console

    # ------------------------------------------------------------------------------------- text
    def print(self, text: str = "", style: Optional[str] = None) -> None:
        """Writes a line; ``style`` (``"dim"``, ``"red"``, ``"bold"``) applies when colour is on."""
        if self.color and style:
            from rich.text import Text

            self.console.print(Text(text, style=style), soft_wrap=True)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def lines(self, lines: Sequence[str], style: Optional[str] = None) -> None:
        for line in lines:
            self.print(line, style)

    def mlx(self, text: str) -> None:
        """Writes ``.mlx`` text, highlighted (``mldsl.highlight``) when colour is on."""
        if self.color:
            from pygments import highlight
            from pygments.formatters import TerminalFormatter

            from mldsl.highlight import MlxLexer

            text = highlight(text, MlxLexer(), TerminalFormatter()).rstrip("\n")
        self.print(text)

    def picture(self, path: Any, what: str = "") -> None:
        """Says where a picture was written: ``plot: PATH`` (and ``what`` it shows, in brackets)."""
        self.print(f"plot: {path}" + (f" ({what})" if what else ""))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """Writes a table: on a terminal with a bold header, wrapping long cells; otherwise plain
        columns two spaces apart under a line of dashes, one line per row, no trailing spaces."""
        from rich import box
        from rich.table import Table

        style = box.SIMPLE_HEAD if self.terminal else _plain_box()
        table = Table(box=style, show_edge=False, pad_edge=False, padding=(0, 1), collapse_padding=True,
                      header_style="bold" if self.color else None)
        for header in headers:
            table.add_column(header, no_wrap=not self.terminal, overflow="fold")
        for row in rows:
            table.add_row(*row)
        if self.terminal:
            self.console.print(table)
        else:
            with self.console.capture() as captured:
                self.console.print(table)
            self.stream.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))
        self.stream.flush()

    # --------------------------------------------------------------------------------- progress
    def epoch_progress(self, total_epochs: int, *, every: int = 1, plain_lines: bool = False) -> "EpochProgress":
        """The ``on_epoch`` callback of a run: a line every ``every`` epochs (and at the last) and a bar on a
        terminal; off one, those lines when ``plain_lines`` (the REPL's transcript), else nothing."""
        return EpochProgress(self, total_epochs, every=every, plain_lines=plain_lines)

    def trial_progress(self, objective: str, *, quiet: bool = False) -> "TrialProgress":
        """The ``on_trial`` callback of a search: a bar on a terminal, a line per trial off one."""
        return TrialProgress(self, objective, quiet=quiet)


def _plain_box():
    from rich.box import Box

    return Box("    \n    \n -  \n    \n    \n    \n    \n    \n", ascii=True)


class _Bar:
    """A ``rich`` progress bar on a terminal, started on first use and stopped by :meth:`close`."""

    def __init__(self, output: Output, total: int, *columns_text: str) -> None:
        self.output, self.total, self.columns_text = output, total, columns_text
        self.progress = None
        self.task = None

    def update(self, completed: int, **fields: Any) -> None:
        if self.progress is None:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            columns = [TextColumn(self.columns_text[0]), BarColumn(bar_width=30)]
            columns += [TextColumn(text) for text in self.columns_text[1:]] + [TimeElapsedColumn()]
            self.progress = Progress(*columns, console=self.output.console, transient=False)
            self.progress.start()
            self.task = self.progress.add_task("", total=self.total, **fields)
        self.progress.update(self.task, completed=completed, refresh=True, **fields)

    def print(self, text: str) -> None:
        """A line above the bar."""
        from rich.text import Text

        if self.progress is not None:
            self.progress.console.print(Text(text), soft_wrap=True)
        else:
            self.output.print(text)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


class _Progress:
    """A progress display used as a context manager: its bar (or None, for plain lines) closes on exit."""

    bar: Optional[_Bar] = None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class EpochProgress(_Progress):
    """Per-epoch progress of one run (see :meth:`Output.epoch_progress`); use as a context manager."""

    def __init__(self, output: Output, total_epochs: int, *, every: int = 1, plain_lines: bool = False) -> None:
        self.output, self.total, self.every, self.plain_lines = output, total_epochs, max(1, every), plain_lines
        self.bar = _Bar(output, total_epochs, "epoch {task.completed}/{task.total}") if output.terminal else None

    def line(self, epoch: int, logs: dict) -> str:
        parts = [f"epoch {epoch}/{self.total}", logs_text(logs)]
        if "seconds" in logs:
            parts.append(f"{logs['seconds']:.2f}s")
        return "  ".join(p for p in parts if p)

    def reports(self, epoch: int) -> bool:
        """Whether ``epoch`` gets a progress line: every ``every``-th epoch, and the last."""
        return epoch % self.every == 0 or epoch == self.total

    def __call__(self, epoch: int, logs: dict) -> None:
        report = self.reports(epoch)
        if self.bar is not None:
            self.bar.update(epoch)
            if report:
                self.bar.print(self.line(epoch, logs))
        elif self.plain_lines and report:
            self.output.print(self.line(epoch, logs))



class TrialProgress(_Progress):
    """Progress of a search (see :meth:`Output.trial_progress`); use as a context manager."""

    def __init__(self, output: Output, objective: str, *, quiet: bool = False) -> None:
        self.output, self.objective, self.quiet = output, objective, quiet
        self.failed = 0
        self.bar = None

    def best_text(self, progress: Any) -> str:
        if progress.best is None:
            return "no result yet"
        return f"best {self.objective}={metric_text(progress.best.reward)} (trial {progress.best.number})"

    def __call__(self, record: Any, progress: Any) -> None:
        if self.quiet:
            return
        if record.status == "failed":
            self.failed += 1
        if self.output.terminal:
            if self.bar is None:
                self.bar = _Bar(self.output, progress.total, "[{task.completed}/{task.total}]",
                                "{task.fields[best]} · {task.fields[failed]} failed")
            self.bar.update(progress.done, best=self.best_text(progress), failed=self.failed)
            return
        detail = f"{self.objective}={metric_text(record.reward)}" if record.reward is not None else ""
        if record.status in ("failed", "stopped") and record.error:
            detail = (detail + " " if detail else "") + f"({shorten(record.error, 90)})"
        self.output.print(f"trial {record.number} {record.status} {detail} · [{progress.done}/{progress.total}] "
                          f"{self.best_text(progress)} · {elapsed_text(progress.elapsed)}")


