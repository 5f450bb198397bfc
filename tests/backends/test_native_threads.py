"""How many threads native training uses: a tiny model trains on one, search workers share the cores, and
idle OpenMP threads sleep instead of spinning (issue 19, item 1). No timings: the rules themselves."""
import os
import subprocess
import sys

import pytest

from mldsl.backends.base import requested_threads
from mldsl.backends.native.plan import DenseSpec, OptimizerSpec, Plan
from mldsl.backends.native.threads import WORK_PER_THREAD, choose_threads, step_work
from mldsl.engine.executors import LocalExecutor, worker_threads

DIGITS = ((64, 30), (30, 10))                    # examples/digits.mlx: 64-30-10
BIG = ((784, 500), (500, 300), (300, 10))        # the benchmark MLP


def test_a_tiny_model_gets_one_thread_however_many_cores():
    for batch in (16, 32, 64):
        assert choose_threads(step_work(batch, DIGITS), 64) == 1


def test_a_large_model_gets_threads_but_never_more_than_the_cores():
    assert step_work(32, BIG) == 32 * (784 * 500 + 500 * 300 + 300 * 10)
    assert choose_threads(step_work(32, BIG), 2) == 2
    assert choose_threads(step_work(32, BIG), 64) == step_work(32, BIG) // WORK_PER_THREAD
    assert choose_threads(WORK_PER_THREAD * 3, 2) == 2 and choose_threads(WORK_PER_THREAD - 1, 8) == 1


def _trainer(widths, batch):
    from mldsl.backends.native.trainer import MLPTrainer
    layers = [DenseSpec(w, "relu") for w in widths[1:-1]] + [DenseSpec(widths[-1], "softmax")]
    plan = Plan(layers, optimizer=OptimizerSpec("sgd", learning_rate=0.1), batch_size=batch, epochs=1, seed=0)
    return MLPTrainer(plan, (widths[0],))


def test_the_trainer_runs_a_tiny_model_on_one_thread_by_default(monkeypatch):
    import mldsl.kernels as K
    monkeypatch.setenv("MLDSL_NUM_THREADS", "8")             # eight usable cores
    tiny, big = _trainer((64, 30, 10), 32), _trainer((784, 500, 300, 10), 32)
    with tiny.threads():
        assert K.get_num_threads() == 1
    with big.threads():
        assert K.get_num_threads() == 4                       # 17.4M multiply-adds a step
    with tiny.threads(3):                                     # an explicit count is obeyed
        assert K.get_num_threads() == 3


@pytest.mark.parametrize("workers, cores, env, expected", [
    (2, 2, {}, 1), (1, 8, {}, 8), (3, 8, {}, 2), (4, 2, {}, 1),
    (2, 2, {"MLDSL_NUM_THREADS": "4"}, 1),                   # the user's count cannot oversubscribe
    (2, 8, {"OMP_NUM_THREADS": "16"}, 4),
    (2, 8, {"MLDSL_NUM_THREADS": "1", "OMP_NUM_THREADS": "16"}, 1),   # fewer is kept
])
def test_search_workers_times_threads_stay_within_the_cores(workers, cores, env, expected):
    threads = worker_threads(workers, cores, env)
    assert threads == expected
    assert workers * threads <= max(cores, workers)


def test_the_local_pool_caps_a_thread_count_the_user_set(monkeypatch):
    monkeypatch.setenv("MLDSL_NUM_THREADS", "64")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    ex = LocalExecutor(workers=2)
    assert ex._threads == 2 and requested_threads() == 64


def test_openmp_threads_spin_briefly_unless_the_user_chose():
    from mldsl.kernels import SPIN_COUNT, wait_policy
    env = {}
    assert wait_policy(env) == f"spin {SPIN_COUNT}, then sleep" and env == {"GOMP_SPINCOUNT": str(SPIN_COUNT)}
    assert SPIN_COUNT < 300_000 // 100         # far below GNU OpenMP's default, which held busy cores
    env = {"OMP_WAIT_POLICY": "PASSIVE"}
    assert wait_policy(env) == "as set: OMP_WAIT_POLICY=PASSIVE" and "GOMP_SPINCOUNT" not in env
    env = {"GOMP_SPINCOUNT": "1000"}
    assert wait_policy(env).startswith("as set: GOMP_SPINCOUNT=1000") and "OMP_WAIT_POLICY" not in env
    env = {}
    assert wait_policy(env, runtime_loaded=True).startswith("runtime default") and env == {}


def test_importing_the_kernels_sets_the_policy_before_openmp_loads():
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    code = ("import os, mldsl.kernels as K; K.module('dense'); "
            "print(os.environ.get('GOMP_SPINCOUNT'), K.build_info()['openmp_wait'])")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["1000", "spin", "1000,", "then", "sleep"]
