"""CLI verbs (search): ``search`` runs or resumes a search from a ``.mlx`` file; ``trials`` shows a store."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any, Optional

from mldsl.errors import SearchError, StoreError


def add_parsers(subparsers):
    """Adds ``search`` and ``trials``."""
    p = subparsers.add_parser(
        "search", help="run (or resume) a search declared in a .mlx file",
        description="Runs the `search` statement NAME of FILE (the only one when NAME is omitted), recording "
                    "every trial in a SQLite store. Running it again resumes it: finished trials are kept, "
                    "trials cut off by a crash are retried, and the algorithm continues where it stopped.")
    p.add_argument("target", metavar="FILE[:NAME]", help="the .mlx file and, optionally, the search's name")
    p.add_argument("--trials", type=int, default=None, help="number of trials (default: the search's `trials`)")
    p.add_argument("--workers", type=int, default=None,
                   help="trials run at once (local/ray; default: one per core). Fixed for a study when it starts")
    p.add_argument("--executor", choices=("inprocess", "local", "ray"), default=None,
                   help="where trials run (default: inprocess, or local when --workers > 1)")
    p.add_argument("--address", default=None, help="Ray cluster address (with --executor ray)")
    p.add_argument("--store", default=None, help="SQLite store (default: mldsl.db next to FILE)")
    p.add_argument("--seed", type=int, default=None, help="seed of the search algorithm (default: the search's, or 0)")
    p.add_argument("--window", type=int, default=None,
                   help="trials that may run without seeing each other's results (default: --workers, else 1 in "
                        "process and one per core on local/ray; fixed per study; a seed and window give the same "
                        "proposals on every executor)")
    p.add_argument("--max-retries", type=int, default=2, help="reruns of a trial whose process died (default 2)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(handler=cmd_search)

    t = subparsers.add_parser("trials", help="list the trials of a search store",
                              description="Shows each study's trials (id, DNA, metric, status, time) and its best "
                                          "experiment as .mlx.")
    t.add_argument("store", nargs="?", default=None, metavar="STORE",
                   help="the store (default: ./mldsl.db; a .mlx file means the mldsl.db next to it)")
    t.add_argument("--study", default=None, help="only this study (search name)")
    t.add_argument("--json", action="store_true", help="print JSON instead of a table")
    t.add_argument("--plot", default=None, metavar="FILE.png", help="draw the objective per trial and the best so far")
    t.set_defaults(handler=cmd_trials)


# -- reading the search statement -------------------------------------------------------------------
def setting(value: Any, key: str, default: Any = None) -> Any:
    """A field of a compiled ``search`` statement (or of a plain dict), or ``default`` when absent."""
    if isinstance(value, dict):
        return value.get(key, default)
    try:
        return getattr(value, key)
    except (AttributeError, KeyError):
        return default


def parse_objective(value: Any) -> tuple[str, str]:
    """``(metric, direction)`` from ``maximize("accuracy")`` as compiled, a dict, a pair or a bare name."""
    if value is None:
        return "accuracy", "maximize"
    if isinstance(value, str):
        text = value.strip()
        for direction in ("maximize", "minimize"):
            if text.startswith(direction + "(") and text.endswith(")"):
                return text[len(direction) + 1:-1].strip().strip("'\""), direction
        return text, "maximize"
    if isinstance(value, (tuple, list)) and len(value) == 2:
        a, b = value
        return (b, a) if a in ("maximize", "minimize") else (a, b)
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("maximize", "minimize"):
        direction, metric = next(iter(value.items()))
        return str(metric), direction
    metric = setting(value, "metric") or setting(value, "name")
    direction = setting(value, "direction") or setting(value, "mode")
    if metric is not None and direction in ("maximize", "minimize"):
        return str(metric), direction
    raise SearchError(f"cannot read the search objective {value!r}; write maximize(\"accuracy\") or "
                      "minimize(\"loss\")")


def _is_search(name: str, value: Any, module: Any) -> bool:
    kinds = getattr(module, "kinds", None)
    if isinstance(kinds, dict) and name in kinds:
        return kinds[name] == "search"
    return type(value).__name__ == "Search" or all(setting(value, k) is not None for k in ("space", "algorithm"))


def _module_items(module: Any) -> list:
    return list(module.items()) if hasattr(module, "items") else list(vars(module).items())


def load_search(target: str) -> dict:
    """Reads ``FILE[:NAME]`` and returns the search settings: name, space, algorithm, trials, objective,
    direction, early_stopping, seed, file."""
    from mldsl.commands._target import split_target
    from mldsl.dsl.api import load_module

    path, name = split_target(target)
    if not Path(path).exists():
        raise SearchError(f"no such file: {path}")
    module = load_module(path)
    searches = {k: v for k, v in _module_items(module) if _is_search(k, v, module)}
    if name is None:
        if len(searches) == 1:
            name, value = next(iter(searches.items()))
        elif not searches:
            raise SearchError(f"{path} declares no `search` statement; add one (search NAME over SPACE {{ ... }}) "
                              "or name a search space: mldsl search FILE:SPACE --trials N")
        else:
            raise SearchError(f"{path} declares several searches ({', '.join(searches)}); pick one: "
                              f"mldsl search {path}:NAME")
    elif name in searches:
        value = searches[name]
    else:
        everything = dict(_module_items(module))
        if name not in everything:
            from mldsl.errors import suggestion_text

            hint = suggestion_text(name, everything)
            raise SearchError(f"{path} has no search or space named {name!r}" + (f"; {hint}" if hint else ""))
        # A bare search space: random search for the accuracy, unless told otherwise.
        value = {"space": everything[name], "algorithm": "random", "trials": None, "objective": None}
    metric, direction = parse_objective(setting(value, "objective"))
    return {"name": name, "space": setting(value, "space"), "algorithm": setting(value, "algorithm") or "random",
            "trials": setting(value, "trials"), "objective": metric, "direction": direction,
            "early_stopping": setting(value, "early_stopping"), "seed": setting(value, "seed"), "file": path}


# -- progress -----------------------------------------------------------------------------------------
def format_metric(value: Any) -> str:
    """A metric for tables and progress lines: 4 significant digits, ``-`` when missing."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def _fmt_elapsed(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60:02d}:{seconds % 60:02d}"


