"""`mldsl run` stopped at every moment: SIGINT swept across a whole run, SIGKILL at random points.

Whenever Ctrl-C arrives the run ends recorded as interrupted (or completed, when everything had finished)
and the message says which; a SIGKILLed run is finalised as crashed by the next reader of the store. No
run is lost, none is left running, no traceback. ``MLDSL_KILL_SWEEP=full`` sweeps every 50 ms.
"""
import random
import signal

import pytest

import killing as K

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_seconds(tmp_path_factory):
    """How long a whole run takes here after its imports (it sets the sweep's range)."""
    folder = tmp_path_factory.mktemp("calibrate")
    launched = K.launch_run(folder, None, 0.0)
    assert launched["rc"] == 0, launched["err"]
    assert K.examine_run(folder, launched) == {"status": "completed", "problems": []}
    return launched["seconds"]


def test_sigint_swept_across_a_whole_run(tmp_path, run_seconds):
    end = run_seconds + 0.1
    if K.FULL:
        offsets = [i * 0.05 for i in range(int(end / 0.05) + 1)]
    else:  # one moment in each of 8 equal slices of the run, so every phase is hit somewhere
        rng = random.Random(1)
        offsets = [(i + rng.random()) * end / 8 for i in range(8)]
    figures = K.run_campaign(tmp_path, signal.SIGINT, offsets)
    K.report("run SIGINT sweep", {**figures, "run_seconds": round(run_seconds, 2)})
    assert figures["problems"] == []
    recorded = K.run_campaign(tmp_path, signal.SIGINT, [0.0, 0.02], after_row=True)  # surely mid-run
    assert recorded["problems"] == [] and recorded["statuses"].get("interrupted", 0) >= 1


def test_sigkill_at_random_points(tmp_path, run_seconds):
    """Random moments of the whole command, and random moments after the run was recorded (so some kills
    surely land while it runs)."""
    rng = random.Random(2)
    count = 12 if K.FULL else 3
    anywhere = K.run_campaign(tmp_path, signal.SIGKILL, [rng.uniform(0, run_seconds) for _ in range(count)])
    recorded = K.run_campaign(tmp_path, signal.SIGKILL, [rng.uniform(0, 0.2) for _ in range(count)],
                              after_row=True)
    figures = {key: anywhere[key] + recorded[key] for key in ("tried", "problems", "lost", "left_running",
                                                              "tracebacks")}
    figures["statuses"] = {s: anywhere["statuses"].get(s, 0) + recorded["statuses"].get(s, 0)
                           for s in set(anywhere["statuses"]) | set(recorded["statuses"])}
    K.report("run SIGKILL", figures)
    assert figures["problems"] == []
    assert recorded["statuses"].get("crashed", 0) >= 1  # finalised by the next reader, not left running
