"""The REPL's front end: the interactive prompt (prompt_toolkit) and the piped mode.

``Repl.handle(text)`` runs one complete input (statements, an expression or a ``:command``) and
reports any error without ever raising; both front ends feed it:

* :meth:`Repl.interactive` reads with a ``PromptSession``: multi-line input (Enter continues while a
  bracket is open or the line ends with ``with``/``,``/``=``; Esc-Enter always submits), a persistent
  history file, tab completion, highlighting; Ctrl-C cancels the input, Ctrl-D or ``:quit`` leaves.
* :meth:`Repl.piped` reads lines from a file (stdin when it is not a terminal), groups them into
  inputs the same way, prints no prompts and no colour, and returns 0 if every input succeeded or 2.
"""
from __future__ import annotations

import os
import re
import sys
import traceback
from pathlib import Path
from typing import IO, Iterable, List, Optional, Tuple

from mldsl._warnings import one_line_warnings
from mldsl.errors import MldslError
from mldsl.repl.commands import QUIT, run_command, show_value
from mldsl.dsl.lexing import is_command, needs_more, open_brackets, split_statements, tokenize
from mldsl.repl.session import Session
from mldsl.service.output import Output, isatty

PROMPT = "mlx> "
CONTINUATION = "...  "
HISTORY_ENV = "MLDSL_HISTORY"
DEFAULT_HISTORY = "~/.mldsl_history"

OK, FAILED = "ok", "failed"


def history_path() -> Optional[Path]:
    """``$MLDSL_HISTORY`` (empty: no history file) or ``~/.mldsl_history``."""
    value = os.environ.get(HISTORY_ENV)
    if value is not None:
        return Path(value).expanduser() if value.strip() else None
    return Path(DEFAULT_HISTORY).expanduser()


class Repl:
    """One REPL: a :class:`Session` plus where output goes.

    ``out``/``err``: text streams (default stdout/stderr), written through :class:`Output` (``output``,
    ``error_output``), as the command line writes. ``color``: colour in the output (the default: only
    when ``out`` is a terminal and ``NO_COLOR`` is unset).
    """

    def __init__(self, session: Optional[Session] = None, *, out: Optional[IO[str]] = None,
                 err: Optional[IO[str]] = None, color: Optional[bool] = None) -> None:
        self.session = session or Session()
        self.output = Output(out or sys.stdout, color=color)
        self.error_output = Output(err or sys.stderr, color=self.output.color)
        self.errors = 0
        self.prompt_session = None  # the PromptSession while interactive

    @property
    def color(self) -> bool:
        return self.output.color

    # ------------------------------------------------------------------------------------ output
    def print(self, text: str = "") -> None:
        """Writes a line of plain output."""
        self.output.print(text)

    def print_mlx(self, text: str) -> None:
        """Writes ``.mlx`` text, highlighted when colour is on."""
        self.output.mlx(text)

    def print_dim(self, text: str) -> None:
        """Writes a secondary message (dim when colour is on)."""
        self.output.print(text, "dim")

    def print_error(self, text: str) -> None:
        """Writes an error message to ``err`` (red when colour is on)."""
        self.output.stream.flush()
        self.error_output.print(text, "red")

    def report(self, exc: BaseException) -> None:
        """Prints an error: the DSL's rendering (source line and caret) for ``.mlx`` errors,
        ``error: message`` for other user errors, the type and message for anything else."""
        if isinstance(exc, MldslError):
            self.print_error(exc.render())
        elif isinstance(exc, KeyboardInterrupt):
            self.print_error("interrupted")
        else:
            self.print_error(f"error: {type(exc).__name__}: {exc}")
            if os.environ.get("MLDSL_DEBUG") == "1":
                self.print_error(traceback.format_exc().rstrip())

    # ------------------------------------------------------------------------------------ running
    def handle(self, text: str, where: Optional[Tuple[str, int]] = None) -> str:
        """Runs one complete input; returns ``"ok"``, ``"failed"`` (reported) or ``"quit"``.

        ``where = (name, line)`` places errors in a script (``<stdin>:12:5``); by default they are
        relative to the input (``<repl>:1:5``)."""
        if not text.strip():
            return OK
        from mldsl.patching import PatchWarning

        with one_line_warnings(self.print_error, always=[PatchWarning]):
            return self._handle(text, where)

    def _handle(self, text: str, where: Optional[Tuple[str, int]]) -> str:
        try:
            if is_command(text):
                result = run_command(self, text.strip())
                return QUIT if result == QUIT else OK
            stmts = split_statements(text)
            if not stmts:  # only comments
                return OK
            if stmts[0].keyword is None:
                try:
                    value = self.session.evaluate(text.strip(), where=where)
                except MldslError as exc:
                    m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=[^=]", text)
                    if m and isinstance(getattr(exc, "notes", None), list):
                        exc.notes.append(f"to define a name, write `let {m.group(1)} = ...` "
                                         f"(or `experiment {m.group(1)} = ...`)")
                    raise
                show_value(self, value)
                return OK
            self.session.execute(text, where=where)
            return OK
        except (Exception, KeyboardInterrupt) as exc:  # never die on bad input
            self.errors += 1
            self.report(exc)
            return FAILED

    def piped(self, lines: Iterable[str], name: str = "<stdin>") -> int:
        """Runs the inputs read from ``lines`` (no prompts); 0 if all succeeded, 2 otherwise.
        Errors name the input line: ``<stdin>:12:5``."""
        buf: List[str] = []
        failed = False
        first = 1
        for number, line in enumerate(lines, start=1):
            if buf and is_command(line):  # a command never continues a statement
                status = self.handle("\n".join(buf), where=(name, first))
                failed |= status == FAILED
                buf = []
                if status == QUIT:
                    return 2 if failed else 0
            if not buf:
                first = number
            buf.append(line.rstrip("\r\n"))
            text = "\n".join(buf)
            if needs_more(text):
                continue
            buf = []
            status = self.handle(text, where=(name, first))
            failed |= status == FAILED
            if status == QUIT:
                return 2 if failed else 0
        if buf and "\n".join(buf).strip():
            status = self.handle("\n".join(buf), where=(name, first))
            failed |= status == FAILED
        return 2 if failed else 0

    def interactive(self, *, input=None, output=None, history: Optional[Path] = None,
                    use_history_file: bool = True) -> int:
        """The prompt loop (prompt_toolkit); returns 0 when the user leaves."""
        session = self.make_prompt_session(input=input, output=output, history=history,
                                           use_history_file=use_history_file)
        self.prompt_session = session
        if output is None:
            self.print_dim("mldsl REPL: .mlx statements, or :help for commands (Ctrl-D to leave)")
        while True:
            try:
                text = session.prompt()
            except KeyboardInterrupt:
                continue
            except EOFError:
                break
            if self.handle(text) == QUIT:
                break
        return 0

    def make_prompt_session(self, *, input=None, output=None, history: Optional[Path] = None,
                            use_history_file: bool = True):
        """A configured ``prompt_toolkit.PromptSession`` (exposed for tests)."""
        try:
            from prompt_toolkit import PromptSession
        except ImportError:
            raise MldslError("the interactive REPL needs prompt_toolkit and Pygments: "
                             "pip install 'mldsl[repl]' (piped input works without them)") from None
        from prompt_toolkit.history import FileHistory, InMemoryHistory
        from prompt_toolkit.lexers import PygmentsLexer
        from prompt_toolkit.styles import Style

        from mldsl.highlight import MlxReplLexer
        from mldsl.repl.completion import MlxCompleter

        hist = InMemoryHistory()
        path = history if history is not None else (history_path() if use_history_file else None)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch(exist_ok=True)
                hist = FileHistory(str(path))
            except OSError as exc:
                self.print_error(f"warning: history not saved ({path}: {exc.strerror or exc})")
        style = Style.from_dict({"prompt": "ansigreen bold", "continuation": "ansibrightblack"})
        return PromptSession(
            message=[("class:prompt", PROMPT)],
            multiline=True,
            prompt_continuation=lambda width, line_number, wrap_count: [("class:continuation",
                                                                          CONTINUATION.rjust(width))],
            key_bindings=_key_bindings(),
            lexer=PygmentsLexer(MlxReplLexer),
            completer=MlxCompleter(self.session),
            complete_while_typing=False,
            history=hist,
            style=style,
            include_default_pygments_style=True,
            input=input,
            output=output,
            color_depth=None,
            enable_open_in_editor=False,
        )


