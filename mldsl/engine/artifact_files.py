"""Whole-or-absent writes into a run's artifacts folder, and the removal of what a killed writer left.

A file is written as ``.NAME.partial`` (a folder as ``NAME.partial``) and renamed into place, so a reader
sees it whole or not at all. A process killed outright (SIGKILL, out of memory) cannot remove its
``.partial``; :func:`remove_partial_writes` does, once the store finds the run's process gone.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

PARTIAL_SUFFIX = ".partial"


def partial_file(path: Path) -> Path:
    """Where ``path`` is written before it is renamed into place."""
    return path.with_name(f".{path.name}{PARTIAL_SUFFIX}")


def partial_folder(path: Path) -> Path:
    """Where the folder ``path`` is filled before it is renamed into place."""
    return path.with_name(f"{path.name}{PARTIAL_SUFFIX}")


def replace_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Writes ``path`` through a temporary file renamed into place, so it is whole or absent."""
    temp = partial_file(path)
    try:
        write(temp)
        os.replace(temp, path)
    finally:
        if temp.exists():
            temp.unlink()


def remove_partial_writes(folder: str | os.PathLike) -> list[str]:
    """Removes the half-written files and folders a killed run left in ``folder``; returns their names.

    Only entries named as this module names them are touched, and never through a symbolic link.
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.endswith(PARTIAL_SUFFIX):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(entry.name)
        except OSError:
            pass
    return removed
