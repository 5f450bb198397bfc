"""The search-overhead benchmark runs and reports mldsl and Optuna side by side (tiny sizes here)."""
import json

import pytest

from mldsl.bench import search_overhead


def test_search_overhead_benchmark_reports_every_row(tmp_path, capsys):
    pytest.importorskip("optuna")
    assert search_overhead.main(["--json", "--memory-trials", "20", "--sqlite-trials", "4", "--repeat", "1",
                                 "--tmp", str(tmp_path)]) == 0
    result = json.loads(capsys.readouterr().out)
    rows = {(r["framework"], r["space"], r["storage"]) for r in result["rows"]}
    assert {("mldsl", "raw", "memory"), ("mldsl", "raw", "sqlite"), ("optuna", "params", "memory"),
            ("optuna", "params", "sqlite")} <= rows
    assert ("mldsl", "experiment", "memory") in rows, result["notes"]
    assert all(r["per_trial_ms"] > 0 for r in result["rows"])
    assert set(result["optuna_speedup"]) >= {"raw/memory", "raw/sqlite"}
    table = search_overhead.format_table(result)
    assert "vs Optuna" in table and "optuna" in table
    assert list(tmp_path.iterdir()) == []  # store files cleaned up