def _key_bindings():
    from prompt_toolkit.key_binding import KeyBindings

    kb = KeyBindings()

    @kb.add("enter")
    def _enter(event):
        buf = event.current_buffer
        state = buf.complete_state
        if state is not None and state.current_completion is not None:
            buf.complete_state = None  # Enter picks the highlighted completion
            return
        buf.complete_state = None
        doc = buf.document
        if not doc.is_cursor_at_the_end and "\n" in doc.text:
            buf.insert_text("\n" + _indent(doc.text_before_cursor))
            return
        if needs_more(doc.text):
            buf.insert_text("\n" + _indent(doc.text))
        else:
            buf.validate_and_handle()

    @kb.add("escape", "enter")
    def _submit(event):
        event.current_buffer.validate_and_handle()

    for closer in ")]}":
        @kb.add(closer)
        def _dedent(event, closer=closer):
            """A closing bracket typed first on a line goes back one indent level."""
            buf = event.current_buffer
            line = buf.document.current_line_before_cursor
            if line.strip() == "" and line.endswith("    ") and "\n" in buf.document.text_before_cursor:
                buf.delete_before_cursor(4)
            buf.insert_text(closer)

    return kb


def _indent(text: str) -> str:
    stack = open_brackets(tokenize(text, significant=True)) or []
    return "    " * len(stack)


def main(files: Iterable[str] = (), *, history: Optional[str] = None, no_history: bool = False,
         color: Optional[bool] = None, stdin: Optional[IO[str]] = None) -> int:
    """``mldsl repl``: loads ``files``, then reads interactively when stdin is a terminal, else
    runs the piped input. Returns the exit code (piped: 0 if all inputs succeeded, else 2)."""
    stdin = stdin or sys.stdin
    interactive = isatty(stdin) and isatty(sys.stdout)
    repl = Repl(color=color if color is not None else (None if interactive else False))
    failed = False
    for f in files:
        failed |= repl.handle(f":load {_quote(f)}") == FAILED
    if interactive:
        path = Path(history).expanduser() if history else None
        return repl.interactive(history=path, use_history_file=not no_history)
    code = repl.piped(stdin)
    return 2 if failed else code


def _quote(path: str) -> str:
    import shlex

    return shlex.quote(path)
