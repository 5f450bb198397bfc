"""The ``mldsl`` command line. User errors print a message and exit with code 2;
a Python traceback is shown only with ``MLDSL_DEBUG=1``."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Optional, Sequence

from mldsl import __version__
from mldsl._warnings import one_line_warnings
from mldsl.errors import MldslError

#: The modules that add the verbs (``add_parsers(subparsers)``), in the order ``mldsl --help`` lists them.
COMMAND_MODULES = (
    "mldsl.commands.dsl",      # check, show, diff, query, space, fmt, explain
    "mldsl.commands.plugins",  # plugins, schema
    "mldsl.commands.studies",  # search, trials
    "mldsl.commands.run",      # run, runs
    "mldsl.commands.gradcheck",  # gradcheck
    "mldsl.commands.summary",  # summary
    "mldsl.commands.pictures", # data
    "mldsl.repl.launch",       # repl
    "mldsl.lsp.launch",        # lsp
    "mldsl.commands.bench",    # bench
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mldsl", description="mldsl: machine-learning experiments as inspectable symbolic objects, "
                                     "written in the .mlx language.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="with --version: list plugins")
    parser.add_argument("-p", dest="plugin_options", action="append", default=[], metavar="no:NAME",
                        help="don't load the plugin NAME (repeatable; like pytest's -p no:NAME; same as "
                             "MLDSL_PLUGINS_BLOCK=NAME)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_parsers(subparsers)
    return parser


def block_plugins(options: Sequence[str]) -> None:
    """Applies ``-p no:NAME`` options by adding NAME to ``MLDSL_PLUGINS_BLOCK`` before plugins load."""
    from mldsl.plugin_manager import BLOCK_ENV

    names = []
    for option in options:
        if not option.startswith("no:") or not option[3:]:
            raise MldslError(f"-p expects no:NAME (a plugin not to load), got {option!r}")
        names.append(option[3:])
    if names:
        from mldsl.registry import reset_registry

        current = [n for n in os.environ.get(BLOCK_ENV, "").split(",") if n]
        os.environ[BLOCK_ENV] = ",".join(current + names)
        reset_registry()


def main(argv: Optional[Sequence[str]] = None) -> int:
    with one_line_warnings(lambda line: print(f"mldsl: {line}", file=sys.stderr)):
        return _main(argv)


def _main(argv: Optional[Sequence[str]]) -> int:
    handler = None
    try:
        parser = build_parser()  # inside the try: Ctrl-C while the commands import is no traceback
        args = parser.parse_args(argv)
        block_plugins(args.plugin_options)
        if args.version:
            print(f"mldsl {__version__}")
            if args.verbose:
                from mldsl.commands.plugins import version_lines
                print("\n".join(version_lines()))
            return 0
        handler = getattr(args, "handler", None)
        if handler is None:
            parser.print_help()
            return 0
        return int(handler(args) or 0)
    except MldslError as exc:
        if os.environ.get("MLDSL_DEBUG") == "1":
            raise
        print(exc.render(), file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # verbs that record something say themselves what Ctrl-C left behind
        from mldsl.plugin_manager import PluginLoadInterrupted

        if isinstance(exc, PluginLoadInterrupted):
            print(f"mldsl: {exc}", file=sys.stderr)
        else:
            print("interrupted" if handler is not None else "interrupted before the command started; nothing "
                  "was changed", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `mldsl runs | head`: the reader left; that's not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
