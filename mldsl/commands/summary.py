"""CLI verb ``summary``: a model's layers, output shapes and parameter counts, as Keras' ``model.summary()``
prints them, from the symbolic experiment (:mod:`mldsl.service.summary`; no training, no TensorFlow)."""
from __future__ import annotations

import json
import sys


def add_parsers(subparsers) -> None:
    """Adds ``summary``."""
    p = subparsers.add_parser("summary", help="each layer's output shape and parameter count, and the total",
                              description="Print the model of FILE[:NAME] (or FILE EXPERIMENT; without a name: "
                                          "the file's first experiment that is not a search space) as Keras' "
                                          "model.summary() does: each layer's output shape and parameter "
                                          "count, and the total. Nothing is trained; the data is loaded for its "
                                          "input shape.")
    p.add_argument("target", metavar="FILE[:NAME]")
    p.add_argument("experiment", nargs="?", metavar="EXPERIMENT", help="the experiment's name (same as :NAME)")
    p.add_argument("--set", action="append", default=[], dest="sets", metavar="PATH=VALUE",
                   help="set a value by path first, e.g. model.layers[1].units=64 (repeatable)")
    p.add_argument("--json", action="store_true", help="print the rows and the total as JSON")
    p.set_defaults(handler=cmd_summary)


def cmd_summary(args) -> int:
    from dataclasses import asdict

    from mldsl.service import targets
    from mldsl.service.output import Output
    from mldsl.service.summary import HEADERS, summary

    target = targets.load_target(targets.join_target(args.target, args.experiment), "runnable")
    if target.note:
        print(f"mldsl: {target.note}", file=sys.stderr)
    experiment = targets.derive(target.value, sets=args.sets, scope=target.module)
    result = summary(experiment)
    if args.json:
        print(json.dumps({"name": target.name, "input_shape": list(result.input_shape),
                          "layers": [asdict(row) for row in result.rows], "total_params": result.total}, indent=2))
        return 0
    out = Output(sys.stdout)
    out.table(HEADERS, result.table_rows())
    out.print()
    out.print(result.footer())
    return 0
