"""Searches SIGKILLed again and again, and several processes on one study, end exactly like one
uninterrupted search: the same trials (DNA, status, metrics), no retry spent on a crash of the search
itself, no trial recorded twice, every process exiting 0. ``MLDSL_KILL_SWEEP=full`` adds kills and Ray."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import killing as K
import search_testlib as L
from mldsl.engine.search import run_search
from mldsl.engine.store import Store

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def reference():
    """The uninterrupted search the campaigns must reproduce (in memory, in process)."""
    os.environ.pop("SEARCH_TEST_LOG", None)
    result = K.reference_search()
    assert {t.status for t in result.trials} >= {"completed", "stopped", "failed"}  # a rich history
    return result


def _campaign(tmp_path, reference, executor, workers, kills):
    outcome = K.search_kill_campaign(tmp_path, executor, workers, kills)
    figures = K.compare_search(outcome["store"], reference)
    K.report(f"search SIGKILL {executor}", {"kills": outcome["kills"], "exit codes": outcome["codes"],
                                             **{k: v for k, v in figures.items()}})
    assert outcome["kills"] == kills and outcome["codes"][-1] == 0
    assert figures["differing"] == [] and figures["lost"] == [] and figures["left_running"] == []
    assert figures["failures_counted"] == 0  # a crash of the search is not a failure of its trials
    assert figures["duplicates"] == []
    assert figures["resumed"]  # trials cut off were run again, not lost
    return figures


def test_ten_sigkills_in_process_then_resume_matches_uninterrupted(tmp_path, reference):
    _campaign(tmp_path, reference, "inprocess", None, 10)


def test_sigkills_with_a_process_pool_then_resume_matches_uninterrupted(tmp_path, reference):
    _campaign(tmp_path, reference, "local", 2, 10 if K.FULL else 4)


def test_sigkills_on_ray_then_resume_matches_uninterrupted(tmp_path, reference):
    pytest.importorskip("ray")
    if not K.FULL:
        pytest.skip("long variant (a Ray start per kill): MLDSL_KILL_SWEEP=full")
    _campaign(tmp_path, reference, "ray", 2, 10)


def test_two_processes_share_one_study(tmp_path, reference):
    """An in-process search and a 2-worker pool on one store and study at once: each trial runs once."""
    store = tmp_path / "shared.db"
    log = tmp_path / "evaluations.log"
    env = {"SEARCH_TEST_LOG": str(log)}
    procs = [K.launch_search(store, "inprocess", None, env), K.launch_search(store, "local", 2, env)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in results]
    figures = K.compare_search(store, reference)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    started = [tuple(e["dna"]) for e in events if e["event"] == "start"]
    by_pid = {}
    for e in events:
        by_pid.setdefault(e["pid"], 0)
        by_pid[e["pid"]] += e["event"] == "start"
    K.report("search two processes", {**figures, "evaluations": len(started), "by_process": len(by_pid)})
    assert figures["differing"] == [] and figures["left_running"] == [] and figures["duplicates"] == []
    assert figures["failures_counted"] == 0 and figures["resumed"] == []
    assert sorted(started) == sorted(tuple(t.dna) for t in reference.trials)  # each trial evaluated once
    assert len(by_pid) >= 2  # the work was shared (both processes ran trials)


def test_sigkill_at_chosen_points_then_resume(tmp_path, monkeypatch):
    """Deterministic points: inside a trial (its per-epoch history being written), right after a trial's
    outcome was recorded, and a pool worker killing the search under it."""
    monkeypatch.delenv("SEARCH_TEST_DIR", raising=False)
    reference = run_search(L.raw_space(), algorithm=L.algorithm(), evaluate=L.ev_killable, workers=2,
                           **L.SEARCH_KW)
    for executor, workers, plan in (("inprocess", None, [dict(kill_call=2), dict(kill_after=2), dict(kill_call=1)]),
                                    ("local", 2, [dict(kill_call=3, kill_parent=True), dict(kill_after=3)])):
        store = tmp_path / f"{executor}.db"
        codes = []
        for step in plan + [{}]:
            proc = _launch(store, executor, workers, **step)
            out, err = proc.communicate(timeout=120)
            codes.append(proc.returncode)
        assert codes == [-signal.SIGKILL] * len(plan) + [0], err
        with Store(store) as s:
            stored = s.trials(s.get_study(L.SEARCH_KW["name"]))
        key = lambda t: (t.number, t.dna, t.status, t.reward, t.error)  # noqa: E731
        assert [key(t) for t in stored] == [key(t) for t in reference.trials]
        assert sum(t.failures for t in stored) == 0 and any(t.attempts > 1 for t in stored)
        assert json.loads(out.strip().splitlines()[-1])["best"] == reference.best.number


def _launch(store, executor="inprocess", workers=None, kill_after=0, kill_call=0, kill_parent=False):
    env = dict(os.environ, SEARCH_TEST_KILL_CALL=str(kill_call),
               PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    if kill_parent:
        env["SEARCH_TEST_KILL_PARENT"] = "1"
    code = (f"import sys, search_testlib as L; "
            f"sys.exit(L.run({str(store)!r}, {executor!r}, {workers!r}, {kill_after!r}))")
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
