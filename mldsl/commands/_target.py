"""``FILE[:NAME]`` arguments shared by the CLI verbs: load the file, pick the named value."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from mldsl.errors import MldslError, suggestion_text


@dataclass
class Target:
    """A value picked out of a loaded ``.mlx``/JSON file."""

    path: Path
    name: str
    value: Any
    module: Any


def split_target(spec: str) -> tuple[str, Optional[str]]:
    """``"a/b.mlx:mnist"`` -> ``("a/b.mlx", "mnist")``; a bare path -> ``(path, None)``.

    Only the last colon splits, and only when what precedes it names an existing file, so Windows drive
    letters and paths containing colons keep working.
    """
    if ":" in spec:
        head, _, tail = spec.rpartition(":")
        if tail and os.path.exists(head) and not os.path.exists(spec):
            return head, tail
    return spec, None


def load_module(path: Path) -> Any:
    """The module of a ``.mlx`` (or ``.json``) file; a missing file is an :class:`MldslError`, one
    that cannot be read (a directory, a FIFO, not UTF-8) an ``MlxError`` saying why."""
    from mldsl.dsl.api import load_module as load_file

    if not os.path.lexists(path):
        raise MldslError(f"no such file: {path}")
    return load_file(path)


def load_target(spec: str, *, kinds: tuple[str, ...] = ("experiment",)) -> Target:
    """Loads ``FILE[:NAME]``. Without NAME: the first definition of one of ``kinds`` that the file itself
    makes, else the first one it imports.

    Missing files and unknown names are :class:`MldslError` with what to type instead.
    """
    file_part, name = split_target(spec)
    path = Path(file_part)
    module = load_module(path)
    if name is None:
        names = [n for n in module.own if module.kinds[n] in kinds] or \
            [n for n in module if module.kinds[n] in kinds]
        if not names:
            raise MldslError(f"{file_part} defines no {' or '.join(kinds)}; name one with {file_part}:NAME")
        name = names[0]
    if name not in module:
        hint = suggestion_text(name, list(module)) or f"it defines: {', '.join(module) or 'nothing'}"
        raise MldslError(f"{file_part} has no {name!r}; {hint}")
    return Target(path=path, name=name, value=module[name], module=module)