class Progress:
    """Prints the search's progress: one updating line on a terminal, one line per trial otherwise."""

    def __init__(self, objective: str, stream=None, quiet: bool = False):
        self.objective = objective
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.failed = 0
        self.dirty = False

    def __call__(self, record, progress) -> None:
        if self.quiet:
            return
        if record.status == "failed":
            self.failed += 1
        best = (f"best {self.objective}={format_metric(progress.best.reward)} (trial {progress.best.number})"
                if progress.best else "no result yet")
        if self.tty:
            line = (f"\r[{progress.done}/{progress.total}] {best} · {self.failed} failed · "
                    f"{_fmt_elapsed(progress.elapsed)} elapsed")
            self.stream.write(line.ljust(79))
            self.dirty = True
        else:
            detail = f"{self.objective}={format_metric(record.reward)}" if record.reward is not None else ""
            if record.status in ("failed", "stopped") and record.error:
                detail = (detail + " " if detail else "") + f"({_short(record.error, 90)})"
            self.stream.write(f"trial {record.number} {record.status} {detail} · "
                              f"[{progress.done}/{progress.total}] {best} · {_fmt_elapsed(progress.elapsed)}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.dirty:
            self.stream.write("\n")
            self.stream.flush()
            self.dirty = False


def _short(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


# -- search -------------------------------------------------------------------------------------------
def cmd_search(args) -> int:
    try:
        return _search(args)
    except KeyboardInterrupt:  # while loading the file or opening the store, or printing the results
        print("interrupted; every trial recorded so far stays in the store (`mldsl trials` shows them)",
              file=sys.stderr)
        return 130


def _search(args) -> int:
    from mldsl.engine.search import default_window, run_search
    from mldsl.engine.store import Store, default_store_path

    settings = load_search(args.target)
    _check_backend(settings["space"], quiet=args.quiet)
    trials = args.trials if args.trials is not None else settings["trials"]
    if trials is None:
        raise SearchError(f"how many trials? the search {settings['name']!r} sets no `trials`; pass --trials N")
    executor = args.executor or ("local" if args.workers and args.workers > 1 else "inprocess")
    if args.address and executor != "ray":
        raise SearchError("--address names a Ray cluster; use it with --executor ray")
    store_path = Path(args.store) if args.store else default_store_path(settings["file"])
    seed = args.seed if args.seed is not None else (settings["seed"] if settings["seed"] is not None else 0)
    progress = Progress(settings["objective"], quiet=args.quiet)
    with Store(store_path) as store:
        try:
            existing = {s.name: s for s in store.list_studies()}
            if not args.quiet:
                study = existing.get(settings["name"])
                window = study.algorithm.get("window") if study is not None else None
                window = window or args.window or default_window(executor, args.workers)
                verb = "resuming" if study is not None else "starting"
                print(f"{verb} search {settings['name']!r}: {trials} trials, {settings['direction']} "
                      f"{settings['objective']!r}, executor {executor} (window {window}); store {store_path}",
                      file=sys.stderr)
            result = run_search(settings["space"], name=settings["name"], algorithm=settings["algorithm"],
                                trials=int(trials), objective=settings["objective"],
                                direction=settings["direction"], store=store, executor=executor,
                                workers=args.workers, window=args.window, seed=seed, early_stopping=settings["early_stopping"],
                                max_retries=args.max_retries, on_trial=progress, address=args.address)
        except KeyboardInterrupt:
            progress.close()
            print("interrupted: the trials that were running are recorded as interrupted and run again on "
                  f"resume; run the same command again to resume (store {store_path})", file=sys.stderr)
            return 130
        finally:
            progress.close()
    counts = result.counts()
    print(f"search {result.study.name!r}: {len(result.trials)} trials ("
          + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + f") in {result.elapsed:.1f} s; "
          f"{result.ran} run now" + (f", {len(result.retried)} retried" if result.retried else ""))
    if result.best is None:
        print("no trial completed; see `mldsl trials` for the errors")
        return 1
    print(f"best: trial {result.best.number} with {result.objective}={format_metric(result.best.reward)}")
    if result.best.experiment_mlx:
        print(result.best.experiment_mlx.rstrip())
    print(f"trials: mldsl trials {store_path} --study {result.study.name}")
    return 0


def _check_backend(space: Any, quiet: bool) -> None:
    """Before the first trial: refuse a space with choices its explicitly named backend cannot run; with
    ``auto``, say which choices will run on keras (see ``mldsl.backends.base.backend_notes``)."""
    from mldsl.backends.base import backend_notes
    from mldsl.registry import get_registry

    notes, errors = backend_notes(space, get_registry(), concrete=False)
    if errors and notes:
        raise SearchError("the search space has choices its backend cannot run:\n  " + "\n  ".join(notes)
                          + '\nremove those choices, or set backend = "auto" to run them on keras')
    if not quiet:
        for note in notes:
            print(note, file=sys.stderr)


# -- trials -------------------------------------------------------------------------------------------
def _open_store(path_arg: Optional[str]):
    from mldsl.engine.store import Store, default_store_path

    if path_arg is None:
        path = Path.cwd() / "mldsl.db"
    else:
        path = Path(path_arg)
        if path.suffix == ".mlx":
            path = default_store_path(path)
        elif path.is_dir():
            path = path / "mldsl.db"
    if not path.exists():
        raise StoreError(f"no store at {path}; run `mldsl search FILE` first, or give the store's path")
    return Store(path)


def _trial_row(t, objective: str) -> dict:
    d = t.to_dict()
    d["metric"] = t.reward if t.reward is not None else t.metrics.get(objective)
    return d


def _dna_text(dna: Any) -> str:
    if isinstance(dna, list):
        return "[" + ", ".join(f"{x:.4g}" if isinstance(x, float) else str(x) for x in dna) + "]"
    return str(dna)


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(out)


def cmd_trials(args) -> int:
    from mldsl.engine.search import best_trial

    with _open_store(args.store) as store:
        studies = [store.get_study(args.study)] if args.study else store.list_studies()
        if not studies:
            print(f"no searches in {store.path}")
            return 0
        data = []
        for study in studies:
            trials = store.trials(study)
            data.append((study, trials, best_trial(trials, study.direction)))
        if args.plot:
            if len(data) > 1:
                raise SearchError("--plot draws one study; pick it with --study NAME ("
                                  + ", ".join(s.name for s, _, _ in data) + ")")
            plot_trials(Path(args.plot), *data[0])
        if args.json:
            out = [{"study": study.name, "objective": study.objective, "direction": study.direction,
                    "algorithm": study.algorithm, "seed": study.seed,
                    "trials": [_trial_row(t, study.objective) for t in trials],
                    "best": best.number if best else None} for study, trials, best in data]
            print(json.dumps(out if not args.study else out[0], indent=2, default=str))
            return 0
        for i, (study, trials, best) in enumerate(data):
            if i:
                print()
            algo = study.algorithm.get("algorithm", study.algorithm)
            print(f"study {study.name!r}: {study.direction} {study.objective!r}, algorithm "
                  f"{algo.get('name', algo) if isinstance(algo, dict) else algo}, {len(trials)} trials")
            rows = []
            for t in trials:
                took = f"{t.duration:.2f}s" if t.duration is not None else "-"
                note = _short(t.error, 60) if t.error else ""
                if t.attempts > 1:
                    died = f", {t.failures} worker death(s)" if t.failures else ""
                    note = (f"attempt {t.attempts}{died}; " + note).rstrip("; ")
                rows.append([str(t.number), _dna_text(t.dna), format_metric(t.reward), t.status, took, note])
            print(_table(rows, ["id", "DNA", study.objective, "status", "time", "note"]))
            if best is not None:
                print(f"\nbest: trial {best.number} with {study.objective}={format_metric(best.reward)}")
                if best.experiment_mlx:
                    print(best.experiment_mlx.rstrip())
            else:
                print("\nno completed trial yet")
        if args.plot:
            print(f"plot: {args.plot}")
    return 0


def plot_trials(path: Path, study, trials, best) -> Path:
    """The objective of each trial (completed and stopped) and the best-so-far line, as a PNG."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    sign = 1.0 if study.direction == "maximize" else -1.0
    fig, ax = plt.subplots(figsize=(7, 4))
    for status, marker, color in (("completed", "o", "tab:blue"), ("stopped", "x", "tab:orange")):
        pts = [(t.number, t.reward) for t in trials if t.status == status and t.reward is not None]
        if pts:
            ax.scatter(*zip(*pts), marker=marker, color=color, label=status, zorder=3)
    xs, ys, current = [], [], None
    for t in trials:
        if t.status == "completed" and t.reward is not None and (current is None or sign * t.reward > sign * current):
            current = t.reward
        if current is not None:
            xs.append(t.number)
            ys.append(current)
    if xs:
        ax.step(xs, ys, where="post", color="tab:green", label="best so far")
    failed = [t.number for t in trials if t.status == "failed"]
    if failed:
        ax.plot(failed, [0.02] * len(failed), "v", color="tab:red", label="failed", zorder=3,
                transform=ax.get_xaxis_transform())
    ax.set_xlabel("trial")
    ax.set_ylabel(study.objective)
    ax.set_title(f"{study.name}: {study.direction} {study.objective}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
