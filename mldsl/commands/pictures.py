"""CLI verb ``data`` (a dataset's shapes, sizes and classes; ``--plot`` draws its examples) and the
``runs compare`` and ``runs weights`` actions (their parser is ``runs``'s, in :mod:`mldsl.commands.run`):
arguments in, :mod:`mldsl.service.pictures` to do it, text out. Pictures are written only with
``--plot FILE.png``, and their path is printed."""
from __future__ import annotations

import sys

from mldsl.errors import MldslError


def add_parsers(subparsers) -> None:
    """Adds ``data``."""
    p = subparsers.add_parser("data", help="a dataset's shapes, sizes and classes; --plot draws examples",
                              description="Load the dataset of FILE[:NAME] (an experiment's data, or a dataset "
                                          "such as `let d = Mnist()`; without NAME: the file's first "
                                          "experiment) and print its shapes, sizes, value range and examples per "
                                          "class; with --plot, draw its first examples with their labels.")
    p.add_argument("target", metavar="FILE[:NAME]")
    p.add_argument("--set", action="append", default=[], dest="sets", metavar="PATH=VALUE",
                   help="set a value by path first, e.g. data.test_split=0.5 (repeatable)")
    p.add_argument("--plot", metavar="FILE.png", help="draw the first --count examples of --split with their labels")
    p.add_argument("--count", type=int, default=None, help="examples to draw (default 25)")
    p.add_argument("--split", choices=("train", "test"), default="train", help="the examples of which split "
                                                                               "(default train)")
    p.set_defaults(handler=cmd_data)


def cmd_data(args) -> int:
    from mldsl.service import pictures, targets
    from mldsl.service.output import Output

    target = targets.load_target(args.target, "experiment")
    if target.note:
        print(f"mldsl: {target.note}", file=sys.stderr)
    value = targets.derive(target.value, sets=args.sets, scope=target.module)
    pictures.show_data(Output(sys.stdout), value, target.name, plot=args.plot, count=args.count, split=args.split)
    return 0


def cmd_compare(args, store) -> int:
    """``mldsl runs compare ID ID ... [--metric M] [--plot FILE.png]``; with ``--study NAME`` the IDs are
    trial numbers (none: the best trials)."""
    from mldsl.service import pictures
    from mldsl.service.output import Output

    pictures.show_comparison(Output(sys.stdout), store, args.run_ids, metric=args.metric, plot=args.plot,
                             study=args.study, as_json=args.json)
    return 0


def cmd_weights(args, store) -> int:
    """``mldsl runs weights ID [--count N] [--plot FILE.png]``."""
    from mldsl.service import pictures
    from mldsl.service.output import Output

    if len(args.run_ids) != 1 or args.study:
        raise MldslError("mldsl runs weights needs one run ID (see `mldsl runs`); trials keep no model")
    pictures.show_weights(Output(sys.stdout), store, args.run_ids[0], plot=args.plot, count=args.count)
    return 0
