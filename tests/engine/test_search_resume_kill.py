"""A search killed with SIGKILL at several points and resumed ends exactly like an uninterrupted one."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import search_testlib as L
from mldsl.engine.search import run_search
from mldsl.engine.store import Store

HERE = Path(__file__).resolve().parent


def _reference(monkeypatch, workers=None):
    monkeypatch.delenv("SEARCH_TEST_DIR", raising=False)
    return run_search(L.raw_space(), algorithm=L.algorithm(), evaluate=L.ev_killable, workers=workers,
                      **L.SEARCH_KW)


def _launch(store, executor="inprocess", workers=None, kill_after=0, kill_call=0, kill_parent=False):
    env = dict(os.environ, SEARCH_TEST_KILL_CALL=str(kill_call),
               PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    if kill_parent:
        env["SEARCH_TEST_KILL_PARENT"] = "1"
    code = (f"import sys, search_testlib as L; "
            f"sys.exit(L.run({str(store)!r}, {executor!r}, {workers!r}, {kill_after!r}))")
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finished_count(store):
    if not Path(store).exists():
        return 0
    import sqlite3

    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM trials WHERE status != 'running'").fetchone()[0]
    except sqlite3.Error:
        return 0


def _stored(store):
    with Store(store) as s:
        return s.trials(s.get_study(L.SEARCH_KW["name"]))


def _check_same(stored, reference):
    assert [t.number for t in stored] == list(range(L.SEARCH_KW["trials"]))  # no duplicate, no gap
    assert not [t.number for t in stored if t.status == "running"]          # no zombie
    assert [(t.number, t.dna, t.status, t.reward) for t in stored] == \
        [(t.number, t.dna, t.status, t.reward) for t in reference.trials]
    from mldsl.engine.search import best_trial

    best = best_trial(stored, "maximize")
    assert (best.number, best.reward) == (reference.best.number, reference.best.reward)


def test_sigkill_at_several_points_then_resume_matches_uninterrupted(tmp_path, monkeypatch):
    reference = _reference(monkeypatch)
    assert {t.status for t in reference.trials} >= {"completed", "stopped", "failed"}  # a rich history

    store = tmp_path / "killed.db"
    # Deterministic points: inside evaluate (a trial running, its per-epoch history being written) and
    # right after a trial's outcome was recorded (before the next proposal); "random": at a random
    # moment just after some trial finished (proposing, committing, starting the next one, ...).
    plan = [dict(kill_call=2), "random", dict(kill_after=2), "random", dict(kill_call=1), "random",
            dict(kill_after=1), dict(kill_call=3), "random"]
    rng = random.Random(0)
    kills = random_kills = 0
    for attempt in range(len(plan) + 5):
        step = plan[attempt] if attempt < len(plan) else {}
        randomly = step == "random"
        proc = _launch(store, **({} if randomly else step))
        if randomly:
            before = _finished_count(store)
            deadline = time.monotonic() + 30
            while proc.poll() is None and _finished_count(store) <= before and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.03))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
        if proc.returncode == -signal.SIGKILL:
            kills += 1
            random_kills += randomly
            continue
        assert proc.returncode == 0, err
        if attempt >= len(plan):
            break
    else:
        pytest.fail("the search never finished")
    assert kills - random_kills == len([p for p in plan if p != "random"]) and random_kills >= 2
    stored = _stored(store)
    _check_same(stored, reference)
    assert any(t.attempts > 1 for t in stored)  # trials cut off were retried, not lost or duplicated
    assert json.loads(out.strip().splitlines()[-1])["best"] == reference.best.number


def test_sigkill_with_a_process_pool_then_resume(tmp_path, monkeypatch):
    reference = _reference(monkeypatch, workers=2)
    store = tmp_path / "pool.db"
    kills = 0
    for step in (dict(kill_call=3, kill_parent=True), dict(kill_after=3), {}):
        proc = _launch(store, executor="local", workers=2, **step)
        out, err = proc.communicate(timeout=120)
        if proc.returncode == -signal.SIGKILL:
            kills += 1
            continue
        assert proc.returncode == 0, err
    assert kills == 2
    stored = _stored(store)
    _check_same(stored, reference)
    assert any(t.attempts > 1 for t in stored)
