"""What a notebook shows of mldsl's values: each view has ``_repr_html_`` (Jupyter) and a plain-text
``__repr__`` (a terminal IPython, nbconvert to text). Nothing here imports IPython.

* :class:`MlxText`: ``.mlx`` text, highlighted by the language's Pygments lexer (``mldsl.highlight``).
* :class:`Table`: rows under a header, as ``mldsl`` prints them off a terminal.
* :class:`DiffView`: where two values differ, one row per path (left, right).
* :class:`RunView`: a finished run: its metrics table, where it is recorded, its history plot inline.
* :class:`SearchView`: a finished search: its summary, its trials table and plot.

The rows, lines and plots come from the service layer (:mod:`mldsl.service.runs`,
:mod:`mldsl.service.studies`), the same the command line prints.
"""
from __future__ import annotations

import base64
import html
import tempfile
from pathlib import Path
from typing import Any, List, Optional, Sequence


def escape(text: Any) -> str:
    return html.escape(str(text), quote=True)


def pre(text: str) -> str:
    """Plain text in a ``<pre>`` block."""
    return f"<pre>{escape(text)}</pre>"


class MlxText:
    """``.mlx`` text; in a notebook highlighted with inline styles (no style sheet needed)."""

    def __init__(self, text: str) -> None:
        self.text = text.rstrip("\n")

    def _repr_html_(self) -> str:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter

        from mldsl.highlight import MlxLexer

        return highlight(self.text, MlxLexer(), HtmlFormatter(noclasses=True, nobackground=True))

    def __repr__(self) -> str:
        return self.text


class Table:
    """A table: ``headers`` and rows of strings (``caption``: a line above it)."""

    def __init__(self, headers: Sequence[str], rows: Sequence[Sequence[Any]], caption: Optional[str] = None) -> None:
        self.headers = [str(h) for h in headers]
        self.rows = [[str(cell) for cell in row] for row in rows]
        self.caption = caption

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left'>{escape(h)}</th>" for h in self.headers)
        body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{escape(c)}</td>" for c in row) + "</tr>"
                       for row in self.rows)
        caption = f"<caption style='text-align:left'>{escape(self.caption)}</caption>" if self.caption else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        widths = [max([len(h)] + [len(r[i]) for r in self.rows if i < len(r)]) for i, h in enumerate(self.headers)]
        lines = [self.caption] if self.caption else []
        lines.append("  ".join(h.ljust(w) for h, w in zip(self.headers, widths)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in self.rows]
        return "\n".join(lines)


def png_html(path: Optional[Path], alt: str) -> str:
    """An ``<img>`` holding the PNG at ``path`` (base64), or nothing when there is none."""
    if path is None or not Path(path).is_file():
        return ""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f"<img alt='{escape(alt)}' src='data:image/png;base64,{data}'/>"


class DiffView:
    """Where ``left`` and ``right`` differ: one row per path, each side as ``.mlx``."""

    def __init__(self, diff: Any, left_name: str = "left", right_name: str = "right") -> None:
        self.diff, self.left_name, self.right_name = diff, left_name, right_name

    def table(self) -> Table:
        from mldsl.service.inspect import mlx_text

        def side(value: Any) -> str:
            from mldsl.symbolic import MISSING

            return "(absent)" if value is MISSING else mlx_text(value, hide_defaults=True)

        rows = [[path or "(root)", side(left), side(right)] for path, (left, right) in self.diff.flatten().items()]
        return Table(["path", self.left_name, self.right_name], rows)

    def _repr_html_(self) -> str:
        if not self.diff:
            return pre(f"{self.left_name} and {self.right_name} are equal")
        return self.table()._repr_html_()

    def __repr__(self) -> str:
        if not self.diff:
            return f"{self.left_name} and {self.right_name} are equal"
        return repr(self.table())


class RunView:
    """A finished run (the engine's ``RunOutcome``): metrics, where it is recorded, the history plot."""

    def __init__(self, outcome: Any, store: Optional[Path] = None, elapsed: Optional[float] = None,
                 name: Optional[str] = None) -> None:
        self.outcome, self.store, self.elapsed = outcome, store, elapsed
        self.name = name or (outcome.record.name if outcome.record is not None else "run")

    @property
    def metrics(self) -> Table:
        from mldsl.service import runs

        return Table(runs.METRIC_HEADERS, runs.metric_rows(self.outcome.result.metrics))

    @property
    def per_class(self) -> Optional[Table]:
        """The per-class table (``evaluation.per_class``), or None when the run has none."""
        from mldsl.service import runs

        rows = runs.per_class_rows(self.outcome.result.metrics)
        return Table(runs.PER_CLASS_HEADERS, rows) if rows else None

    def lines(self) -> List[str]:
        from mldsl.service import runs

        result = self.outcome.result
        return ([f"warning: {w}" for w in result.warnings]
                + runs.outcome_lines(self.outcome, self.store, elapsed=self.elapsed))

    def plot_html(self) -> str:
        from mldsl.backends.base import PER_CLASS_KEY
        from mldsl.engine.plots import plot_confusion, plot_history

        history = self.outcome.result.history
        per_class = self.outcome.result.metrics.get(PER_CLASS_KEY)
        html = ""
        with tempfile.TemporaryDirectory(prefix="mldsl-plot-") as tmp:
            if history:
                path = plot_history(Path(tmp) / "history.png", history, self.name)
                html += png_html(path, f"{self.name}: history")
            if per_class:
                path = plot_confusion(Path(tmp) / "confusion.png", per_class, self.name)
                html += png_html(path, f"{self.name}: confusion matrix")
        return html

    def _repr_html_(self) -> str:
        per_class = self.per_class
        return (self.metrics._repr_html_() + (per_class._repr_html_() if per_class is not None else "")
                + pre("\n".join(self.lines())) + self.plot_html())

    def __repr__(self) -> str:
        per_class = self.per_class
        return (repr(self.metrics) + ("\n" + repr(per_class) if per_class is not None else "") + "\n"
                + "\n".join(self.lines()))


class SearchView:
    """A finished search (the engine's ``SearchResult``): its summary, its trials table and plot."""

    def __init__(self, result: Any) -> None:
        self.result = result

    def study_view(self) -> Any:
        from mldsl.service.studies import StudyView

        return StudyView(self.result.study, list(self.result.trials), self.result.best)

    @property
    def trials(self) -> Table:
        view = self.study_view()
        return Table(view.headers, view.rows(), caption=view.title)

    def lines(self) -> List[str]:
        from mldsl.service.studies import result_lines

        return result_lines(self.result)

    def plot_html(self) -> str:
        from mldsl.service.studies import plot_trials

        with tempfile.TemporaryDirectory(prefix="mldsl-plot-") as tmp:
            path = plot_trials(Path(tmp) / "trials.png", self.study_view())
            return png_html(path, f"{self.result.study.name}: trials")

    def _repr_html_(self) -> str:
        return pre("\n".join(self.lines())) + self.trials._repr_html_() + self.plot_html()

    def __repr__(self) -> str:
        return "\n".join(self.lines()) + "\n" + repr(self.trials)
