"""The REPL's ``:commands``: each parses the text after the command word, calls the service layer
(:mod:`mldsl.service`) and prints through the REPL's :class:`~mldsl.service.output.Output`. User errors
are raised as :class:`MldslError` (the REPL reports them and goes on).

``NAME`` arguments may carry a path into the value: ``:show mnist.training.optimizer``,
``:show mnist model.layers[1]``.
"""
from __future__ import annotations

import argparse
import re
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from mldsl.errors import MldslError, suggestion_text
from mldsl.dsl.lexing import tokenize
from mldsl.service.inspect import mlx_text, value_paths

QUIT = "quit"


@dataclass
class Command:
    """A REPL command: ``usage`` (after the name), one-line ``help``, the function, and its ``options``
    (``--store``, ...: what completion offers)."""

    name: str
    usage: str
    help: str
    fn: Callable[[Any, str], Optional[str]]
    aliases: Tuple[str, ...] = ()
    options: Tuple[str, ...] = ()


COMMANDS: Dict[str, Command] = {}
ALIASES: Dict[str, str] = {}


class _Args(argparse.ArgumentParser):
    def error(self, message):
        raise MldslError(f"{self.prog}: {message} (usage: {self.format_usage().strip()[7:]})")

    def exit(self, status=0, message=None):
        raise MldslError(message or f"{self.prog}: bad arguments")


def arguments(name: str, *positionals: str, **options: dict) -> _Args:
    """The argument parser of ``:name``: ``positionals`` by name; each option ``flag_name=kwargs``
    (``no_store={"action": "store_true"}`` is ``--no-store``)."""
    parser = _Args(prog=f":{name}", add_help=False, allow_abbrev=False)
    for positional in positionals:
        if positional.endswith("?"):
            parser.add_argument(positional[:-1], nargs="?")
        else:
            parser.add_argument(positional)
    for flag, kwargs in options.items():
        parser.add_argument("--" + flag.replace("_", "-"), **kwargs)
    return parser


def command(name: str, usage: str, help: str, aliases: Tuple[str, ...] = (), parser: Optional[_Args] = None,
            options: Tuple[str, ...] = ()):
    """Registers ``fn(repl, args)`` as ``:name``; ``parser`` (its options are the command's) or
    ``options`` for a command that reads its arguments itself."""
    if parser is not None:
        options = tuple(o for action in parser._actions for o in action.option_strings if o.startswith("--"))

    def deco(fn):
        COMMANDS[name] = Command(name, usage, help, fn, aliases, options)
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
def show_value(repl, value: Any, *, verbose: bool = False, hide_defaults: bool = True) -> None:
    """Prints a value as ``.mlx``: the values that differ from their default (all of them with
    ``hide_defaults=False``); ``verbose`` writes field documentation as comments."""
    repl.print_mlx(mlx_text(value, hide_defaults=hide_defaults, verbose=verbose))


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
    from mldsl import symbolic as sym

    if not isinstance(value, sym.Symbolic):
        raise MldslError(f"{name} is not a symbolic value: it has no path {path!r}")
    if not value.sym_has(path):
        hint = suggestion_text(path, value_paths(value))
        raise MldslError(f"{name} has no path {path!r}" + (f"; {hint}" if hint else ""))
    return value.sym_get(path)


def split_args(args: str) -> List[str]:
    """A command's arguments split as a shell does (quotes group); an MldslError when they cannot be."""
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
    order = ["show", "names", "source", "diff", "query", "space", "summary", "patch", "run", "search", "gradcheck",
             "data", "compare", "weights", "load", "save", "reset", "help", "quit"]
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


_SHOW = arguments("show", "name", "path?", verbose={"action": "store_true"},
                  hide_defaults={"action": "store_true"})


@command("show", "NAME [PATH] [--verbose] [--hide-defaults]", "print a value as .mlx", parser=_SHOW)
def cmd_show(repl, args: str):
    """Prints .mlx: the values that differ from their default; --verbose prints every value with each
    field's documentation as a comment (as `mldsl show --verbose`), and with --hide-defaults only the
    values that differ. A patch or a search prints as its statement."""
    a = _SHOW.parse_args(split_args(args))
    value = resolve(repl, a.name, a.path)
    kind = repl.session.kind(a.name)
    options = {"hide_defaults": a.hide_defaults or not a.verbose, "verbose": a.verbose}
    if kind in ("patch", "search") and not a.path:
        repl.print_mlx(mlx_text(value, name=a.name, kind=kind, hide_defaults=a.hide_defaults, verbose=a.verbose))
        return
    show_value(repl, value, **options)


