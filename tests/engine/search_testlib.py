"""Helpers for the search tests: a small search space, trivial evaluate functions (module-level so worker
processes and Ray can import them), and a script entry point that runs a search in a subprocess."""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path


def raw_space():
    """A raw DNA spec: a 3-way choice, a float and an int (trials get ``{decision id: value}``)."""
    from mldsl.hyper.geno import Choices, FloatDecision, IntDecision, Space

    return Space([Choices(1, [Space(), Space(), Space()], ["'a'", "'b'", "'c'"], location="x"),
                  FloatDecision(0.0, 1.0, location="lr"), IntDecision(1, 8, location="n")])


def score(exp) -> float:
    return exp["x"] + exp["lr"] - 0.1 * exp["n"]


def ev_simple(exp, report):
    """One number, no epochs."""
    return {"acc": score(exp)}


def ev_threads(exp, report):
    """Reports the training thread count the worker would use (and the objective)."""
    from mldsl.backends.native.threads import usable_cores

    return {"acc": score(exp), "threads": usable_cores()}


def ev_epochs(exp, report):
    """Four epochs whose accuracy climbs towards ``score``; reports each epoch."""
    final = score(exp)
    for epoch in range(1, 5):
        if report(epoch, {"loss": 1.0 / epoch, "acc": final * epoch / 4}) is False:
            break
    return {"acc": final, "loss": 0.1}


def ev_flaky(exp, report):
    """Raises for choice 'c' (x == 2); NaN objective for n == 8; else like ev_epochs."""
    if exp["x"] == 2:
        raise RuntimeError(f"boom at lr={exp['lr']:.3f}")
    if exp["n"] == 8:
        return {"acc": float("nan")}
    return ev_epochs(exp, report)


def ev_nan_loss(exp, report):
    report(1, {"loss": float("nan"), "acc": 0.5})
    return {"acc": 0.5}


def ev_crash_once(exp, report):
    """The worker process dies the first time it sees each experiment (infrastructure, not the trial)."""
    marker = Path(os.environ["SEARCH_TEST_DIR"]) / f"crash-{exp['lr']}"
    if not marker.exists():
        marker.touch()
        os._exit(3)
    return {"acc": score(exp)}


def ev_always_crash(exp, report):
    os._exit(3)


def ev_crash_when_choice_c(exp, report):
    """The worker dies for choice 'c' (after the other workers got going); the rest sleep a little."""
    time.sleep(0.2)
    if exp["x"] == 2:
        os._exit(3)
    return {"acc": score(exp)}


# -- killing points for the resume test --------------------------------------------------------------
_calls_in_this_process = 0


def ev_killable(exp, report):
    """Like ev_flaky with a short sleep per epoch. SIGKILLs the search process at this process's
    $SEARCH_TEST_KILL_CALL-th evaluate call (with $SEARCH_TEST_KILL_PARENT: a pool worker kills its parent)."""
    global _calls_in_this_process
    _calls_in_this_process += 1
    if os.environ.get("SEARCH_TEST_KILL_CALL") == str(_calls_in_this_process):
        os.kill(os.getppid() if os.environ.get("SEARCH_TEST_KILL_PARENT") else os.getpid(), signal.SIGKILL)
        time.sleep(5)
    if exp["x"] == 2 and exp["n"] % 2:
        raise RuntimeError("odd n with choice c")
    final = score(exp)
    for epoch in range(1, 4):
        time.sleep(0.01)
        if report(epoch, {"loss": 1.0 / epoch, "acc": final * epoch / 3}) is False:
            break
    return {"acc": final, "loss": 0.1}


SEARCH_KW = dict(window=8, name="tune", trials=20, objective="acc", direction="maximize", seed=7,
                 early_stopping="median(after=2)", max_retries=3)


def algorithm():
    from mldsl.hyper.evolution import Evolution

    return Evolution(population_size=4, tournament_size=2)


def run(store: str, executor: str = "inprocess", workers: int | None = None, kill_after: int = 0) -> int:
    """Runs the standard resume-test search; SIGKILLs itself right after recording its
    ``kill_after``-th trial (0: never)."""
    from mldsl.engine.search import run_search

    recorded = []

    def on_trial(record, progress):
        recorded.append(record.number)
        if len(recorded) == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    result = run_search(raw_space(), algorithm=algorithm(), store=store, executor=executor, workers=workers,
                        evaluate=ev_killable, on_trial=on_trial, **SEARCH_KW)
    print(json.dumps({"best": result.best.number if result.best else None, "ran": result.ran}))
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(run(args[0], args[1] if len(args) > 1 else "inprocess",
                 int(args[2]) if len(args) > 2 and args[2] != "-" else None, int(args[3]) if len(args) > 3 else 0))


SYMBOLIC_MLX = """
experiment base = Experiment(
    model = Sequential([Flatten(), Dense(8, activation="relu"), Dense(10, activation="softmax")]),
    data = Digits(),
    training = { batch_size = 64, num_epochs = 2, optimizer = SGD(learning_rate=0.1) },
)
experiment space = base with {
    model.layers[1].units = oneof([4, 8, 16])
    training.optimizer.learning_rate = floatv(0.01, 0.3, scale="log")
}
"""


def symbolic_space():
    import mldsl

    return mldsl.parse(SYMBOLIC_MLX)["space"]


def ev_symbolic(exp, report):
    """A trivial objective read from a concrete symbolic experiment (no training)."""
    assert type(exp).__name__ == "Experiment", type(exp)
    value = exp.model.layers[1].units / 16 + exp.training.optimizer.learning_rate
    for epoch in (1, 2):
        report(epoch, {"loss": 1.0, "accuracy": value * epoch / 2})
    return {"accuracy": value}
