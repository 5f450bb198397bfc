"""``:search NAME``: runs a search from the REPL through the search engine (``mldsl.engine.search``).

NAME is a ``search`` statement of the session (its algorithm, trials, objective and early stopping
are used), or a value holding hyper primitives (a space: random search for ``accuracy`` unless
options say otherwise). Trials are recorded in ``./mldsl.db`` (``$MLDSL_STORE``, ``--store PATH``;
``--no-store`` keeps them in memory). The best experiment is defined as ``NAME_best``.
"""
from __future__ import annotations


from mldsl.commands.search import format_metric as _fmt
from mldsl.commands.search import parse_objective
from mldsl.commands.search import setting as _get
from mldsl.errors import MldslError


def run_search(repl, args: str) -> None:
    """Implements ``:search NAME [--trials N] [--store PATH | --no-store] [--seed N] [--algorithm A]
    [--workers N] [--executor E] [--objective METRIC] [--minimize]``."""
    from mldsl.repl.commands import _parser, _split, _store_path, resolve

    p = _parser("search")
    p.add_argument("name")
    p.add_argument("--trials", type=int)
    p.add_argument("--store")
    p.add_argument("--no-store", action="store_true")
    p.add_argument("--seed", type=int)
    p.add_argument("--algorithm")
    p.add_argument("--workers", type=int)
    p.add_argument("--executor", choices=("inprocess", "local", "ray"))
    p.add_argument("--objective")
    p.add_argument("--minimize", action="store_true")
    a = p.parse_args(_split(args))
    from mldsl.engine.search import run_search as engine_run_search

    value = resolve(repl, a.name)
    name = a.name.split(".")[0]
    is_search = repl.session.kind(name) == "search" and a.name == name
    if is_search:
        space = _get(value, "space")
        algorithm = _get(value, "algorithm") or "random"
        trials = _get(value, "trials")
        metric, direction = parse_objective(_get(value, "objective"))
        early = _get(value, "early_stopping")
        seed = _get(value, "seed")
    else:
        from mldsl.hyper import is_deterministic

        if is_deterministic(value):
            raise MldslError(f"{a.name} has no hyper primitives (oneof, manyof, floatv, intv): nothing to "
                             "search; derive a space with `with { path = oneof([...]) }`")
        space, algorithm, trials, early, seed = value, "random", None, None, None
        metric, direction = "accuracy", "maximize"
    if a.algorithm:
        algorithm = a.algorithm
    if a.trials is not None:
        trials = a.trials
    if a.objective:
        metric = a.objective
    if a.minimize:
        direction = "minimize"
    if a.seed is not None:
        seed = a.seed
    if trials is None:
        raise MldslError(f"how many trials? {a.name} sets none; :search {a.name} --trials N")
    store = None if a.no_store else str(_store_path(a.store))
    executor = a.executor or ("local" if a.workers and a.workers > 1 else "inprocess")

    def on_trial(record, progress) -> None:
        detail = f"{metric}={_fmt(record.reward)}" if record.reward is not None else ""
        if record.status in ("failed", "stopped") and getattr(record, "error", None):
            detail += f" ({' '.join(str(record.error).split())[:80]})"
        best = (f"best {_fmt(progress.best.reward)} (trial {progress.best.number})"
                if progress.best else "no result yet")
        repl.print_dim(f"trial {record.number} {record.status} {detail} · [{progress.done}/{progress.total}] {best}")

    try:
        result = engine_run_search(space, name=name, algorithm=algorithm, trials=int(trials),
                                   objective=metric, direction=direction, store=store, executor=executor,
                                   workers=a.workers, seed=seed if seed is not None else 0,
                                   early_stopping=early, on_trial=on_trial)
    except KeyboardInterrupt:
        repl.print_error("interrupted" + ("; :search the same name again to resume" if store else ""))
        return
    counts = result.counts() if hasattr(result, "counts") else {}
    repl.print(f"search {name!r}: {len(result.trials)} trials ("
               + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + f") in {result.elapsed:.1f} s"
               + (f"; store {store}" if store else ""))
    if result.best is None:
        repl.print("no trial completed")
        return
    repl.print(f"best: trial {result.best.number} with {metric}={_fmt(result.best.reward)}")
    text = getattr(result.best, "experiment_mlx", None)
    if text:
        repl.print_mlx(text.rstrip())
        _define_best(repl, f"{name}_best", text)


def _define_best(repl, name: str, text: str) -> None:
    """Defines ``name`` as the best trial's experiment (text is a statement or an expression)."""
    from mldsl.repl.session import parse

    try:
        try:
            module = parse(text, filename="<best trial>")
            values = list(module.values())
            value = values[-1] if values else None
        except Exception:
            module = parse(f"experiment __best__ = {text}", filename="<best trial>")
            value = module["__best__"]
        if value is not None:
            repl.session.define(name, value, "experiment")
            repl.print_dim(f"defined {name}")
    except Exception as exc:  # the search itself succeeded; say why the name is missing
        repl.print_dim(f"(could not define {name}: {exc})")
