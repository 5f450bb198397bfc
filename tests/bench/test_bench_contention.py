"""``mldsl bench mlp --contention``: busy processes that really spin and go away, and the record's fields
(tiny sizes; the figures themselves are not tested)."""
import json

from mldsl.bench import contention, mlp


def test_busy_cores_spin_while_inside_and_are_gone_after():
    with contention.BusyCores(2) as busy:
        assert busy.running() == 2
    assert busy.running() == 0


def test_contention_record_has_each_model_quiet_and_busy(monkeypatch, capsys):
    monkeypatch.setattr(contention, "MODELS", {"tiny": ((8, 4, 3), 16, 64), "wider": ((32, 16, 3), 16, 64)})
    monkeypatch.setattr(contention, "MIN_TIMING_SECONDS", 0.01)
    assert mlp.main(["--contention", "--repeat", "1", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["benchmark"] == "mlp-contention" and record["busy_processes"] >= 1
    assert record["kernels"]["openmp_wait"]
    for name in ("tiny", "wider"):
        m = record["models"][name]
        assert m["default_threads"] == 1                         # tiny models train on one thread
        for phase in ("quiet", "busy"):
            assert set(m["seconds_per_epoch"][phase]) == {"default_threads", "one_thread"}
            assert all(v > 0 for v in m["seconds_per_epoch"][phase].values())
        s = m["seconds_per_epoch"]
        ratio = s["busy"]["default_threads"] / s["quiet"]["default_threads"]     # of the rounded seconds
        assert abs(m["busy_vs_quiet"] - ratio) <= 0.02 * ratio
    assert "busy/quiet" in contention.format_record(record)
