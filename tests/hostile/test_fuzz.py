"""The fuzz suite: every input (grammar programs, mutated examples, other encodings, mutated JSON, the
costly sizes) through ``mldsl check``, ``mldsl show`` and the REPL's ``:load`` gives exit 0, or exit
2 with a ``file:line:col`` diagnostic (``file: error[E012]`` for one about the whole file, such as a
file over the size limit); never a traceback, a hang or memory beyond its budget
(``fuzz_harness.memory_budget``). See ``fuzz_harness`` for the families and the limits.

The default run is short (CI). ``MLDSL_FUZZ_EXAMPLES=N`` runs N inputs per family plus the large
size cases; ``MLDSL_FUZZ_REPORT=FILE`` writes every result there as JSON. The table of figures is
printed (``pytest -s``) and is the failure message.
"""
import json
import os

import fuzz_harness as fh


def test_every_fuzz_input_gets_a_diagnostic_or_passes(tmp_path):
    n = fh.examples_per_family()
    inputs = (fh.mutations(n or 100) + fh.encodings() + fh.json_inputs(n // 2 or 25) +
              fh.grammar_programs(n // 2 or 50) + fh.size_cases(long=bool(n)))
    results = fh.run_inputs(inputs, tmp_path / "fuzz")
    table = fh.report(results)
    print("\n" + table)
    if os.environ.get("MLDSL_FUZZ_REPORT"):
        with open(os.environ["MLDSL_FUZZ_REPORT"], "w") as f:
            json.dump(results, f, indent=1)
    assert len(results) == sum(len(i.entries) for i in inputs)
    assert all(r["status"] == "clean" for r in results), table
    # the size cases are where costs would show: each stayed within its time and memory budget
    sizes = [r for r in results if r["family"] == "size"]
    assert sizes and all(r["rss_growth"] <= fh.memory_budget(r["size"]) for r in sizes), table


def test_the_harness_sees_a_traceback_a_hang_and_a_lost_worker(tmp_path, monkeypatch):
    """Guards the suite itself: the classifications it asserts to be zero are really detected."""
    original = fh.WORKER.read_text()
    monkeypatch.setattr(fh, "deadline", lambda size: 3.0)
    monkeypatch.setattr(fh, "WORKER", tmp_path / "worker.py")
    sabotaged = original.replace("def run_cli(argv):", "def run_cli(argv):\n    _sabotage(argv)")
    (tmp_path / "worker.py").write_text(sabotaged.replace('if __name__ == "__main__":', '''
def _sabotage(argv):
    import os, time
    name = os.path.basename(argv[-1])
    if name.startswith("boom"):
        raise ZeroDivisionError("planted")
    if name.startswith("sleep"):
        time.sleep(60)
    if name.startswith("die"):
        os._exit(9)


if __name__ == "__main__":'''))
    inputs = [fh.Input(name, "guard", b"let x = 1\n", entries=("check",))
              for name in ("ok", "boom", "sleep", "die", "ok2")]
    results = {r["id"]: r["status"] for r in fh.run_inputs(inputs, tmp_path / "guard")}
    assert results == {"ok": "clean", "boom": "traceback", "sleep": "hang", "die": "lost", "ok2": "clean"}
