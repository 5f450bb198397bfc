"""IPython's display of mldsl's own types, attached when the extension loads (the core classes have no
``_repr_html_``: they do not depend on IPython). A symbolic value shows as highlighted ``.mlx``, a
``Diff`` as a table of paths, a run's outcome and a search's result as :mod:`mldsl.notebook.display`
draws them. The engine's types are named, not imported, so loading the extension stays light.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Tuple

from mldsl.notebook.display import DiffView, MlxText, RunView, SearchView


def symbolic_view(value: Any) -> MlxText:
    """A symbolic value as ``.mlx``: the values that differ from their defaults."""
    from mldsl.service.inspect import mlx_text

    return MlxText(mlx_text(value, hide_defaults=True))


#: (module, class name) -> the view of such a value
VIEWS: Dict[Tuple[str, str], Callable[[Any], Any]] = {
    ("mldsl.symbolic.base", "Symbolic"): symbolic_view,
    ("mldsl.symbolic.ops", "Diff"): DiffView,
    ("mldsl.engine.runner", "RunOutcome"): RunView,
    ("mldsl.engine.search", "SearchResult"): SearchView,
}


def _html(view: Callable[[Any], Any]) -> Callable[[Any], str]:
    return lambda value: view(value)._repr_html_()


def _pretty(view: Callable[[Any], Any]) -> Callable[[Any, Any, bool], None]:
    def pretty(value: Any, printer: Any, cycle: bool) -> None:
        printer.text(repr(view(value)))

    return pretty


def register(ipython: Any) -> None:
    """Adds the HTML and plain-text display of each type of :data:`VIEWS` to ``ipython``'s formatters."""
    formatters = ipython.display_formatter.formatters
    for (module, name), view in VIEWS.items():
        formatters["text/html"].for_type_by_name(module, name, _html(view))
        formatters["text/plain"].for_type_by_name(module, name, _pretty(view))


def unregister(ipython: Any) -> None:
    """Removes what :func:`register` added."""
    formatters = ipython.display_formatter.formatters
    for module, name in VIEWS:
        for mime in ("text/html", "text/plain"):
            formatters[mime].pop(f"{module}.{name}", None)
