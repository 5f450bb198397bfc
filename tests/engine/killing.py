"""Kill campaigns: ``mldsl run`` and ``mldsl search`` processes stopped by SIGINT or SIGKILL at chosen
moments, and what the store holds afterwards.

``MLDSL_KILL_SWEEP=full`` runs the long variant (SIGINT every 50 ms across a whole run, more SIGKILLs);
the default is CI-sized. ``MLDSL_KILL_REPORT=FILE`` appends each campaign's figures to FILE as JSON lines.
"""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
FULL = os.environ.get("MLDSL_KILL_SWEEP") == "full"

TINY_RUN = """
experiment tiny = Experiment(
    model = Sequential([Flatten(), Dense(16, activation="relu"), Dense(10, activation="softmax")]),
    data = Digits(),
    training = { batch_size = 64, num_epochs = 3, optimizer = Adam(learning_rate=0.01), validation_split = 0.1 },
    seed = 1,
)
"""

#: Imported before the clock starts, so the sweep covers the run itself rather than Python's imports.
_PRELOAD = ("import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot, sklearn.datasets, "
            "mldsl.cli, mldsl.engine.runner, mldsl.backends.native.backend, mldsl_std")


def report(name: str, figures: dict) -> None:
    """Appends a campaign's figures to $MLDSL_KILL_REPORT (if set) and prints them (seen with -s)."""
    line = json.dumps({"campaign": name, **figures}, sort_keys=True)
    print(line)
    target = os.environ.get("MLDSL_KILL_REPORT")
    if target:
        with open(target, "a") as fh:
            fh.write(line + "\n")


# -- mldsl run ---------------------------------------------------------------------------------------
def _has_a_row(store: Path) -> bool:
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM runs").fetchone()[0] > 0
    except sqlite3.Error:
        return False


