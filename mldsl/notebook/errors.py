"""An error raised out of a magic, shown as the command line shows it: no Python traceback."""
from __future__ import annotations

from typing import List


class CellError(Exception):
    """A user error in a cell: IPython shows :meth:`_render_traceback_` (the CLI's rendering: file, line,
    column, the source line, the caret and the did-you-mean) instead of a traceback, and the cell counts
    as failed, so "Run all" stops there."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def _render_traceback_(self) -> List[str]:
        """The lines IPython prints in place of the traceback."""
        return self.message.splitlines() or [""]
