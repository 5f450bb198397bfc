"""Smoke test of the MLP benchmark's machinery (tiny sizes; the figures themselves are not tested)."""
import json

import numpy as np
import pytest

from mldsl.bench import mlp


def test_numpy_loop_learns_and_matches_the_model_size():
    assert mlp.num_params() == 784 * 500 + 500 + 500 * 300 + 300 + 300 * 10 + 10
    x, y = mlp.synthetic(400)
    assert x.dtype == np.float32 and x.shape == (400, 784) and y.max() < 10
    # the NumPy contender is a correct trainer: it memorises a tiny set
    rng = np.random.default_rng(0)
    params = []
    for i, o in zip(mlp.LAYERS[:-1], mlp.LAYERS[1:]):
        lim = (6 / (i + o)) ** 0.5
        params += [rng.uniform(-lim, lim, (i, o)).astype(np.float32), np.zeros(o, np.float32)]
    state = {"t": 0, "m": [np.zeros_like(p) for p in params], "v": [np.zeros_like(p) for p in params]}
    losses = [mlp.numpy_epoch(x[:100], y[:100], 25, params, state, rng) for _ in range(15)]
    assert losses[-1] < 0.2 * losses[0]


def test_run_produces_the_record(monkeypatch, capsys):
    monkeypatch.setattr(mlp, "sgemm_rate", lambda repeat=3: {"flops_per_s": 1e11,
                                                                        "by_blas": {"scipy": {"1024": 1e11}}})
    rec = mlp.run(samples=400, threads=1, repeat=1, keras=False)
    for key in ("batch_100", "batch_32"):
        e = rec[key]
        assert set(e["seconds_per_epoch"]) == {"native", "numpy", "keras", "floor", "gemm_floor"}
        assert 0 < e["seconds_per_epoch"]["gemm_floor"] < e["seconds_per_epoch"]["numpy"]
        assert e["gemm_floor_ratio"] == pytest.approx(
            e["seconds_per_epoch"]["native"] / e["seconds_per_epoch"]["gemm_floor"], rel=0.01)
        assert e["seconds_per_epoch"]["keras"] is None and e["speedup_vs_keras"] is None
        assert e["floor_ratio"] == pytest.approx(e["seconds_per_epoch"]["native"] / e["seconds_per_epoch"]["floor"],
                                                 rel=0.01)
    assert rec["batch_32"]["samples"] == 200
    assert rec["floor_ratio"] == rec["batch_100"]["floor_ratio"] and rec["keras"].startswith("skipped")
    assert rec["memory"]["rss_growth_mb"] < 1.0 and rec["memory"]["traced_net_bytes"] < 4096
    assert rec["kernels"]["isa"] and rec["kernels"]["blas"]
    json.dumps(rec)
    assert "floor_ratio" in mlp.format_record(rec) and "native_per_layer" not in mlp.format_record(rec)
    met = rec["goals_met"]                    # Keras skipped: its goals are not measured, the floor ones are
    assert met["speedup_vs_keras_batch_100"] is None and met["speedup_vs_keras_batch_32"] is None
    assert met["floor_ratio_batch_32"] is (rec["batch_32"]["floor_ratio"] <= mlp.GOALS["floor_ratio_batch_32"])
    assert "speedup_vs_keras_batch_32 >= 4.0: not measured" in mlp.format_record(rec)


def test_goals_are_judged_in_their_direction():
    record = {"batch_100": {"floor_ratio": 1.2, "speedup_vs_keras": 3.9},
              "batch_32": {"floor_ratio": 1.5, "speedup_vs_keras": 4.1}}
    assert mlp.goals_met(record) == {"floor_ratio_batch_100": True, "floor_ratio_batch_32": False,
                                     "speedup_vs_keras_batch_100": False, "speedup_vs_keras_batch_32": True}