def launch_run(folder: Path, sig: int | None, offset: float, after_row: bool = False) -> dict:
    """Runs ``mldsl run`` on the tiny experiment in ``folder`` (its own store), sends ``sig`` ``offset``
    seconds after the imports (None: never), or with ``after_row`` that long after the run is recorded;
    returns the exit code, stderr and the seconds it ran."""
    folder.mkdir(parents=True, exist_ok=True)
    mlx = folder / "tiny.mlx"
    mlx.write_text(TINY_RUN)
    code = (f"{_PRELOAD}\nimport sys\nprint('ready', flush=True)\nfrom mldsl.cli import main\n"
            f"sys.exit(main(['run', {str(mlx)!r}]))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=folder)
    assert proc.stdout.readline().strip() == "ready"
    started = time.monotonic()
    if sig is not None:
        if after_row:
            while proc.poll() is None and not _has_a_row(folder / "mldsl.db"):
                time.sleep(0.002)
        deadline = time.monotonic() + offset
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        if proc.poll() is None:
            proc.send_signal(sig)
    out, err = proc.communicate(timeout=300)
    return {"rc": proc.returncode, "err": err, "out": out, "seconds": time.monotonic() - started}


def examine_run(folder: Path, launched: dict) -> dict:
    """What the store and the artifacts folder hold after one launch, and what is wrong with it."""
    from mldsl.engine.store import Store

    problems = []
    store_path = folder / "mldsl.db"
    rows, raw = [], []
    if store_path.exists():
        with Store(store_path) as store:  # the next access: finalises a dead process's row
            rows = store.list_runs()
        with sqlite3.connect(store_path) as conn:
            raw = conn.execute("SELECT id, status FROM runs").fetchall()
        conn.close()
    folders = sorted(p.name for p in (folder / "runs").iterdir()) if (folder / "runs").exists() else []
    status = rows[0].status if rows else None
    if len(rows) > 1:
        problems.append(f"{len(rows)} rows for one run")
    if any(s == "running" for _, s in raw):
        problems.append("a row left running")
    if [r.id for r in rows] != folders and not (not rows and not folders):
        problems.append(f"artifact folders {folders} vs rows {[r.id for r in rows]} (a lost run)")
    if "Traceback" in launched["err"]:
        problems.append("a traceback: " + launched["err"][-300:])
    rc, err = launched["rc"], launched["err"]
    if rc == 0 and status != "completed":
        problems.append(f"exit 0 but the row is {status}")
    elif rc == 130:
        said = ("completed" if "recorded as completed" in err else "interrupted" if "recorded as interrupted" in err
                else None if "nothing was stored" in err or "nothing was changed" in err else "?")
        if said != status:
            problems.append(f"the message says {said!r} but the row is {status!r}: {err.strip()[-200:]}")
    elif rc == -signal.SIGINT and not err and status in (None, "completed"):
        pass  # Ctrl-C while Python shut down after the command returned: the default handler is back
    elif rc not in (0, -signal.SIGKILL):
        problems.append(f"exit code {rc}: {err.strip()[-300:]}")
    if rc == -signal.SIGKILL and status not in (None, "completed", "crashed"):
        problems.append(f"killed, but the row is {status}")
    if status == "completed":
        run_dir = folder / "runs" / rows[0].id
        for name in ("model/weights.npz", "history.csv", "history.png", "experiment.mlx"):
            if not (run_dir / name).exists():
                problems.append(f"completed without {name}")
        if rows[0].metrics == {}:
            problems.append("completed without metrics")
    for run_id in folders:
        leftovers = [p.name for p in (folder / "runs" / run_id).iterdir() if "partial" in p.name]
        if leftovers:
            problems.append(f"half-written files left: {leftovers}")
    return {"status": status, "problems": problems}


def run_campaign(tmp: Path, sig: int, offsets: list, parallel: int = 2, after_row: bool = False) -> dict:
    """Launches one run per offset (``parallel`` at a time) and totals the outcomes."""
    def one(i_offset):
        i, offset = i_offset
        folder = tmp / f"{sig}-{after_row}-{i}"
        launched = launch_run(folder, sig, offset, after_row)
        return offset, launched, examine_run(folder, launched)

    with ThreadPoolExecutor(parallel) as pool:
        results = list(pool.map(one, enumerate(offsets)))
    statuses: dict = {}
    for _, _, seen in results:
        statuses[str(seen["status"])] = statuses.get(str(seen["status"]), 0) + 1
    problems = [(round(offset, 3), p) for offset, _, seen in results for p in seen["problems"]]
    return {"tried": len(results), "statuses": statuses, "problems": problems,
            "lost": sum("lost" in p for _, p in problems),
            "left_running": sum("left running" in p or "is running" in p for _, p in problems),
            "tracebacks": sum("traceback" in p for _, p in problems)}


# -- mldsl search (the Python API, in a subprocess) -----------------------------------------------------
SEARCH_KW = dict(window=8, name="tune", trials=40, objective="acc", direction="maximize", seed=7,
                 early_stopping="median(after=2)", max_retries=3)


def search_algorithm():
    from mldsl.hyper.evolution import Evolution

    return Evolution(population_size=4, tournament_size=2)


def ev_logged(exp, report):
    """Like the resume tests' objective (three 10 ms epochs, an error for choice 'c' with odd n), and logs
    each evaluation's start and end (pid, DNA values) to $SEARCH_TEST_LOG."""
    log = os.environ.get("SEARCH_TEST_LOG")
    key = [exp["x"], exp["lr"], exp["n"]]
    if log:
        with open(log, "a") as fh:
            fh.write(json.dumps({"pid": os.getpid(), "event": "start", "dna": key}) + "\n")
    if exp["x"] == 2 and exp["n"] % 2:
        raise RuntimeError("odd n with choice c")
    final = exp["x"] + exp["lr"] - 0.1 * exp["n"]
    for epoch in range(1, 4):
        time.sleep(0.01)
        if report(epoch, {"loss": 1.0 / epoch, "acc": final * epoch / 3}) is False:
            break
    if log:
        with open(log, "a") as fh:
            fh.write(json.dumps({"pid": os.getpid(), "event": "end", "dna": key}) + "\n")
    return {"acc": final, "loss": 0.1}


def search_main(store: str, executor: str, workers: int | None, records: str) -> int:
    """The campaign's search; appends each trial it records (pid, number, status) to ``records``."""
    from mldsl.engine.search import run_search
    import search_testlib as L

    def on_trial(record, progress):
        with open(records, "a") as fh:
            fh.write(json.dumps({"pid": os.getpid(), "number": record.number, "status": record.status}) + "\n")

    run_search(L.raw_space(), algorithm=search_algorithm(), store=store, executor=executor, workers=workers,
               evaluate=ev_logged, on_trial=on_trial, **SEARCH_KW)
    return 0


def launch_search(store: Path, executor: str, workers: int | None, env: dict | None = None):
    code = (f"import sys, killing; sys.exit(killing.search_main({str(store)!r}, {executor!r}, {workers!r}, "
            f"{str(store) + '.records'!r}))")
    full_env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
                    **(env or {}))
    return subprocess.Popen([sys.executable, "-c", code], env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def final_count(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM trials WHERE status IN "
                                "('completed', 'failed', 'stopped', 'skipped')").fetchone()[0]
    except sqlite3.Error:
        return 0


def reference_search():
    from mldsl.engine.search import run_search
    import search_testlib as L

    return run_search(L.raw_space(), algorithm=search_algorithm(), evaluate=ev_logged, **SEARCH_KW)


def compare_search(store: Path, reference) -> dict:
    """Figures of a finished campaign: differing trials, failures counted, duplicates, lost, running."""
    from mldsl.engine.store import Store

    with Store(store) as s:
        stored = s.trials(s.get_study(SEARCH_KW["name"]))
    key = lambda t: (t.number, t.dna, t.status, t.reward, t.metrics, t.error)  # noqa: E731
    ref = {t.number: key(t) for t in reference.trials}
    got = {t.number: key(t) for t in stored}
    records = [json.loads(line) for line in Path(str(store) + ".records").read_text().splitlines()]
    final_records: dict = {}
    for r in records:
        if r["status"] in ("completed", "failed", "stopped", "skipped"):
            final_records[r["number"]] = final_records.get(r["number"], 0) + 1
    return {"trials": len(stored),
            "differing": sorted(n for n in ref if got.get(n) != ref[n]),
            "lost": sorted(set(ref) - set(got)),
            "left_running": sorted(t.number for t in stored if not t.final),
            "failures_counted": sum(t.failures for t in stored),
            "duplicates": sorted(n for n, c in final_records.items() if c > 1),
            "resumed": sorted(t.number for t in stored if t.attempts > 1)}


def search_kill_campaign(tmp: Path, executor: str, workers: int | None, kills: int, seed: int = 0) -> dict:
    """SIGKILLs the search ``kills`` times (each time just after some trial was recorded, plus a random
    0-40 ms), then lets it finish; returns the exit codes and the store's state."""
    rng = random.Random(seed)
    store = tmp / f"{executor}.db"
    codes = []
    while True:
        proc = launch_search(store, executor, workers)
        if len([c for c in codes if c == -signal.SIGKILL]) < kills:
            before = final_count(store)
            deadline = time.monotonic() + 120
            while proc.poll() is None and final_count(store) <= before and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.04))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=300)
        codes.append(proc.returncode)
        if proc.returncode == 0:
            break
        assert proc.returncode == -signal.SIGKILL, err
        assert len(codes) < kills + 20, "the search never finished"
    return {"store": store, "codes": codes, "kills": codes.count(-signal.SIGKILL)}
