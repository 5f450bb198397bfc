"""CLI verbs ``search`` (run or resume a search of a ``.mlx`` file) and ``trials`` (show a store's
studies): arguments in, :mod:`mldsl.service.studies` to do it, text out."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from mldsl.commands.run import STORE_HELP
from mldsl.errors import SearchError


def add_parsers(subparsers):
    """Adds ``search`` and ``trials``."""
    p = subparsers.add_parser(
        "search", help="run (or resume) a search declared in a .mlx file",
        description="Runs the `search` statement NAME of FILE (the only one when NAME is omitted; NAME may also "
                    "name a search space, searched at random for accuracy), recording every trial in the "
                    "store. Running it again resumes it: finished trials are kept, trials cut off by a crash "
                    "are retried, and the algorithm continues where it stopped.")
    p.add_argument("target", metavar="FILE[:NAME]", help="the .mlx file and, optionally, the search's name")
    p.add_argument("--trials", type=int, default=None, help="number of trials (default: the search's `trials`)")
    p.add_argument("--workers", type=int, default=None,
                   help="trials run at once (local/ray; default: one per core). Fixed for a study when it starts")
    p.add_argument("--executor", choices=("inprocess", "local", "ray"), default=None,
                   help="where trials run (default: inprocess, or local when --workers > 1)")
    p.add_argument("--address", default=None, help="Ray cluster address (with --executor ray)")
    p.add_argument("--store", metavar="PATH", default=None, help=STORE_HELP)
    p.add_argument("--seed", type=int, default=None, help="seed of the search algorithm (default 0)")
    p.add_argument("--window", type=int, default=None,
                   help="trials that may run without seeing each other's results (default: --workers, else 1 in "
                        "process and one per core on local/ray; fixed per study; a seed and window give the same "
                        "proposals on every executor)")
    p.add_argument("--max-retries", type=int, default=2, help="reruns of a trial whose process died (default 2)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(handler=cmd_search)

    t = subparsers.add_parser("trials", help="list the trials of a search store",
                              description="Shows each study's trials (id, DNA, metric, status, time) and its best "
                                          "experiment as .mlx; with FILE.mlx, only the studies of its `search` "
                                          "statements.")
    t.add_argument("store_arg", nargs="?", default=None, metavar="STORE|FILE.mlx",
                   help="the store (same as --store), or a .mlx file whose searches to show")
    t.add_argument("--store", metavar="PATH", default=None, help=STORE_HELP)
    t.add_argument("--study", default=None, help="only this study (search name)")
    t.add_argument("--json", action="store_true", help="print JSON instead of a table")
    t.add_argument("--plot", default=None, metavar="FILE.png", help="draw the objective per trial and the best so far")
    t.set_defaults(handler=cmd_trials)


def cmd_search(args) -> int:
    from mldsl.service import studies
    from mldsl.service.output import Output
    from mldsl.service.stores import store_path

    store = store_path(args.store)
    err, out = Output(sys.stderr), Output(sys.stdout)
    try:
        plan = studies.load_plan(args.target).with_options(trials=args.trials)
        for note in studies.space_notes(plan.space):
            if not args.quiet:
                err.print(note)
        with err.trial_progress(plan.objective, quiet=args.quiet) as progress:
            result = studies.run(plan, store=store, executor=args.executor, workers=args.workers,
                                  window=args.window, seed=args.seed, max_retries=args.max_retries,
                                  address=args.address, on_trial=progress,
                                  on_start=None if args.quiet else err.print)
    except KeyboardInterrupt:  # while loading the file, opening the store or running trials
        err.print(studies.interrupted_message(store))
        return 130
    out.lines(studies.result_lines(result))
    if result.best is None:
        return 1
    if result.best.experiment_mlx:
        out.mlx(result.best.experiment_mlx.rstrip())
    out.print(f"trials: mldsl trials --store {store} --study {result.study.name}")
    return 0


def cmd_trials(args) -> int:
    from mldsl.service import studies
    from mldsl.service.output import Output
    from mldsl.service.stores import open_store

    mlx = args.store_arg if args.store_arg and Path(args.store_arg).suffix == ".mlx" else None
    if args.store_arg and args.store and not mlx and args.store_arg != args.store:
        raise SearchError("give the store once: mldsl trials STORE, or --store STORE")
    explicit = args.store or (None if mlx else args.store_arg)
    among = studies.searches_of(mlx) if mlx else None
    if mlx and not among:
        raise SearchError(f"{mlx} declares no `search` statement, so no study of its own; "
                          "`mldsl trials` lists every study of the store")
    out = Output(sys.stdout)
    with open_store(explicit, create=False) as store:
        views = studies.study_views(store, args.study, among)
        if not views:
            what = f"trials of {mlx}'s searches ({', '.join(among)})" if mlx else "searches"
            out.print(f"no {what} in {store.path}")
            return 0
        if args.plot:
            if len(views) > 1:
                raise SearchError("--plot draws one study; pick it with --study NAME ("
                                  + ", ".join(v.study.name for v in views) + ")")
            studies.plot_trials(Path(args.plot), views[0])
        if args.json:
            data = [v.to_json() for v in views]
            print(json.dumps(data[0] if args.study else data, indent=2, default=str))
            return 0
        for i, view in enumerate(views):
            if i:
                out.print()
            out.print(view.title, "bold")
            out.table(view.headers, view.rows())
            out.print()
            out.print(view.best_line())
            if view.best is not None and view.best.experiment_mlx:
                out.mlx(view.best.experiment_mlx.rstrip())
        if args.plot:
            out.print(f"plot: {args.plot}")
    return 0