@command("names", "", "list the defined names and their kinds", aliases=("ls",))
def cmd_names(repl, args: str):
    names = repl.session.names()
    if not names:
        repl.print_dim("nothing defined yet")
        return
    rows = []
    for n in names:
        cls = type(repl.session.value(n))
        rows.append([n, repl.session.kind(n), getattr(cls, "type_name", cls.__name__)])
    repl.output.table(["name", "kind", "type"], rows)


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
    parts = split_args(args)
    if len(parts) != 2:
        raise MldslError("usage: :diff A B (two defined names, optionally with paths: a.training)")
    import mldsl.symbolic as sym

    left, right = resolve(repl, parts[0]), resolve(repl, parts[1])
    d = sym.diff(left, right)
    if not d:
        repl.print(f"{parts[0]} and {parts[1]} are equal")
        return
    repl.print(sym.format(d))


@command("query", "NAME REGEX", "the paths of NAME matching a regular expression, with their values")
def cmd_query(repl, args: str):
    name, _, regex = args.strip().partition(" ")
    regex = regex.strip()
    if not name:
        raise MldslError("usage: :query NAME REGEX (e.g. :query mnist units)")
    if len(regex) >= 2 and regex[0] == regex[-1] and regex[0] in "'\"":
        regex = regex[1:-1]
    from mldsl.service.inspect import query

    found = query(resolve(repl, name), regex)
    if not found:
        repl.print_dim(f"no path of {name} matches {regex!r}")
        return
    for path, value in found.items():
        text = mlx_text(value, hide_defaults=True)
        if "\n" in text:
            text = "\n    ".join(text.split("\n"))
        repl.print(f"{path or '(root)'} = {text}")


@command("summary", "NAME", "NAME's model: each layer's output shape and parameters, and the total")
def cmd_summary(repl, args: str):
    """Prints the model of the experiment NAME as Keras' model.summary() does (nothing is trained; the
    data is loaded for its input shape), like `mldsl summary`."""
    parts = split_args(args)
    if len(parts) != 1:
        raise MldslError("usage: :summary NAME (an experiment)")
    from mldsl.service import runs
    from mldsl.service.summary import HEADERS, summary

    experiment = resolve(repl, parts[0])
    runs.require_experiment(parts[0], experiment, repl.session.experiments())
    result = summary(experiment)
    repl.output.table(HEADERS, result.table_rows())
    repl.print(result.footer())


@command("space", "NAME", "the search space of NAME: its DNA spec and size")
def cmd_space(repl, args: str):
    parts = split_args(args)
    if len(parts) != 1:
        raise MldslError("usage: :space NAME")
    from mldsl.service.inspect import space_lines

    for line in space_lines(resolve(repl, parts[0]), parts[0]):
        repl.print(line)


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
         "apply patches (patch names, patcher calls, 'name?k=v', { path = value }) to NAME",
         options=("--as", "--print"))
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
        repl.print_mlx(mlx_text(result))
        return
    target = target or name
    keyword = repl.session.kind(name) if repl.session.kind(name) in ("let", "experiment") else "experiment"
    repl.session.define(target, result, keyword)
    _print_changes(repl, base, result, f"{target} ({'updated' if target == name else 'defined'})")


def _print_changes(repl, before: Any, after: Any, title: str) -> None:
    import mldsl.symbolic as sym

    d = sym.diff(before, after)
    if not d:
        repl.print_dim(f"{title}: nothing changed")
        return
    repl.print_dim(title + ":")
    repl.print(sym.format(d))


# --------------------------------------------------------------------------------- run and search
RUN_ARGUMENTS = arguments("run", "name", no_store={"action": "store_true"}, store={},
                          backend={"choices": ["native", "keras", "auto"]}, seed={"type": int})


@command("run", "NAME [--no-store] [--store PATH] [--backend B] [--seed N]",
         "train and evaluate an experiment, recording the run", parser=RUN_ARGUMENTS)
