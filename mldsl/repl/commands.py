"""The REPL's ``:commands``. Each takes the :class:`~mldsl.repl.shell.Repl` and the text after the
command word; user errors are raised as :class:`MldslError` (the REPL reports them and goes on).

``NAME`` arguments may carry a path into the value: ``:show mnist.training.optimizer``,
``:show mnist model.layers[1]``.
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from mldsl.errors import MldslError, suggestion_text
from mldsl.repl.lexing import tokenize

QUIT = "quit"


@dataclass
class Command:
    """A REPL command: ``usage`` (after the name), one-line ``help``, and the function."""

    name: str
    usage: str
    help: str
    fn: Callable[[Any, str], Optional[str]]
    aliases: tuple = ()


COMMANDS: Dict[str, Command] = {}
ALIASES: Dict[str, str] = {}


def command(name: str, usage: str, help: str, aliases: tuple = ()):
    def deco(fn):
        COMMANDS[name] = Command(name, usage, help, fn, aliases)
        for alias in aliases:
            ALIASES[alias] = name
        return fn

    return deco


def run_command(repl, line: str) -> Optional[str]:
    """Runs ``:name args``; returns ``"quit"`` for :quit."""
    body = line.strip()[1:]
    word, _, rest = body.partition(" ")
    word = word.strip()
    name = ALIASES.get(word, word)
    if name not in COMMANDS:
        hint = suggestion_text(word, list(COMMANDS) + list(ALIASES))
        raise MldslError(f"unknown command ':{word}'" + (f"; {hint}" if hint else "")
                         + " (:help lists the commands)")
    return COMMANDS[name].fn(repl, rest.strip())


# --------------------------------------------------------------------------------- value helpers
def to_mlx_or_format(value: Any, hide_defaults: bool = True) -> str:
    """``.mlx`` text of a value when the printer handles it (fields at their default left out unless
    ``hide_defaults`` is False), else the symbolic ``format()``."""
    try:
        from mldsl.dsl.printer import to_mlx

        return to_mlx(value, hide_defaults=hide_defaults).rstrip("\n")
    except Exception:
        pass
    fmt = getattr(value, "format", None)
    if callable(fmt):
        try:
            return fmt()
        except Exception:
            pass
    return repr(value)


def show_value(repl, value: Any, *, verbose: bool = False, hide_defaults: bool = False) -> None:
    """Prints a value: as ``.mlx`` by default, with the symbolic ``format`` for the options."""
    if verbose or hide_defaults:
        import mldsl.symbolic as sym

        repl.print(sym.format(value, verbose=verbose, hide_default_values=hide_defaults))
        return
    repl.print_mlx(to_mlx_or_format(value))


_REF = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(.*)$", re.S)


def resolve(repl, ref: str, path: Optional[str] = None) -> Any:
    """The value of ``NAME[.path]`` (and then of ``path`` inside it, if given)."""
    m = _REF.match(ref.strip())
    if not m:
        raise MldslError(f"expected a defined name, got {ref!r}")
    value = repl.session.value(m.group(1))
    for p in (m.group(2).lstrip("."), (path or "").strip().lstrip(".")):
        if p:
            value = _get_path(value, p, m.group(1))
    return value


def _get_path(value: Any, path: str, name: str) -> Any:
    getter = getattr(value, "sym_get", None)
    if getter is None:
        raise MldslError(f"{name} is not a symbolic value: it has no path {path!r}")
    has = getattr(value, "sym_has", None)
    if has is not None and not has(path):
        from mldsl.repl.completion import value_paths

        hint = suggestion_text(path, value_paths(value))
        raise MldslError(f"{name} has no path {path!r}" + (f"; {hint}" if hint else ""))
    try:
        return getter(path)
    except MldslError:
        raise
    except Exception as exc:
        raise MldslError(f"{name} has no path {path!r} ({exc})") from None


class _Args(argparse.ArgumentParser):
    def error(self, message):
        raise MldslError(f"{self.prog}: {message} (usage: {self.format_usage().strip()[7:]})")

    def exit(self, status=0, message=None):
        raise MldslError(message or f"{self.prog}: bad arguments")


def _parser(name: str) -> _Args:
    return _Args(prog=f":{name}", add_help=False, allow_abbrev=False)


def _split(args: str) -> List[str]:
    try:
        return shlex.split(args)
    except ValueError as exc:
        raise MldslError(f"cannot read the arguments: {exc}") from None


# --------------------------------------------------------------------------------- commands
@command("help", "[COMMAND]", "list the commands, or explain one", aliases=("h", "?"))
def cmd_help(repl, args: str):
    if args:
        name = ALIASES.get(args.lstrip(":"), args.lstrip(":"))
        if name not in COMMANDS:
            raise MldslError(f"no command ':{args.lstrip(':')}'")
        c = COMMANDS[name]
        repl.print(f":{c.name} {c.usage}".rstrip() + f"\n    {c.help}")
        doc = (c.fn.__doc__ or "").strip()
        if doc:
            repl.print("\n".join("    " + line.strip() for line in doc.splitlines()))
        return None
    repl.print("Type .mlx statements (let, experiment, patch, search, import) or an expression to see "
               "its value.\nMulti-line input continues while a bracket is open or a line ends with "
               "`with`, `,` or `=`.\nTAB completes; Ctrl-C cancels the input; Ctrl-D or :quit leaves.\n")
    order = ["show", "names", "source", "diff", "query", "space", "patch", "run", "search", "load", "save",
             "reset", "help", "quit"]
    names = [n for n in order if n in COMMANDS] + [n for n in COMMANDS if n not in order]
    for n in names:
        c = COMMANDS[n]
        head = f":{c.name} {c.usage}".rstrip()
        alias = f" (also {', '.join(':' + a for a in c.aliases)})" if c.aliases else ""
        if len(head) <= 30:
            repl.print(f"  {head.ljust(30)}  {c.help}{alias}")
        else:
            repl.print(f"  {head}\n  {'':30}  {c.help}{alias}")
    return None


@command("quit", "", "leave the REPL", aliases=("q", "exit"))
def cmd_quit(repl, args: str):
    return QUIT


@command("show", "NAME [PATH] [--verbose] [--hide-defaults]", "print a value (as .mlx, or formatted)")
def cmd_show(repl, args: str):
    """With --verbose or --hide-defaults the symbolic format is used instead of .mlx."""
    p = _parser("show")
    p.add_argument("name")
    p.add_argument("path", nargs="?")
    p.add_argument("--verbose", "-v", action="store_true")
    p.add_argument("--hide-defaults", action="store_true")
    a = p.parse_args(_split(args))
    value = resolve(repl, a.name, a.path)
    kind = repl.session.kind(a.name)
    if kind in ("patch", "search") and not a.path and not (a.verbose or a.hide_defaults):
        from mldsl.repl.session import to_mlx

        try:  # a patch or a search reads best as its statement
            repl.print_mlx(to_mlx(value, name=a.name, kind=kind))
            return
        except Exception:
            pass
    show_value(repl, value, verbose=a.verbose, hide_defaults=a.hide_defaults)


@command("names", "", "list the defined names and their kinds", aliases=("ls",))
def cmd_names(repl, args: str):
    names = repl.session.names()
    if not names:
        repl.print_dim("nothing defined yet")
        return
    width = max(len(n) for n in names)
    for n in names:
        value = repl.session.value(n)
        what = getattr(type(value), "type_name", None) or type(value).__name__
        repl.print(f"{n.ljust(width)}  {repl.session.kind(n) or '?':<10}  {what}")


@command("source", "", "print the session as one .mlx program")
def cmd_source(repl, args: str):
    text = repl.session.source()
    if text:
        repl.print_mlx(text.rstrip("\n"))
    else:
        repl.print_dim("nothing defined yet")


@command("reset", "", "forget every definition")
def cmd_reset(repl, args: str):
    repl.session.reset()
    repl.print_dim("session cleared")


@command("diff", "A B", "the differences between two values")
def cmd_diff(repl, args: str):
    parts = _split(args)
    if len(parts) != 2:
        raise MldslError("usage: :diff A B (two defined names, optionally with paths: a.training)")
    import mldsl.symbolic as sym

    left, right = resolve(repl, parts[0]), resolve(repl, parts[1])
    d = sym.diff(left, right)
    if not d:
        repl.print(f"{parts[0]} and {parts[1]} are equal")
        return
    fmt = getattr(d, "format", None)
    repl.print(fmt() if callable(fmt) else str(d))


@command("query", "NAME REGEX", "the paths of NAME matching a regular expression, with their values")
def cmd_query(repl, args: str):
    name, _, regex = args.strip().partition(" ")
    regex = regex.strip()
    if not name:
        raise MldslError("usage: :query NAME REGEX (e.g. :query mnist units)")
    if len(regex) >= 2 and regex[0] == regex[-1] and regex[0] in "'\"":
        regex = regex[1:-1]
    try:
        re.compile(regex)
    except re.error as exc:
        raise MldslError(f"bad regular expression {regex!r}: {exc}") from None
    import mldsl.symbolic as sym

    found = sym.query(resolve(repl, name), path_regex=regex or None)
    if not found:
        repl.print_dim(f"no path of {name} matches {regex!r}")
        return
    for path, value in found.items():
        text = to_mlx_or_format(value)
        if "\n" in text:
            text = "\n    ".join(text.split("\n"))
        repl.print(f"{path or '(root)'} = {text}")


@command("space", "NAME", "the search space of NAME: its DNA spec and size")
def cmd_space(repl, args: str):
    parts = _split(args)
    if len(parts) != 1:
        raise MldslError("usage: :space NAME")
    value = resolve(repl, parts[0])
    from mldsl.hyper import dna_spec, is_deterministic

    if is_deterministic(value):
        repl.print(f"{parts[0]} has no hyper primitives (oneof, manyof, floatv, intv): space size 1")
        return
    spec = dna_spec(value)
    repl.print(str(spec))
    size = getattr(spec, "space_size", None)
    if size is not None:
        repl.print(f"space size: {_size_text(size)}")


def _size_text(size: Any) -> str:
    try:
        if size == float("inf"):
            return "infinite (continuous values)"
        return f"{int(size):,}"
    except (TypeError, ValueError, OverflowError):
        return str(size)


def split_patch_args(text: str) -> List[str]:
    """Splits ``:patch`` arguments into patch expressions: separated by commas or spaces at the top
    level (``scale(lr = 1)`` stays one); bare ``name?k=v`` forms are quoted."""
    toks = tokenize(text)
    parts: List[str] = []
    cur = ""
    depth = 0
    pending_space = False
    for i, tok in enumerate(toks):
        if tok.kind == "ws":
            pending_space = True
            continue
        if depth == 0 and tok.text == ",":
            parts.append(cur)
            cur, pending_space = "", False
            continue
        joins = (not cur or cur[-1] in "=?&(,[{" or tok.text in "=?&)]},(" or depth > 0)
        if pending_space and not joins:
            parts.append(cur)
            cur = ""
        elif pending_space and cur:
            cur += " "
        pending_space = False
        if tok.text in "([{" and tok.kind == "punct":
            depth += 1
        elif tok.text in ")]}" and tok.kind == "punct":
            depth = max(depth - 1, 0)
        cur += tok.text
    if cur:
        parts.append(cur)
    out = []
    for p in (x.strip() for x in parts):
        if not p:
            continue
        if "?" in p and p[0] not in "'\"":
            p = '"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out.append(p)
    return out


@command("patch", "NAME PATCH... [--as NEW | --print]",
         "apply patches (patch names, patcher calls, 'name?k=v', { path = value }) to NAME")
def cmd_patch(repl, args: str):
    """Updates NAME (or defines NEW with --as; prints the result with --print) and shows what changed.
    Each PATCH is what may follow `with`: :patch mnist big_batch 'scale_lr?batch_size=1024'."""
    target, mode = None, "update"
    m = re.search(r"\s--as\s+([A-Za-z_][A-Za-z0-9_]*)\s*$", " " + args)
    if m:
        target, mode = m.group(1), "define"
        args = (" " + args)[:m.start()].strip()
    elif re.search(r"(^|\s)--print\s*$", args):
        mode = "print"
        args = re.sub(r"(^|\s)--print\s*$", "", args).strip()
    name, _, rest = args.partition(" ")
    patches = split_patch_args(rest)
    if not name or not patches:
        raise MldslError("usage: :patch NAME PATCH... [--as NEW | --print]  "
                         "(e.g. :patch mnist 'scale_lr?batch_size=1024' --as big)")
    base = repl.session.value(name)
    result = repl.session.evaluate(f"{name} with {', '.join(patches)}")
    if mode == "print":  # every value, so that one set to its default on purpose shows
        repl.print_mlx(to_mlx_or_format(result, hide_defaults=False))
        return
    target = target or name
    keyword = repl.session.kind(name) if repl.session.kind(name) in ("let", "experiment") else "experiment"
    repl.session.define(target, result, keyword)
    _print_changes(repl, base, result, f"{target} ({'updated' if target == name else 'defined'})")


def _print_changes(repl, before: Any, after: Any, title: str) -> None:
    try:
        import mldsl.symbolic as sym

        d = sym.diff(before, after)
    except Exception:
        repl.print_dim(title)
        return
    if not d:
        repl.print_dim(f"{title}: nothing changed")
        return
    fmt = getattr(d, "format", None)
    repl.print_dim(title + ":")
    repl.print(fmt() if callable(fmt) else str(d))


# --------------------------------------------------------------------------------- run and search
def _store_path(explicit: Optional[str]) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get("MLDSL_STORE"):
        return Path(os.environ["MLDSL_STORE"])
    from mldsl.engine.store import default_store_path

    return default_store_path(None)


@command("run", "NAME [--no-store] [--store PATH] [--backend B] [--seed N]",
         "train and evaluate an experiment; the run is recorded in ./mldsl.db")
def cmd_run(repl, args: str):
    """The store is ./mldsl.db (or $MLDSL_STORE, or --store PATH); --no-store records nothing.
    Ctrl-C stops the run, says how it is recorded, and returns to the prompt."""
    p = _parser("run")
    p.add_argument("name")
    p.add_argument("--no-store", action="store_true")
    p.add_argument("--store")
    p.add_argument("--backend", choices=["native", "keras", "auto"])
    p.add_argument("--seed", type=int)
    a = p.parse_args(_split(args))
    experiment = resolve(repl, a.name)
    if getattr(experiment, "kind", None) != "experiment":
        raise MldslError(f"{a.name} is not an experiment; :run needs one (defined: "
                         f"{', '.join(repl.session.experiments()) or 'none'})")
    from mldsl.commands.run import format_logs, format_value
    from mldsl.engine.runner import run_experiment

    store = None
    if not a.no_store:
        from mldsl.engine.store import Store

        store = Store(_store_path(a.store))

    def on_epoch(epoch: int, logs: dict):
        parts = [f"epoch {epoch}", format_logs(logs)]
        if "seconds" in logs:
            parts.append(f"{logs['seconds']:.2f}s")
        repl.print_dim("  ".join(parts))

    started = time.perf_counter()
    try:
        outcome = run_experiment(experiment, name=a.name.split(".")[0], store=store, source="<repl>",
                                 backend=a.backend, seed=a.seed, on_epoch=on_epoch)
    except KeyboardInterrupt as exc:
        from mldsl.engine.runner import RunInterrupted

        repl.print_error(str(exc) if isinstance(exc, RunInterrupted) else
                         "interrupted before the run was recorded; nothing was stored")
        return None
    finally:
        if store is not None:
            store.close()
    result = outcome.result
    metrics = getattr(result, "metrics", {}) or {}
    width = max([len(k) for k in metrics] + [6])
    for key, value in metrics.items():
        repl.print(f"{key.ljust(width)}  {format_value(value)}")
    backend = getattr(result, "backend", None) or "?"
    elapsed = time.perf_counter() - started
    if outcome.record is not None:
        repl.print_dim(f"run {outcome.record.id} ({backend}, {elapsed:.1f} s) recorded in "
                       f"{_store_path(a.store)}; artifacts in {outcome.artifacts}")
    else:
        repl.print_dim(f"({backend}, {elapsed:.1f} s; not recorded)")


@command("search", "NAME [--trials N] [--store PATH | --no-store]", "run a search (a `search` statement or a space)")
def cmd_search(repl, args: str):
    """NAME is a `search` statement of the session, or an experiment with hyper primitives (searched
    with the default algorithm). Results go to ./mldsl.db (or --store PATH)."""
    from mldsl.repl import searching

    searching.run_search(repl, args)


# --------------------------------------------------------------------------------- files
@command("load", "FILE", "add the definitions of a .mlx file (or a .json value) to the session")
def cmd_load(repl, args: str):
    parts = _split(args)
    if len(parts) != 1:
        raise MldslError("usage: :load FILE")
    names = repl.session.load(parts[0])
    repl.print_dim(f"loaded {parts[0]}: " + (", ".join(names) if names else "no definitions"))


@command("save", "NAME FILE | FILE", "write a value as .mlx (or .json), or the whole session as .mlx")
def cmd_save(repl, args: str):
    parts = _split(args)
    if len(parts) == 1:
        path = Path(parts[0]).expanduser()
        if path.suffix.lower() == ".json":
            raise MldslError("the whole session saves as .mlx; to save one value as JSON: :save NAME FILE.json")
        path.write_text(repl.session.source())
        repl.print_dim(f"saved the session to {path}")
        return
    if len(parts) != 2:
        raise MldslError("usage: :save NAME FILE (.mlx or .json), or :save FILE for the whole session")
    name, path = parts[0], Path(parts[1]).expanduser()
    value = resolve(repl, name)
    if path.suffix.lower() == ".json":
        import mldsl.symbolic as sym

        sym.save(value, str(path))
    else:
        from mldsl.repl.session import to_mlx

        bare = _REF.match(name).group(1)
        keyword = repl.session.kind(bare) if name == bare else None
        if keyword not in ("let", "experiment", "patch", "search"):
            keyword = None  # the printer picks it from the value
        ident = re.sub(r"\W", "_", name)
        text = to_mlx(value, name=ident, kind=keyword)
        path.write_text(text.rstrip("\n") + "\n")
    repl.print_dim(f"saved {name} to {path}")
