"""The ``%%mlx`` cell magic and the ``%mlx`` line magic (``%load_ext mldsl``).

``%%mlx``: the cell's ``.mlx`` statements join the notebook's session (the REPL's
:class:`~mldsl.repl.session.Session`: each cell compiles after the earlier ones, redefining a name
replaces it); a cell holding one expression shows its value. ``%mlx COMMAND ARGS`` runs the REPL's
``:COMMAND`` (``show``, ``names``, ``source``, ``query``, ``space``, ``patch``, ``load``, ``save``,
``reset``, ``help``), except ``run``, ``search`` and ``diff``, which return their result for the notebook
to display (a run's metrics and history plot, a search's trials, a diff's table); ``%mlx STATEMENT`` or
``%mlx EXPRESSION`` is one line of ``.mlx``. As in any line magic, ``$name`` and ``{expr}`` put Python
values into the line.

A user error shows as the command line shows it (file, line, column, the line, a caret, what to do) and
fails the cell without a Python traceback (:class:`~mldsl.notebook.errors.CellError`); interrupting the
kernel during ``%mlx run`` stops the run and says how it is recorded (``interrupted``), as Ctrl-C does.
"""
from __future__ import annotations

import copy
import sys
import time
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Tuple

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from mldsl._warnings import one_line_warnings
from mldsl.errors import MldslError, suggestion_text
from mldsl.notebook import formatters
from mldsl.notebook.display import DiffView, RunView, SearchView
from mldsl.notebook.errors import CellError
from mldsl.notebook.output import NotebookOutput
from mldsl.repl import commands as repl_commands
from mldsl.dsl.lexing import split_statements
from mldsl.repl.session import Session
from mldsl.repl.shell import Repl
from mldsl.service.output import Output

#: REPL commands that make no sense in a notebook
NOT_HERE = {"quit"}


def _as_magic(parser: Any, name: str) -> Any:
    """The REPL's argument parser of ``:name``, naming itself ``%mlx name`` in its messages."""
    parser = copy.copy(parser)
    parser.prog = f"%mlx {name}"
    return parser


RUN_ARGUMENTS = _as_magic(repl_commands.RUN_ARGUMENTS, "run")
SEARCH_ARGUMENTS = _as_magic(repl_commands.SEARCH_ARGUMENTS, "search")


@contextmanager
def reporting() -> Iterator[None]:
    """Turns a user error into a :class:`CellError` (shown as the CLI shows it); mldsl's warnings are
    written as one line each on the cell's standard error."""
    from mldsl.patching import PatchWarning

    def warn(text: str) -> None:
        sys.stderr.write(text + "\n")

    try:
        with one_line_warnings(warn, always=[PatchWarning]):
            yield
    except MldslError as exc:
        raise CellError(exc.render()) from None