def cmd_run(repl, args: str):
    """The run is recorded in the store: --store PATH, else $MLDSL_STORE, else ./mldsl.db (as for
    `mldsl run`); --no-store records nothing. Ctrl-C stops the run, says how it is recorded, and returns
    to the prompt."""
    from mldsl.service import runs
    from mldsl.service.stores import store_path

    a = RUN_ARGUMENTS.parse_args(split_args(args))
    experiment = resolve(repl, a.name)
    runs.require_experiment(a.name, experiment, repl.session.experiments())
    store = None if a.no_store else store_path(a.store)
    done: list = []
    started = time.perf_counter()
    try:
        with runs.epoch_progress(repl.output, experiment, plain_lines=True) as progress:
            outcome = runs.run(experiment, name=a.name.split(".")[0], store=store, source="<repl>",
                               backend=a.backend, seed=a.seed, on_epoch=progress, done=done)
    except KeyboardInterrupt as exc:
        repl.print_error(runs.interrupted_message(exc, done))
        return
    for warning in outcome.result.warnings:
        repl.print_error(f"warning: {warning}")
    repl.output.table(runs.METRIC_HEADERS, runs.metric_rows(outcome.result.metrics))
    per_class = runs.per_class_rows(outcome.result.metrics)
    if per_class:
        repl.output.table(runs.PER_CLASS_HEADERS, per_class)
    for line in runs.outcome_lines(outcome, store, elapsed=time.perf_counter() - started):
        repl.print_dim(line)


SEARCH_ARGUMENTS = arguments("search", "name", trials={"type": int}, store={}, no_store={"action": "store_true"},
                             seed={"type": int}, algorithm={}, workers={"type": int},
                             executor={"choices": ("inprocess", "local", "ray")}, objective={},
                             minimize={"action": "store_true"})


@command("search", "NAME [--trials N] [--store PATH | --no-store] [--seed N] [--algorithm A] [--workers N] "
                   "[--executor E] [--objective METRIC] [--minimize]",
         "run or resume a search (a `search` statement or a space)", parser=SEARCH_ARGUMENTS)
def cmd_search(repl, args: str):
    """NAME is a `search` statement of the session (its algorithm, trials, objective and early stopping
    are used), or a value holding hyper primitives (a random search for accuracy unless the options say
    otherwise). Trials are recorded in the store as for :run (--no-store keeps them in memory); running
    the same search again resumes it. The best experiment is defined as NAME_best."""
    try:
        name, result = run_search(repl, args)
    except SearchInterrupted as exc:
        repl.print_error(str(exc))
        return
    from mldsl.service import studies

    for line in studies.result_lines(result):
        repl.print(line)
    if result.best is not None and result.best.experiment_mlx:
        repl.print_mlx(result.best.experiment_mlx.rstrip())
        define_best(repl, f"{name}_best", result.best.experiment_mlx)


class SearchInterrupted(Exception):
    """Ctrl-C stopped a search; the message says what the store kept."""


def run_search(repl, args: str, parser=SEARCH_ARGUMENTS):
    """Runs or resumes the search that ``:search ARGS`` names, with the session's output and progress:
    ``(NAME, the engine's SearchResult)``. Ctrl-C raises :class:`SearchInterrupted` with what was kept.
    Shared by the REPL's ``:search`` and the notebook's ``%mlx search`` (each with its own ``parser`` of
    the same options, for its usage messages)."""
    from mldsl.service import studies
    from mldsl.service.stores import store_path

    a = parser.parse_args(split_args(args))
    name = a.name.split(".")[0]
    plan = studies.plan_for(name, resolve(repl, a.name)).with_options(
        algorithm=a.algorithm, trials=a.trials, objective=a.objective, direction="minimize" if a.minimize else None)
    store = None if a.no_store else store_path(a.store)
    for note in studies.space_notes(plan.space):
        repl.print_dim(note)
    try:
        with repl.output.trial_progress(plan.objective) as progress:
            result = studies.run(plan, store=store, executor=a.executor, workers=a.workers, seed=a.seed,
                                  on_trial=progress, on_start=repl.print_dim)
    except KeyboardInterrupt:
        raise SearchInterrupted(studies.interrupted_message(store)) from None
    return name, result


def define_best(repl, name: str, text: str) -> None:
    """Defines ``name`` as the best trial's experiment (``text`` is the statement the search recorded)."""
    from mldsl.dsl.api import parse

    values = list(parse(text, filename="<best trial>").values())
    repl.session.define(name, values[-1], "experiment")
    repl.print_dim(f"defined {name}")


# --------------------------------------------------------------------------------- pictures
DATA_ARGUMENTS = arguments("data", "name", plot={}, count={"type": int}, split={"choices": ("train", "test"),
                                                                                "default": "train"})


@command("data", "NAME [--plot FILE.png] [--count N] [--split train|test]",
         "a dataset's shapes, sizes and classes; --plot draws its examples", parser=DATA_ARGUMENTS)
