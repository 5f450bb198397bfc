"""CLI verb ``gradcheck``: an experiment's gradients against float64 central differences, layer by layer
(:mod:`mldsl.service.gradcheck` does it; this module parses the arguments and prints)."""
from __future__ import annotations

import json
import sys



def add_parsers(subparsers) -> None:
    """Adds ``gradcheck``."""
    p = subparsers.add_parser(
        "gradcheck", help="check an experiment's gradients against finite differences (float64)",
        description="Lower FILE[:NAME] (or FILE NAME; without a name: the file's first experiment that is not a "
                    "search space) for the native backend, build it in float64 with its initial weights and "
                    "Dropout disabled, and compare the gradient of the training loss (regularisers included) "
                    "with central differences on a sample of each parameter's coordinates, on a batch of the "
                    "training data. Exit status 1 when a parameter's relative error exceeds the threshold.")
    p.add_argument("target", metavar="FILE[:NAME]")
    p.add_argument("name", nargs="?", metavar="NAME", help="the experiment (instead of FILE:NAME)")
    p.add_argument("--batch", type=int, default=16, metavar="N", help="training examples to check on (default 16)")
    p.add_argument("--samples", type=int, default=10, metavar="K",
                   help="coordinates compared per parameter (default 10; all of a smaller parameter)")
    p.add_argument("--seed", type=int, help="override the experiment's seed (initial weights, batch, coordinates)")
    p.add_argument("--eps", type=float, help="finite-difference step (default 1e-5)")
    p.add_argument("--threshold", type=float, help="largest relative error that passes (default 1e-6)")
    p.add_argument("--patch", action="append", default=[], metavar="'name?k=v'",
                   help="apply a patch of FILE or a patcher (repeatable, applied in order)")
    p.add_argument("--set", action="append", default=[], dest="sets", metavar="PATH=VALUE",
                   help="set a value by path, e.g. model.layers[1].units=8 (repeatable)")
    p.add_argument("--json", action="store_true", help="print one machine-readable record")
    p.set_defaults(handler=cmd_gradcheck)


def cmd_gradcheck(args) -> int:
    from mldsl.service import gradcheck, runs, targets
    from mldsl.service.output import Output

    target = targets.load_target(targets.join_target(args.target, args.name), "runnable")
    if target.note and not args.json:
        print(f"mldsl: {target.note}", file=sys.stderr)
    runs.require_experiment(target.name, target.value)
    experiment = targets.derive(target.value, patches=args.patch, sets=args.sets, scope=target.module)
    report = gradcheck.gradcheck(experiment, batch=args.batch, samples=args.samples, seed=args.seed,
                                 eps=args.eps, threshold=args.threshold)
    if args.json:
        print(json.dumps(gradcheck.report_json(report, target.name), indent=2, default=float))
    else:
        out = Output(sys.stdout)
        out.table(gradcheck.HEADERS, gradcheck.rows(report))
        out.print()
        out.lines(gradcheck.summary_lines(report, target.name))
    return 0 if report.passed else 1
