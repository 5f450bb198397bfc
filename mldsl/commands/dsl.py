"""CLI verbs of the .mlx language: ``check``, ``show``, ``diff``, ``query``, ``space``, ``fmt``,
``explain``. None of them imports TensorFlow. Errors in a file print as compiler diagnostics (no
traceback; ``MLDSL_DEBUG=1`` re-raises) and exit with code 2.

Exit codes: 0 ok; 1 ``diff`` found differences / ``query`` matched nothing / ``fmt --check`` would
reformat; 2 an error in a file or on the command line. ``check`` also reports, per experiment and search
space, the components its backend cannot run (``mldsl.backends.base.backend_notes``): an error (exit 2)
for an explicitly named backend, a note (exit unchanged) for ``auto``, which runs those on keras.
"""
from __future__ import annotations

import argparse
import os
import sys


def add_parsers(subparsers) -> None:
    """Adds check, show, diff, query, space, fmt and explain."""
    p = subparsers.add_parser("check", help="report every error in .mlx files (exit 2 if any)",
                              description="Parse and compile .mlx files (and what they import); print "
                                          "every error found, with its position and code.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing for files without errors")
    p.set_defaults(handler=_check)

    p = subparsers.add_parser("show", help="print the definitions of a .mlx file as .mlx",
                              description="Print FILE's definitions (or just NAME) as canonical .mlx "
                                          "statements, every value resolved: valid .mlx that compiles "
                                          "back to the same values.")
    p.add_argument("target", metavar="FILE[:NAME]")
    p.add_argument("--verbose", action="store_true", help="write each field's documentation as a comment")
    p.add_argument("--hide-defaults", action="store_true", help="leave out fields at their default")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON (as mldsl.symbolic.to_json)")
    out.add_argument("--mlx", action="store_true", help="print .mlx (the default)")
    p.set_defaults(handler=_show)

    p = subparsers.add_parser("diff", help="symbolic difference of two definitions",
                              description="Show where B differs from A (exit 1 if they differ). With "
                                          "--as-patch NAME, print a .mlx patch that turns A into B. Without "
                                          ":NAME, a file's first experiment.")
    p.add_argument("a", metavar="A[:NAME]")
    p.add_argument("b", metavar="B[:NAME]")
    p.add_argument("--as-patch", metavar="NAME", help="print `patch NAME { ... }` turning A into B")
    p.set_defaults(handler=_diff)

    p = subparsers.add_parser("query", help="find values by path regex and type",
                              description="Print `path = value` for every value whose path matches "
                                          "REGEX (re.search), optionally only of type T. Without NAME, the "
                                          "file's first experiment.")
    p.add_argument("target", metavar="FILE[:NAME]")
    p.add_argument("regex", metavar="REGEX")
    p.add_argument("--where-type", metavar="T",
                   help="only values whose type name (or component kind) is T, e.g. Dense or layer")
    p.set_defaults(handler=_query)

    p = subparsers.add_parser("space", help="decision points and size of a search space",
                              description="Print the search space's decision points (as dna_spec prints "
                                          "them) and its size. Without NAME: the space of FILE's first "
                                          "`search` statement, else its first definition holding hyper "
                                          "primitives (stderr says which).")
    p.add_argument("target", metavar="FILE[:NAME]")
    p.set_defaults(handler=_space)

    p = subparsers.add_parser("fmt", help="rewrite .mlx files in canonical layout (comments kept)",
                              description="Rewrite .mlx files canonically; with --check only report "
                                          "files that would change (exit 1).")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--check", action="store_true", help="do not write; exit 1 if a file would change")
    p.set_defaults(handler=_fmt)

    p = subparsers.add_parser("explain", help="where a value was set (definition, patches)",
                              description="Show the chain of places that set PATH of definition NAME: "
                                          "its definition, the lets it used, the patches that changed it.")
    p.add_argument("target", metavar="FILE:NAME")
    p.add_argument("path", metavar="PATH", nargs="?", default="",
                   help="e.g. training.optimizer.learning_rate (empty: the whole value)")
    p.set_defaults(handler=_explain)


# ------------------------------------------------------------------------------------------ verbs

