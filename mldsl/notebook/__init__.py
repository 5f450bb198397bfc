"""mldsl in Jupyter: ``%load_ext mldsl`` gives the ``%%mlx`` cell magic and the ``%mlx`` line magic.

A third front end beside the command line and the REPL: the cells' ``.mlx`` statements accumulate in
the REPL's session (:mod:`mldsl.repl.session`), the line magic runs the REPL's ``:commands`` (and its
own ``run``, ``search`` and ``diff``, which return values the notebook displays richly), and errors show
as the command line shows them, without a traceback.

Modules, each importing only those before it: ``errors`` (an error shown as the CLI shows it),
``display`` (HTML and text of values, diffs, run and search results; no IPython), ``output`` (where a
command prints in a notebook: HTML tables and live progress), ``formatters`` (IPython's display of
mldsl's own types), ``magics`` (the magics and the extension's entry point).

Importing this package imports nothing of IPython; ``load_ipython_extension`` does.
"""
from __future__ import annotations

from typing import Any

__all__ = ["load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext mldsl``: registers the magics and the rich display of mldsl's values."""
    from mldsl.notebook.magics import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext mldsl``: removes the display formatters (the magics stay, as IPython does)."""
    from mldsl.notebook.formatters import unregister

    unregister(ipython)
