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
    assert set(result["optuna_speedup"]) >= {"raw/memory/20", "raw/sqlite/4"}
    table = search_overhead.format_table(result)
    assert "vs Optuna" in table and "optuna" in table
    assert list(tmp_path.iterdir()) == []  # store files cleaned up


def test_several_sizes_give_the_growth_and_optunas_sqlite_can_stop_at_a_size(tmp_path, capsys):
    pytest.importorskip("optuna")
    assert search_overhead.main(["--json", "--memory-trials", "10", "40", "--sqlite-trials", "3", "6",
                                 "--repeat", "1", "--optuna-sqlite-max-trials", "3", "--tmp", str(tmp_path)]) == 0
    result = json.loads(capsys.readouterr().out)
    sizes = {(r["framework"], r["space"], r["storage"]): set() for r in result["rows"]}
    for r in result["rows"]:
        sizes[(r["framework"], r["space"], r["storage"])].add(r["trials"])
    assert sizes[("mldsl", "raw", "memory")] == {10, 40} and sizes[("mldsl", "raw", "sqlite")] == {3, 6}
    assert sizes[("optuna", "params", "memory")] == {10, 40}           # the limit is SQLite's only
    assert sizes[("optuna", "params", "sqlite")] == {3}                # 6 is above it
    assert "raw/sqlite/3" in result["optuna_speedup"] and "raw/sqlite/6" not in result["optuna_speedup"]
    assert "raw/memory/40" in result["optuna_speedup"]
    growth = result["growth"]
    assert set(growth) >= {"mldsl/raw/memory", "mldsl/raw/sqlite", "optuna/params/memory"}
    assert "optuna/params/sqlite" not in growth                          # one size only
    row = lambda f, sp, st, n: next(r for r in result["rows"] if (r["framework"], r["space"], r["storage"],
                                                                    r["trials"]) == (f, sp, st, n))
    assert growth["mldsl/raw/memory"] == pytest.approx(row("mldsl", "raw", "memory", 40)["per_trial_ms"]
                                                       / row("mldsl", "raw", "memory", 10)["per_trial_ms"])
    assert any("skipped at 6 trials" in n for n in result["notes"])
    assert "growth mldsl/raw/memory" in search_overhead.format_table(result)


def test_a_size_that_is_not_a_positive_number_is_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        search_overhead.main(["--memory-trials", "0"])
    assert exc.value.code == 2 and "give at least 1" in capsys.readouterr().err