def cmd_data(repl, args: str):
    """NAME is an experiment (its data) or a dataset (let d = Digits()). --plot writes the first --count
    examples (default 25) of the split with their labels to FILE.png and prints its path."""
    from mldsl.service.pictures import show_data

    a = DATA_ARGUMENTS.parse_args(split_args(args))
    show_data(repl.output, resolve(repl, a.name), a.name, plot=a.plot, count=a.count, split=a.split)


COMPARE_ARGUMENTS = arguments("compare", metric={}, plot={}, store={}, study={})
COMPARE_ARGUMENTS.add_argument("run_ids", nargs="*", metavar="ID")


@command("compare", "ID ID ... [--metric M] [--plot FILE.png] [--store PATH] [--study NAME]",
         "recorded runs side by side; --plot overlays their curves", parser=COMPARE_ARGUMENTS)
def cmd_compare(repl, args: str):
    """The runs' final metrics in one table (ids as `mldsl runs` lists them, prefixes allowed); --plot
    draws each run's loss and metric per epoch in one figure and prints its path. With --study NAME the
    IDs are that search's trial numbers (none: its best 8). The store is found as for :run."""
    from mldsl.service.pictures import show_comparison
    from mldsl.service.stores import open_store

    a = COMPARE_ARGUMENTS.parse_args(split_args(args))
    with open_store(a.store, create=False) as store:
        show_comparison(repl.output, store, a.run_ids, metric=a.metric, plot=a.plot, study=a.study)


WEIGHTS_ARGUMENTS = arguments("weights", "run_id", plot={}, count={"type": int}, store={})


@command("weights", "ID [--plot FILE.png] [--count N] [--store PATH]",
         "a run's first Dense layer; --plot draws each unit's weights as an image", parser=WEIGHTS_ARGUMENTS)
def cmd_weights(repl, args: str):
    """For a run whose model starts with a Dense layer on images: --plot draws each unit's incoming
    weights in the input's shape and prints the picture's path. The store is found as for :run."""
    from mldsl.service.pictures import show_weights
    from mldsl.service.stores import open_store

    a = WEIGHTS_ARGUMENTS.parse_args(split_args(args))
    with open_store(a.store, create=False) as store:
        show_weights(repl.output, store, a.run_id, plot=a.plot, count=a.count)


# --------------------------------------------------------------------------------- files
@command("load", "FILE", "add the definitions of a .mlx file (or a .json value) to the session")
def cmd_load(repl, args: str):
    parts = split_args(args)
    if len(parts) != 1:
        raise MldslError("usage: :load FILE")
    names = repl.session.load(parts[0])
    repl.print_dim(f"loaded {parts[0]}: " + (", ".join(names) if names else "no definitions"))


@command("save", "NAME FILE | FILE", "write a value as .mlx (or .json), or the whole session as .mlx")
def cmd_save(repl, args: str):
    parts = split_args(args)
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
        bare = _REF.match(name).group(1)
        keyword = repl.session.kind(bare) if name == bare else None  # None: the printer picks it
        text = mlx_text(value, name=re.sub(r"\W", "_", name), kind=keyword)
        path.write_text(text + "\n")
    repl.print_dim(f"saved {name} to {path}")


GRADCHECK_ARGUMENTS = arguments("gradcheck", "name", batch={"type": int, "default": 16},
                                samples={"type": int, "default": 10}, seed={"type": int})


@command("gradcheck", "NAME [--batch N] [--samples K] [--seed N]",
         "check an experiment's gradients against finite differences (float64)", parser=GRADCHECK_ARGUMENTS)
def cmd_gradcheck(repl, args: str):
    """As `mldsl gradcheck`: the native backend's gradient of the training loss against central differences,
    per parameter, in float64 with Dropout disabled; prints the table and the worst relative error."""
    from mldsl.service import gradcheck, runs

    a = GRADCHECK_ARGUMENTS.parse_args(split_args(args))
    experiment = resolve(repl, a.name)
    runs.require_experiment(a.name, experiment, repl.session.experiments())
    report = gradcheck.gradcheck(experiment, batch=a.batch, samples=a.samples, seed=a.seed)
    repl.output.table(gradcheck.HEADERS, gradcheck.rows(report))
    lines = gradcheck.summary_lines(report, a.name)
    for line in lines[:-1]:
        repl.print_dim(line)
    (repl.print if report.passed else repl.print_error)(lines[-1])