def test_per_layer_adds_the_trainer_without_its_compiled_step(monkeypatch):
    monkeypatch.setattr(mlp, "sgemm_rate", lambda repeat=3: {"flops_per_s": 1e11,
                                                                        "by_blas": {"scipy": {"1024": 1e11}}})
    built = []
    real = mlp.native_epoch

    def spy(x, y, batch_size, compiled_step=True):
        built.append(compiled_step)
        return real(x, y, batch_size, compiled_step)

    monkeypatch.setattr(mlp, "native_epoch", spy)
    rec = mlp.run(samples=400, threads=1, repeat=1, keras=False, per_layer=True)
    assert built == [True, False, True, False]
    for key in ("batch_100", "batch_32"):
        assert rec[key]["seconds_per_epoch"]["native_per_layer"] > 0
    assert "native_per_layer" in mlp.format_record(rec)


def test_blas_sgemm_adds_the_trainer_on_blas_alone(monkeypatch):
    import mldsl.kernels as K
    monkeypatch.setattr(mlp, "sgemm_rate", lambda repeat=3: {"flops_per_s": 1e11,
                                                                        "by_blas": {"scipy": {"1024": 1e11}}})
    seen = []
    real = mlp.native_epoch

    def spy(x, y, batch_size, compiled_step=True, own_sgemm=None):
        fit = real(x, y, batch_size, compiled_step, own_sgemm)

        def timed():
            fit()
            seen.append((own_sgemm, K.module("dense").get_own_sgemm()))
        return timed

    monkeypatch.setattr(mlp, "native_epoch", spy)
    before = K.module("dense").get_own_sgemm()
    rec = mlp.run(samples=400, threads=1, repeat=1, keras=False, blas_sgemm=True)
    forced = [None, False, True] if K.own_sgemm_available() else [None, False]
    assert [own for own, _ in seen] == forced * 2
    assert all(route == K.own_sgemm_available() for own, route in seen if own is True)
    assert K.module("dense").get_own_sgemm() == before           # each epoch restores the setting
    for key in ("batch_100", "batch_32"):
        assert rec[key]["seconds_per_epoch"]["native_blas_sgemm"] > 0
    assert rec["kernels"]["sgemm"] in ("own-avx512", "blas")
    assert "native_blas_sgemm" in mlp.format_record(rec)


def test_native_epoch_blas_sgemm_runs_on_blas(monkeypatch):
    """While a ``own_sgemm=False`` epoch trains, the kernels route every product to BLAS."""
    import mldsl.kernels as K
    from mldsl.backends.native.trainer import MLPTrainer
    routes = []
    real_fit = MLPTrainer.fit

    def fit(self, x, y, **kw):
        routes.append(K.module("dense").get_own_sgemm())
        return real_fit(self, x, y, **kw)

    monkeypatch.setattr(MLPTrainer, "fit", fit)
    x, y = mlp.synthetic(200)
    mlp.native_epoch(x, y, 100, own_sgemm=False)()
    mlp.native_epoch(x, y, 100, own_sgemm=True)()
    mlp.native_epoch(x, y, 100)()
    chosen = K.module("dense").get_own_sgemm()
    assert routes == [False, False] + [K.own_sgemm_available()] * 2 + [chosen, chosen]


def test_the_floor_measures_every_blas_in_play_and_each_computes_the_product():
    """The floor's sgemm rate is the best of SciPy's BLAS and the kernels' own, so switching the kernels
    to a faster BLAS cannot loosen it; each measured call really computes ``a @ b``."""
    import mldsl.kernels as K
    libs = mlp.gemm_libraries()
    assert "scipy" in libs and K.build_info()["blas"]["name"] in libs
    rng = np.random.default_rng(1)
    a, b = rng.random((37, 19), dtype=np.float32), rng.random((19, 23), dtype=np.float32)
    for name, bind in libs.items():
        out = bind(a, b)()
        np.testing.assert_allclose(out, a @ b, rtol=1e-5, err_msg=name)
