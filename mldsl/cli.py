"""The ``mldsl`` command line. User errors print a message and exit with code 2;
a Python traceback is shown only with ``MLDSL_DEBUG=1``."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Optional, Sequence

from mldsl import __version__
from mldsl.commands import COMMAND_MODULES
from mldsl.errors import MldslError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mldsl", description="mldsl: machine-learning experiments as inspectable symbolic objects, "
                                     "written in the .mlx language.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="with --version: list plugins")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_parsers(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
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
        text = str(exc)
        # Diagnostics from the language already read "file:line:col: error[E...]: ..."; others get a prefix.
        print(text if "error[" in text.split("\n", 1)[0] else f"error: {text}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `mldsl runs | head`: the reader left; that's not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
