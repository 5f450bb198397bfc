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


def experiment_names(module: Any) -> list[str]:
    """Names of the experiments the file itself defines (not those it imports), in file order."""
    return module.names("experiment", own=True)


def load_target(spec: str, *, kind: str = "experiment") -> Target:
    """Loads ``FILE[:NAME]``. Without NAME: the file's only experiment, else its first one.

    Missing files and unknown names are :class:`MldslError` with what to type instead.
    """
    import mldsl

    file_part, name = split_target(spec)
    path = Path(file_part)
    if not path.exists():
        raise MldslError(f"no such file: {file_part}")
    module = mldsl.load(path)
    if name is None:
        names = experiment_names(module) if kind == "experiment" else module.names(own=True)
        if not names:
            raise MldslError(f"{file_part} defines no {kind}; name one with {file_part}:NAME")
        name = names[0]
    if name not in module:
        hint = suggestion_text(name, list(module)) or f"it defines: {', '.join(module) or 'nothing'}"
        raise MldslError(f"{file_part} has no {name!r}; {hint}")
    return Target(path=path, name=name, value=module[name], module=module)
