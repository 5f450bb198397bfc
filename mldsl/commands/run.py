"""CLI verbs ``run`` (train and evaluate one experiment) and ``runs`` (list, show and diff recorded runs):
arguments in, :mod:`mldsl.service.runs` to do it, text out."""
from __future__ import annotations

import json
import sys

from mldsl.errors import MldslError
from mldsl.service.stores import PRECEDENCE

#: ``--store`` of every verb that uses the store.
STORE_HELP = f"the results store (the first of: {PRECEDENCE})"


def add_parsers(subparsers) -> None:
    """Adds ``run`` and ``runs``."""
    run = subparsers.add_parser("run", help="train and evaluate an experiment, recording the run",
                                description="Train and evaluate FILE[:NAME] (without NAME: the file's first "
                                            "experiment that is not a search space) and record the run in "
                                            "the store.")
    run.add_argument("target", nargs="?", metavar="FILE[:NAME]")
    run.add_argument("--patch", action="append", default=[], metavar="'name?k=v'",
                     help="apply a patch of FILE or a patcher (repeatable, applied in order)")
    run.add_argument("--set", action="append", default=[], dest="sets", metavar="PATH=VALUE",
                     help="set a value by path, e.g. training.batch_size=64 (repeatable)")
    run.add_argument("--backend", choices=["native", "keras", "auto"], help="override the experiment's backend")
    run.add_argument("--seed", type=int, help="override the experiment's seed")
    run.add_argument("--store", metavar="PATH", help=STORE_HELP)
    run.add_argument("--rerun", metavar="ID", help="run a recorded run again, exactly as it was")
    run.add_argument("--no-store", action="store_true", help="do not record the run")
    run.add_argument("--json", action="store_true", help="print one machine-readable record")
    run.set_defaults(handler=cmd_run)

    runs = subparsers.add_parser("runs", help="list recorded runs, show one, diff two, compare several",
                                 description="`mldsl runs` lists runs; `mldsl runs show ID [--diff OTHER]`; "
                                             "`mldsl runs compare ID ID ... [--metric M] [--plot FILE.png]`: final "
                                             "metrics side by side, curves overlaid; `mldsl runs weights ID "
                                             "[--plot FILE.png]`: the first Dense layer's weights as images.")
    runs.add_argument("action", nargs="?", choices=["list", "show", "compare", "weights"], default="list")
    runs.add_argument("run_ids", nargs="*", metavar="ID")
    runs.add_argument("--diff", metavar="OTHER_ID", help="with show: the differences against another run")
    runs.add_argument("--metric", metavar="M", help="with compare: the metric drawn beside the loss (default: "
                                                    "the first one every run recorded)")
    runs.add_argument("--study", metavar="NAME", help="with compare: the IDs are trial numbers of this search "
                                                      "(none: its 8 best trials)")
    runs.add_argument("--plot", metavar="FILE.png", help="with compare or weights: draw the picture to FILE.png")
    runs.add_argument("--count", type=int, metavar="N", help="with weights: draw the first N units (default: all, "
                                                             "at most 400)")
    runs.add_argument("--store", metavar="PATH", help=STORE_HELP)
    runs.add_argument("--json", action="store_true", help="print JSON")
    runs.set_defaults(handler=cmd_runs)


def cmd_run(args) -> int:
    done: list = []  # the outcome, once the run returned
    try:
        return _run(args, done)
    except KeyboardInterrupt as exc:  # also while importing, loading the file, opening the store or printing
        from mldsl.service.runs import interrupted_message

        print(interrupted_message(exc, done), file=sys.stderr)
        return 130


def _run(args, done: list) -> int:
    from mldsl.service import runs, targets
    from mldsl.service.output import Output
    from mldsl.service.stores import store_path

    store = None if args.no_store else store_path(args.store)
    if args.rerun:
        if args.no_store:
            raise MldslError("--rerun reads the run from the store; leave out --no-store")
        old = runs.load_rerun(store, args.rerun)
        name, experiment, source, edits = old.name, old.experiment, old.source, old.patches
        backend, seed = args.backend or old.backend, old.seed
    else:
        if not args.target:
            raise MldslError("mldsl run needs FILE[:NAME] (or --rerun ID)")
        target = targets.load_target(args.target, "runnable")
        if target.note:
            print(f"mldsl: {target.note}", file=sys.stderr)
        runs.require_experiment(target.name, target.value)
        experiment = targets.derive(target.value, patches=args.patch, sets=args.sets, scope=target.module)
        name, source, edits = target.name, str(target.path), targets.edits_record(args.patch, args.sets)
        backend, seed = args.backend, args.seed
    err = Output(sys.stderr)
    with runs.epoch_progress(err, experiment) as progress:
        outcome = runs.run(experiment, name=name, store=store, source=source, patches=edits, backend=backend,
                           seed=seed, on_epoch=None if args.json else progress, done=done)
    if args.json:
        print(json.dumps(runs.run_json(outcome, name), indent=2, default=float))
        return 0
    for warning in outcome.result.warnings:
        err.print(f"warning: {warning}", "yellow")
    out = Output(sys.stdout)
    out.table(runs.METRIC_HEADERS, runs.metric_rows(outcome.result.metrics))
    out.print()
    per_class = runs.per_class_rows(outcome.result.metrics)
    if per_class:
        out.table(runs.PER_CLASS_HEADERS, per_class)
        out.print()
    out.lines(runs.outcome_lines(outcome, store))
    return 0


def cmd_runs(args) -> int:
    from mldsl.service import runs
    from mldsl.service.output import Output
    from mldsl.service.stores import open_store

    out = Output(sys.stdout)
    with open_store(args.store, create=False) as store:
        if args.action in ("compare", "weights"):
            from mldsl.commands import pictures

            return (pictures.cmd_compare if args.action == "compare" else pictures.cmd_weights)(args, store)
        if args.action == "list":
            records = store.list_runs()
            for r in records:
                if r.damaged:
                    print(f"warning: {r.damaged}", file=sys.stderr)
            if args.json:
                print(json.dumps([r.to_dict() for r in records], indent=2, default=float))
            elif records:
                out.table(runs.RUN_HEADERS, runs.run_rows(records))
            else:
                out.print(f"no runs in {store.path}")
            return 0
        if len(args.run_ids) != 1:
            raise MldslError("mldsl runs show needs one run ID (see `mldsl runs`)")
        run = store.get_run(args.run_ids[0])
        if args.diff:
            out.print(runs.diff_runs(run, store.get_run(args.diff)))
            return 0
        if args.json:
            print(json.dumps(run.to_dict(), indent=2, default=float))
            return 0
        out.lines(runs.run_header_lines(run))
        if run.metrics:
            out.table(runs.METRIC_HEADERS, runs.metric_rows(run.metrics))
            per_class = runs.per_class_rows(run.metrics)
            if per_class:
                out.print()
                out.table(runs.PER_CLASS_HEADERS, per_class)
        else:
            out.print("no metrics")
        out.print(f"\nartifacts: {run.artifacts}\n")
        out.mlx(run.experiment_mlx.rstrip("\n"))
    return 0