def _existing_files(paths) -> tuple[list[str], int]:
    """The paths that exist, and the exit status so far: 2 if any is missing (each is reported). One
    that is not a regular file (a directory, a FIFO) is refused when it is read, with the reason."""
    found, status = [], 0
    for path in paths:
        if os.path.lexists(path):
            found.append(path)
        else:
            print(f"error: no such file: {path}", file=sys.stderr)
            status = 2
    return found, status


def _check(args: argparse.Namespace) -> int:
    from mldsl.dsl.api import check

    paths, status = _existing_files(args.files)
    for path in paths:
        errors = check(path)
        if errors:
            for err in errors:
                print(err.render() + "\n", file=sys.stderr)
            n = len(errors)
            print(f"{path}: {n} error{'s' if n != 1 else ''}", file=sys.stderr)
            status = 2
            continue
        lines, failed = _backend_problems(path)
        for line in lines:
            print(line, file=sys.stderr)
        if failed:
            status = 2
        elif not args.quiet:
            print(f"{path}: ok")
    return status


def _backend_problems(path: str) -> tuple[list[str], bool]:
    from mldsl.service.inspect import backend_problems
    from mldsl.service.targets import load_file

    return backend_problems(load_file(path), path)


def _target(spec: str, choice: str):
    """``FILE[:NAME]`` loaded, the definition ``choice`` picks without NAME (said on stderr when the file
    offered a choice; ``mldsl.service.targets.CHOICES``)."""
    from mldsl.service.targets import load_target

    target = load_target(spec, choice)
    if target.note:
        print(f"mldsl: {target.note}", file=sys.stderr)
    return target


def _show(args: argparse.Namespace) -> int:
    from mldsl import symbolic as sym
    from mldsl.service.inspect import mlx_text
    from mldsl.service.targets import load_file, split_target

    path, name = split_target(args.target)
    options = {"hide_defaults": args.hide_defaults, "verbose": args.verbose}
    if name is None:
        module = load_file(path)
        names = list(module.own)
        if not args.json:
            print(module.to_mlx(**options), end="")
            return 0
    else:
        target = _target(args.target, "name")
        module, names = target.module, [target.name]
        if not args.json:
            print(mlx_text(target.value, name=name, kind=module.kinds[name], **options))
            return 0
    for n in names:
        value = module[n]
        print(_json(dict(value)) if module.kinds[n] == "patch" else
              sym.to_json_str(value, indent=2, hide_default_values=args.hide_defaults))
    return 0


def _json(value) -> str:
    import json

    from mldsl import symbolic as sym

    return json.dumps({k: sym.to_json(v) for k, v in value.items()}, indent=2)


def _diff(args: argparse.Namespace) -> int:
    from mldsl import symbolic as sym
    from mldsl.dsl.diffpatch import diff_as_patch

    a, b = _target(args.a, "experiment"), _target(args.b, "experiment")
    if args.as_patch:
        print(diff_as_patch(a.value, b.value, args.as_patch), end="")
        return 0 if sym.eq(a.value, b.value) else 1
    d = sym.diff(a.value, b.value)
    if not d:
        print(f"{a.name} and {b.name} are equal")
        return 0
    print(sym.format(d))
    return 1


def _query(args: argparse.Namespace) -> int:
    from mldsl.service.inspect import mlx_text, query

    target = _target(args.target, "experiment")
    found = query(target.value, args.regex, args.where_type)
    for path, v in found.items():
        shown = mlx_text(v)
        print(f"{path} = {shown}" if str(path) else shown)
    return 0 if found else 1


def _space(args: argparse.Namespace) -> int:
    from mldsl.service.inspect import space_lines

    target = _target(args.target, "space")
    print("\n".join(space_lines(target.value, target.name)))
    return 0


def _fmt(args: argparse.Namespace) -> int:
    from mldsl.dsl.api import read_source
    from mldsl.dsl.diagnostics import MlxError
    from mldsl.dsl.formatter import format_source

    paths, status = _existing_files(args.files)
    for path in paths:
        try:
            text = read_source(path)
            new = format_source(text, path)
        except MlxError as exc:
            print(exc.render(), file=sys.stderr)
            status = 2
            continue
        if new == text:
            continue
        if args.check:
            print(f"would reformat {path}")
            status = max(status, 1)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)
            print(f"reformatted {path}")
    return status


def _explain(args: argparse.Namespace) -> int:
    target = _target(args.target, "name")
    print(target.module.explain(target.name, args.path))
    return 0
