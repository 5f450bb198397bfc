"""How the front ends (the CLI and the REPL) show mldsl's own warnings: one line each,
``warning: MESSAGE``. Other libraries' warnings keep Python's format. Imports nothing from mldsl."""
from __future__ import annotations

import contextlib
import warnings
from typing import Callable, Iterator, Sequence


def _is_ours(category: type) -> bool:
    return (getattr(category, "__module__", "") or "").split(".")[0] in ("mldsl", "mldsl_std")


@contextlib.contextmanager
def one_line_warnings(write: Callable[[str], None], always: Sequence[type] = ()) -> Iterator[None]:
    """While active, each mldsl warning is passed to ``write`` as ``warning: MESSAGE``; warnings of the
    ``always`` categories are shown every time they occur, not only the first time (the REPL's case)."""
    with warnings.catch_warnings():
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if _is_ours(category):
                write(f"warning: {message}")
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        for category in always:
            warnings.simplefilter("always", category)
        yield
