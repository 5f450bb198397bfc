"""Compiling a file and running a search's trials make only young garbage collections: full ones over a
heap that grows with the file (or the trials) made ``mldsl check`` superlinear in the file's length and
a long in-memory search pay more per trial."""
import gc
import threading

from mldsl.bench.check import make_file
from mldsl.dsl.api import compile_source
from mldsl.gcpause import PAUSED_THRESHOLD_2, full_collections_paused


def _full_collections_during(fn) -> int:
    seen = []

    def callback(phase, info):
        if phase == "start" and info["generation"] == 2:
            seen.append(1)
    old = gc.get_threshold()
    gc.set_threshold(100, 1, 1)      # a full collection as often as CPython allows one
    gc.collect()                     # none pending before fn starts
    gc.callbacks.append(callback)
    try:
        fn()
    finally:
        gc.callbacks.remove(callback)
        gc.set_threshold(*old)
    return len(seen)


def test_compiling_a_large_file_makes_no_full_collection():
    text = make_file(600)
    module, errors = compile_source(text, "<bench>")
    assert errors == [] and len(module) > 20
    assert _full_collections_during(lambda: compile_source(text, "<bench>")) == 0


def test_a_search_makes_no_full_collection_while_its_trials_run():
    from mldsl.bench.search_overhead import _trivial, experiment_space
    from mldsl.engine.search import run_search

    space, why = experiment_space()
    assert space is not None, why

    def search():
        result = run_search(space, name="s", algorithm="random", trials=1000, objective="accuracy",
                            evaluate=_trivial, store=None, seed=0)
        assert len(result.trials) == 1000 and {t.status for t in result.trials} == {"completed"}
    assert _full_collections_during(search) == 0


def test_the_thresholds_are_restored_and_the_pause_nests():
    before = gc.get_threshold()
    with full_collections_paused():
        assert gc.get_threshold()[2] >= PAUSED_THRESHOLD_2
        with full_collections_paused():
            pass
        assert gc.get_threshold()[2] >= PAUSED_THRESHOLD_2      # still paused: the outer block is open
    assert gc.get_threshold() == before


def test_the_pause_ends_when_the_last_thread_leaves():
    before = gc.get_threshold()
    inside, leave = threading.Event(), threading.Event()

    def other():
        with full_collections_paused():
            inside.set()
            leave.wait(10)
    t = threading.Thread(target=other)
    t.start()
    inside.wait(10)
    with full_collections_paused():
        pass
    assert gc.get_threshold()[2] >= PAUSED_THRESHOLD_2          # the other thread is still compiling
    leave.set()
    t.join(10)
    assert gc.get_threshold() == before
