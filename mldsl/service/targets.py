"""What a verb acts on: ``FILE[:NAME]`` loaded and the definition picked, and the edits of ``--patch``
and ``--set``.

Without NAME, each verb takes one definition of the file by one rule (:data:`CHOICES`), the same on
the command line and in the README: the definitions the file itself makes come first, then those it
imports. When the file offers more than one candidate, or the choice is not obvious (a search space),
:attr:`Target.note` says which one was taken, and the command line prints it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from mldsl.errors import MldslError, suggestion_text


@dataclass
class Target:
    """A definition picked out of a loaded ``.mlx`` (or JSON) file."""

    path: Path
    name: str
    value: Any
    module: Any  # the file's ``mldsl.dsl.module.Module``: its patches are the scope of ``--patch`` names
    note: Optional[str] = None  # which definition was taken and why, when NAME was left out


def split_target(spec: str) -> Tuple[str, Optional[str]]:
    """``"a/b.mlx:mnist"`` -> ``("a/b.mlx", "mnist")``; a bare path -> ``(path, None)``.

    Only the last colon splits, and only when what precedes it names an existing file, so Windows drive
    letters and paths containing colons keep working.
    """
    if ":" in spec:
        head, _, tail = spec.rpartition(":")
        if tail and os.path.exists(head) and not os.path.exists(spec):
            return head, tail
    return spec, None


def join_target(spec: str, name: Optional[str]) -> str:
    """``FILE`` plus a separately given ``NAME`` as ``FILE:NAME`` (the verbs that take ``FILE[:NAME] [NAME]``);
    ``spec`` as it is without ``name``, an error when both name the experiment."""
    if not name:
        return spec
    if split_target(spec)[1] is not None:
        raise MldslError(f"name the experiment once: {spec} already names one, and NAME says {name!r}")
    return f"{spec}:{name}"


def load_file(path: str | os.PathLike) -> Any:
    """The module of a ``.mlx`` (or ``.json``) file; a missing file is an :class:`MldslError`, one
    that cannot be read (a directory, a FIFO, not UTF-8) an ``MlxError`` saying why."""
    from mldsl.dsl.api import load_module

    if not os.path.lexists(path):
        raise MldslError(f"no such file: {path}")
    return load_module(path)


# ------------------------------------------------------------------------ the definition a verb takes
def _candidates(module: Any, keep: Callable[[str, Any], bool]) -> List[str]:
    """The names for which ``keep(kind, value)`` holds: the file's own definitions, then imported ones."""
    own = [n for n in module.own if keep(module.kinds[n], module[n])]
    return own or [n for n in module if n not in module.own and keep(module.kinds[n], module[n])]


def _is_space(value: Any) -> bool:
    from mldsl.hyper import is_deterministic

    return not is_deterministic(value)


def _first(module: Any, file: str, names: List[str], what: str, missing: str) -> Tuple[str, Optional[str]]:
    if not names:
        raise MldslError(f"{file} defines no {what}; {missing}")
    note = None
    if len(names) > 1:
        note = (f"took {names[0]!r}, the first {what} of {file} (also: {', '.join(names[1:])}); "
                f"name another with {file}:NAME")
    return names[0], note


def pick_experiment(module: Any, file: str) -> Tuple[str, Optional[str]]:
    """The first experiment (``diff``, ``query``)."""
    names = _candidates(module, lambda kind, value: kind == "experiment")
    return _first(module, file, names, "experiment", f"name a definition with {file}:NAME")


def pick_runnable(module: Any, file: str) -> Tuple[str, Optional[str]]:
    """The first experiment that is not a search space (``run``)."""
    experiments = _candidates(module, lambda kind, value: kind == "experiment")
    names = [n for n in experiments if not _is_space(module[n])]
    if experiments and not names:
        raise MldslError(f"every experiment of {file} is a search space ({', '.join(experiments)}); run a "
                         f"search with `mldsl search {file}`, or name one experiment: {file}:NAME")
    return _first(module, file, names, "experiment", f"name one with {file}:NAME")