@magics_class
class MlxMagics(Magics):
    """The magics of one kernel, over one :class:`Session` (``session``)."""

    def __init__(self, shell: Any, session: Optional[Session] = None) -> None:
        super().__init__(shell)
        self.session = session or Session(filename="<cell>")

    # ------------------------------------------------------------------------------- the adapters
    def repl(self) -> Repl:
        """The REPL over the session, printing to the current cell: tables and ``.mlx`` as HTML."""
        repl = Repl(self.session, out=sys.stdout, err=sys.stderr, color=False)
        repl.output = NotebookOutput()
        repl.error_output = Output(sys.stderr, color=False)
        return repl

    def where(self, kind: str = "cell") -> Tuple[str, int]:
        """Where errors say the input is: ``<cell 3>`` (the cell's execution count), line 1 of it."""
        count = getattr(self.shell, "execution_count", None)
        return (f"<{kind} {count}>" if count is not None else f"<{kind}>"), 1

    # ------------------------------------------------------------------------------------ magics
    @cell_magic("mlx")
    def mlx_cell(self, line: str, cell: str) -> Any:
        """``%%mlx``: the cell's statements join the session; a cell holding one expression shows its value."""
        if line.strip():
            raise CellError(f"%%mlx takes no arguments (got {line.strip()!r}); put .mlx in the cell's body")
        with reporting():
            return self.execute(cell, self.where("cell"))

    @line_magic("mlx")
    def mlx_line(self, line: str) -> Any:
        """``%mlx COMMAND ARGS`` (``%mlx help`` lists them), or one line of ``.mlx``."""
        text = line.strip()
        word, _, rest = text.partition(" ")
        with reporting():
            if not text:
                raise MldslError("%mlx needs a command (show, diff, space, run, search, ...; %mlx help lists "
                                 "them) or a line of .mlx")
            own = {"run": self.run, "search": self.search, "diff": self.diff, "help": self.help}
            if word in own:
                return own[word](rest)
            name = repl_commands.ALIASES.get(word, word)
            if name in repl_commands.COMMANDS and name not in NOT_HERE:
                repl_commands.run_command(self.repl(), ":" + text)
                return None
            if word.startswith(":"):
                hint = suggestion_text(word.lstrip(":"), sorted(set(repl_commands.COMMANDS) - NOT_HERE))
                raise MldslError(f"no command {word!r} (write %mlx show NAME, without the colon)"
                                 + (f"; {hint}" if hint else ""))
            return self.execute(text, self.where("line"))

    # ---------------------------------------------------------------------------------- commands
    def execute(self, text: str, where: Tuple[str, int]) -> Any:
        """Statements join the session (nothing shown); an expression gives its value."""
        statements = split_statements(text)
        if not statements:
            return None
        if statements[0].keyword is None:
            return self.session.evaluate(text.strip(), where=where)
        self.session.execute(text, where=where)
        return None

    def run(self, args: str) -> RunView:
        """``%mlx run NAME [--no-store] [--store PATH] [--backend B] [--seed N]``: trains and evaluates,
        recording the run as ``mldsl run`` does; shows the metrics and the history plot."""
        from mldsl.service import runs
        from mldsl.service.stores import store_path

        a = RUN_ARGUMENTS.parse_args(repl_commands.split_args(args))
        repl = self.repl()
        experiment = repl_commands.resolve(repl, a.name)
        runs.require_experiment(a.name, experiment, self.session.experiments())
        store = None if a.no_store else store_path(a.store)
        name = a.name.split(".")[0]
        done: list = []
        started = time.perf_counter()
        try:
            with runs.epoch_progress(repl.output, experiment) as progress:
                outcome = runs.run(experiment, name=name, store=store, source="<notebook>", backend=a.backend,
                                   seed=a.seed, on_epoch=progress, done=done)
        except KeyboardInterrupt as exc:
            raise CellError(runs.interrupted_message(exc, done)) from None
        return RunView(outcome, store, time.perf_counter() - started, name)

    def search(self, args: str) -> SearchView:
        """``%mlx search NAME [--trials N] [--store PATH | --no-store] ...`` (the REPL's options): runs
        or resumes the search; shows its trials and plot, and defines the best experiment as NAME_best."""
        repl = self.repl()
        try:
            name, result = repl_commands.run_search(repl, args, SEARCH_ARGUMENTS)
        except repl_commands.SearchInterrupted as exc:
            raise CellError(str(exc)) from None
        if result.best is not None and result.best.experiment_mlx:
            repl_commands.define_best(repl, f"{name}_best", result.best.experiment_mlx)
        return SearchView(result)

    def help(self, args: str) -> None:
        """``%mlx help``: the magics and each command; ``%mlx help COMMAND`` explains one."""
        repl = self.repl()
        if args.strip():
            repl_commands.run_command(repl, ":help " + args.strip().lstrip(":"))
            return
        repl.print("%%mlx cells hold .mlx statements (let, experiment, patch, search, import), added to this "
                   "kernel's session;\na cell holding one expression shows its value. %mlx NAME gives a value "
                   "to Python; $name puts a Python value into a line.\n")
        for name, command in repl_commands.COMMANDS.items():
            if name not in NOT_HERE:
                repl.print(f"  %mlx {name} {command.usage}".rstrip() + f"\n      {command.help}")

    def diff(self, args: str) -> DiffView:
        """``%mlx diff A B``: where two values differ, as a table of paths."""
        import mldsl.symbolic as sym

        parts = repl_commands.split_args(args)
        if len(parts) != 2:
            raise MldslError("usage: %mlx diff A B (two defined names, optionally with paths: a.training)")
        repl = self.repl()
        left, right = (repl_commands.resolve(repl, part) for part in parts)
        return DiffView(sym.diff(left, right), parts[0], parts[1])


def load(ipython: Any) -> None:
    """Registers the magics (one session per kernel) and the display of mldsl's values."""
    ipython.register_magics(MlxMagics(ipython))
    formatters.register(ipython)
