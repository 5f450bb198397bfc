"""The results store every verb and the REPL use, by one precedence.

``--store PATH`` (``:run``/``:search --store PATH`` in the REPL), else ``$MLDSL_STORE``, else ``mldsl.db``
in the current folder. The same for ``run``, ``run --rerun``, ``runs``, ``search``, ``trials`` and the
REPL, wherever the experiment's file is; a run's artifacts go to ``runs/<id>/`` next to the store.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from mldsl.errors import StoreError

#: The environment variable naming the store when no ``--store`` is given.
STORE_ENV = "MLDSL_STORE"
#: The store's file name in the current folder when neither ``--store`` nor ``$MLDSL_STORE`` names one.
DEFAULT_STORE_NAME = "mldsl.db"
#: The precedence in words, for help texts and messages.
PRECEDENCE = f"--store PATH, else ${STORE_ENV}, else ./{DEFAULT_STORE_NAME}"


def store_path(explicit: Optional[str | os.PathLike] = None) -> Path:
    """The store's absolute path: ``explicit`` (``--store``), else ``$MLDSL_STORE``, else
    ``./mldsl.db`` (``~`` expanded; an empty value counts as not given)."""
    chosen = os.fspath(explicit) if explicit else (os.environ.get(STORE_ENV) or DEFAULT_STORE_NAME)
    return Path(os.path.abspath(os.path.expanduser(chosen)))


def where_from(explicit: Optional[str | os.PathLike] = None) -> str:
    """Which rule gave :func:`store_path` (for messages): ``--store``, ``$MLDSL_STORE`` or the default."""
    if explicit:
        return "--store"
    return f"${STORE_ENV}" if os.environ.get(STORE_ENV) else f"the default ./{DEFAULT_STORE_NAME}"


def open_store(explicit: Optional[str | os.PathLike] = None, *, create: bool = True):
    """The :class:`~mldsl.engine.store.Store` at :func:`store_path`; with ``create=False`` (verbs that only
    read) a missing file is a :class:`StoreError` saying where it looked and how to name another."""
    from mldsl.engine.store import Store

    path = store_path(explicit)
    if not create and not path.exists():
        raise StoreError(f"no store at {path} ({where_from(explicit)}); `mldsl run` and `mldsl search` create "
                         f"one, or name another with --store PATH or ${STORE_ENV}")
    return Store(path)
