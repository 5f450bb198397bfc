"""The interactive ``.mlx`` shell (``mldsl repl``).

Every statement of the language works at the prompt and accumulates into a session; ``:commands``
inspect and use what is defined (``:show``, ``:diff``, ``:query``, ``:space``, ``:patch``, ``:run``,
``:search``, ``:load``, ``:save``, ``:help``). Input that is not a terminal runs without prompts.

Modules, each importing only those before it: ``session`` (the accumulated program), ``commands`` (the
``:commands``, thin adapters over :mod:`mldsl.service`), ``completion`` (tab completion: the ``.mlx``
part from :mod:`mldsl.service.completion`, shared with the language server), ``shell`` (the prompt loop and the piped mode),
``launch`` (the ``mldsl repl`` verb). Nothing here imports ``mldsl.commands``, nor the reverse.
"""
from __future__ import annotations

__all__ = ["Repl", "Session", "main"]


def __getattr__(name: str):
    if name in ("Repl", "main"):
        from mldsl.repl import shell

        return getattr(shell, name)
    if name == "Session":
        from mldsl.repl.session import Session

        return Session
    raise AttributeError(f"module 'mldsl.repl' has no attribute {name!r}")
