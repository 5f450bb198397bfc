"""``mldsl bench check``: generated files that check clean, sizes that take turns, growth and --json."""
import json

from mldsl.bench import check as bench_check
from mldsl.dsl.api import compile_source


def test_generated_files_have_the_lines_asked_for_and_compile_clean():
    for n in (40, 300, 1000):
        text = bench_check.make_file(n)
        assert n - bench_check.BLOCK.count("\n") <= text.count("\n") <= n
        module, errors = compile_source(text, "<bench>")
        assert errors == [] and len(module) > 0


def test_json_record_has_each_size_and_the_growth(monkeypatch, capsys):
    order = []

    def fake_timed(cmd, env):                       # time = lines / 1000, so growth is the lines ratio
        if cmd[-1] == "pass":
            return 0.01
        order.append(cmd[-1])
        return int(cmd[-1].rsplit("-", 1)[1].split(".")[0]) / 1000

    monkeypatch.setattr(bench_check, "_timed", fake_timed)
    assert bench_check.main(["--lines", "40", "400", "--runs", "2", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert [e["lines"] for e in record["sizes"]] == [bench_check.make_file(n).count("\n") for n in (40, 400)]
    for e in record["sizes"]:
        assert set(e["bytecode_cached"]) == {"best_s", "median_s", "runs"} and e["bytecode_cached"]["runs"] == 2
    (g,) = record["growth"]
    assert g["from_lines"] == record["sizes"][0]["lines"] and g["time_ratio"] == 10.0
    assert [o.rsplit("-", 1)[1] for o in order[:4]] == ["40.mlx", "40.mlx", "400.mlx", "400.mlx"]  # turns


def test_bad_arguments_are_refused(capsys):
    import pytest
    with pytest.raises(SystemExit):
        bench_check.main(["--lines", "5"])
    assert "--lines" in capsys.readouterr().err