def pick_space(module: Any, file: str) -> Tuple[str, Optional[str]]:
    """The search space (``space``): the space of the first ``search`` statement, else the first
    experiment or ``let`` holding hyper primitives."""
    searches = _candidates(module, lambda kind, value: kind == "search")
    if searches:
        extra = f" (also: {', '.join(searches[1:])})" if len(searches) > 1 else ""
        return searches[0], (f"took the space of search {searches[0]!r} of {file}{extra}; name another "
                             f"with {file}:NAME")
    names = _candidates(module, lambda kind, value: kind in ("experiment", "let") and _is_space(value))
    if not names:
        raise MldslError(f"{file} defines no search space (no `search` statement, and no definition holds "
                         f"oneof, manyof, floatv or intv); name a definition with {file}:NAME")
    also = f" (also: {', '.join(names[1:])})" if len(names) > 1 else ""
    return names[0], (f"took {names[0]!r}, the first definition of {file} holding hyper primitives{also}; "
                      f"name another with {file}:NAME")


def pick_search(module: Any, file: str) -> Tuple[str, Optional[str]]:
    """The file's ``search`` statement (``search``); a file with several must name one."""
    names = _candidates(module, lambda kind, value: kind == "search")
    if not names:
        raise MldslError(f"{file} declares no `search` statement; add one (search NAME over SPACE {{ ... }}) "
                         f"or name a search space: mldsl search {file}:SPACE --trials N")
    if len(names) > 1:
        raise MldslError(f"{file} declares several searches ({', '.join(names)}); pick one: "
                         f"mldsl search {file}:NAME")
    return names[0], None


def needs_name(module: Any, file: str) -> Tuple[str, Optional[str]]:
    """No default (``explain``)."""
    raise MldslError(f"name the definition: {file}:NAME (it defines: {', '.join(module) or 'nothing'})")


#: choice -> how a verb picks a definition of FILE when NAME is left out.
CHOICES: Dict[str, Callable[[Any, str], Tuple[str, Optional[str]]]] = {
    "experiment": pick_experiment,
    "runnable": pick_runnable,
    "space": pick_space,
    "search": pick_search,
    "name": needs_name,
}


def load_target(spec: str, choice: str = "experiment") -> Target:
    """Loads ``FILE[:NAME]``; without NAME the definition ``CHOICES[choice]`` picks.

    Missing files and unknown names are :class:`MldslError` with what to type instead.
    """
    file_part, name = split_target(spec)
    module = load_file(file_part)
    note = None
    if name is None:
        name, note = CHOICES[choice](module, file_part)
    elif name not in module:
        hint = suggestion_text(name, list(module)) or f"it defines: {', '.join(module) or 'nothing'}"
        raise MldslError(f"{file_part} has no {name!r}; {hint}")
    return Target(path=Path(file_part), name=name, value=module[name], module=module, note=note)


# ------------------------------------------------------------------------------------------- edits
def parse_set(assignment: str) -> Tuple[str, Any]:
    """``'training.batch_size=64'`` -> ``('training.batch_size', 64)``; the value is any .mlx expression."""
    from mldsl.dsl.api import parse

    path, sep, text = assignment.partition("=")
    if not sep or not path.strip():
        raise MldslError(f"--set expects PATH=VALUE, got {assignment!r} (e.g. --set training.batch_size=64)")
    from mldsl.dsl.diagnostics import MlxError

    try:
        module = parse(f"let value = {text}\n", filename=f"--set {path.strip()}")
    except MlxError as exc:
        word = text.strip()
        if word.isidentifier() and any(e.code == "E005" for e in exc.errors):
            raise MldslError(f"--set {path.strip()}={word}: {word!r} is not a name here; the value is an .mlx "
                             f"expression, so a string needs quotes: --set '{path.strip()}=\"{word}\"'") from None
        raise
    return path.strip(), module["value"]


def derive(value: Any, *, patches: List[str] = (), sets: List[str] = (), scope: Any = None) -> Any:
    """A copy of ``value`` with ``patches`` applied in order (names resolve in ``scope`` first: a file's
    ``patch`` definitions, then patchers; ``mldsl.patching.resolve_patch``), then the ``PATH=VALUE``
    assignments of ``sets``. ``value`` itself is left as it is."""
    if not patches and not sets:
        return value
    value = value.clone(deep=True)
    if patches:
        from mldsl.patching import patch

        value = patch(value, list(patches), scope=scope)
    if sets:
        value.rebind(dict(parse_set(s) for s in sets))
    return value


def edits_record(patches: List[str] = (), sets: List[str] = ()) -> List[str]:
    """How a run record lists the edits: each patch as written, then ``--set PATH=VALUE``."""
    return list(patches) + [f"--set {s}" for s in sets]
