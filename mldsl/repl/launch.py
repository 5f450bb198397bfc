"""The ``mldsl repl`` verb: its arguments on the command line, and the start of the shell. It lives with
the REPL so that neither front end imports the other; ``mldsl.cli`` adds it beside the verbs of
``mldsl.commands``."""
from __future__ import annotations


def add_parsers(subparsers):
    """Adds ``repl``."""
    p = subparsers.add_parser(
        "repl", help="interactive .mlx shell (statements, :show, :diff, :run, ...)",
        description="An interactive shell where every .mlx statement works, with completion, history "
                    "(~/.mldsl_history, or $MLDSL_HISTORY) and highlighting. Type :help at the prompt. "
                    "When stdin is not a terminal the lines are run without prompts; the exit code is 2 "
                    "if any of them failed.")
    p.add_argument("files", nargs="*", metavar="FILE", help=".mlx (or .json) files to load first")
    p.add_argument("--history", metavar="PATH", help="history file (default: $MLDSL_HISTORY or ~/.mldsl_history)")
    p.add_argument("--no-history", action="store_true", help="keep no history file")
    p.add_argument("--no-color", action="store_true", help="no colour in the output")
    p.set_defaults(handler=cmd_repl)


def cmd_repl(args) -> int:
    from mldsl.repl.shell import main

    return main(args.files, history=args.history, no_history=args.no_history,
                color=False if args.no_color else None)
