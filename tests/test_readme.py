"""The README's examples work as written: its .mlx program compiles and its Python snippet runs."""
import argparse
import pathlib
import re
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def blocks(lang: str) -> list[str]:
    """The bodies of the README's fenced code blocks tagged ``lang`` ("" for untagged ones)."""
    found, current, tag = [], None, None
    for line in README.splitlines():
        if line.startswith("```"):
            if current is None:
                current, tag = [], line[3:].strip()
            else:
                if tag == lang:
                    found.append("\n".join(current) + "\n")
                current = None
        elif current is not None:
            current.append(line)
    return found


def test_the_language_example_compiles(tmp_path):
    import mldsl

    (program,) = [b for b in blocks("") if b.lstrip().startswith("# in the style of examples/digits.mlx")]
    shutil.copy(ROOT / "examples" / "common.mlx", tmp_path / "common.mlx")
    (tmp_path / "readme.mlx").write_text(program)
    module = mldsl.load_mlx(tmp_path / "readme.mlx")
    assert {"digits", "digits_quick", "digits_space", "digits_search"} <= set(module)
    assert module["digits_quick"].training["num_epochs"] == 1
    assert mldsl.dna_spec(module["digits_space"]).space_size == float("inf")  # floatv: continuous


def test_the_python_example_runs(tmp_path, monkeypatch):
    (snippet,) = blocks("python")
    monkeypatch.chdir(tmp_path)
    # the two rebinds that the README shows failing are run under pytest.raises
    failing = [line for line in snippet.splitlines() if 'e.rebind({"training.batch_s' in line]
    assert len(failing) == 2
    import mldsl

    code = snippet
    for line in failing:
        code = code.replace(line, "with __raises(__ValidationError):\n    " + line.strip())
    namespace = {"__raises": pytest.raises, "__ValidationError": mldsl.ValidationError, "__name__": "readme"}
    exec(compile(code, "README.md", "exec"), namespace)
    assert (tmp_path / "e.json").exists()


# ------------------------------------------------------------------ what the README states, checked
def code_spans() -> list[str]:
    """The README's inline code spans and the bodies of its shell (``bash`` or untagged) blocks."""
    return re.findall(r"`([^`\n]+)`", README) + blocks("bash")


def test_every_environment_variable_it_names_is_read_by_the_code():
    sources = [ROOT / "setup.py", *ROOT.glob(".ci/*")]
    for folder, patterns in (("mldsl", ("*.py",)), ("plugins", ("*.py",)), ("kernels", ("*.py", "*.pyx", "*.pxi", "*.h")),
                             ("tests", ("*.py",))):
        for pattern in patterns:
            sources += (ROOT / folder).rglob(pattern)
    code = "\n".join(p.read_text(errors="replace") for p in sources if p.is_file())
    named = set(re.findall(r"\bMLDSL_[A-Z0-9_]+", README))
    assert len(named) >= 10 and "MLDSL_STORE" in named
    assert sorted(v for v in named if v not in code) == []


def test_every_verb_it_shows_is_a_verb_of_the_cli():
    from mldsl.cli import build_parser

    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    shown = {verb for span in code_spans() for verb in re.findall(r"(?:^|[\s(|;])mldsl ([a-z][a-z-]*)", span, re.M)}
    assert {"run", "runs", "search", "trials", "show", "repl", "bench"} <= shown
    assert sorted(shown - set(subparsers.choices)) == []
    (benchmarks,) = [a for a in subparsers.choices["bench"]._actions if a.dest == "benchmark"]
    stated = set(re.search(r"`mldsl bench ([a-z|\\-]+)", README).group(1).replace("\\", "").split("|"))
    assert stated == set(benchmarks.choices)
    shown_benchmarks = {b for span in code_spans() for b in re.findall(r"mldsl bench ([a-z][a-z-]*)", span)}
    assert shown_benchmarks <= set(benchmarks.choices)


def test_the_store_it_states_is_where_every_verb_looks(tmp_path, monkeypatch):
    from mldsl.service.stores import DEFAULT_STORE_NAME, STORE_ENV, store_path

    stated = re.search(r"one results store,\s+the first of: `([^`]+)`, `([^`]+)`, `([^`]+)`", README)
    assert stated is not None, "the README's paragraph on the store moved: update this test"
    assert stated.groups() == ("--store PATH", f"${STORE_ENV}", f"./{DEFAULT_STORE_NAME}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(STORE_ENV, raising=False)
    assert store_path() == tmp_path / "mldsl.db"
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "env.db"))
    assert store_path() == tmp_path / "env.db" and store_path("flag.db") == tmp_path / "flag.db"
    assert "`mldsl.db` next to the file" not in README and "examples/mldsl.db" not in README


def test_the_defaults_it_states_are_the_code_defaults():
    import mldsl
    from mldsl.cli import build_parser
    from mldsl.backends.base import affinity_cpus
    from mldsl.engine.search import default_window
    from mldsl.plugin_manager import DEFAULT_IMPORT_WARN_S

    search = build_parser()._subparsers._group_actions[0].choices["search"]
    defaults = {a.dest: a.default for a in search._actions}

    def stated(pattern: str) -> str:
        found = re.search(pattern, README)
        assert found is not None, f"the README no longer states {pattern!r}: update this test"
        return found.group(1)

    assert int(stated(r"`--max-retries` \(default\s+(\d+)\)")) == defaults["max_retries"]
    assert stated(r"default: the trials that run at once,\s+i\.e\. `--workers`, else (1) in process and one per "
                  r"core on `local`/`ray`") == "1"
    assert default_window("inprocess", None) == 1 and default_window("inprocess", 3) == 3
    assert default_window("local", None) == default_window("ray", None) == affinity_cpus()
    assert float(stated(r"`MLDSL_PLUGIN_IMPORT_WARN_S` seconds \(default\s+(\d+)")) == DEFAULT_IMPORT_WARN_S
    assert stated(r'\*\*`backend = "(\w+)"`\*\* \(the default\)') == mldsl.parse(
        "experiment e = Experiment(model=Sequential([Dense(2)]), data=Digits())")["e"].backend


#: Names the README uses for a file of the reader's (not files of the repository).
PLACEHOLDERS = {"file.mlx", "FILE.mlx", "FILE.png", "history.csv", "mldsl.db", "mnist.npz", "weights.npz"}
TOP = {"examples", "kernels", "mldsl", "plugins", "tests", ".ci", "grammars"}


def test_every_path_it_names_exists():
    named = set()
    for span in re.findall(r"`([^`\n]+)`", README):
        named.update(re.findall(r"(?<![\w$~/.<-])((?:[\w.-]+/)+[\w.*-]*|[\w-]+\.(?:mlx|py|pyx|pxi|h|lark|md))"
                                r"(?![\w/<])", span))
    checked = []
    for path in sorted(named - PLACEHOLDERS):
        head = path.split("/")[0]
        if "/" in path and head in TOP:
            found = list(ROOT.glob(path.rstrip("/")))
        elif "/" in path and path.count("/") == 1 and path.endswith("/"):  # a package of mldsl/ (the layout table)
            found = [p for p in (ROOT / path, ROOT / "mldsl" / path) if p.is_dir()]
        elif "/" not in path:  # a file named alone: at the top, an example or a test
            found = [p for p in (ROOT / path, ROOT / "examples" / path) if p.is_file()] + list(ROOT.glob(f"tests/**/{path}"))
        else:
            continue  # relative to where the reader is (../shared/data)
        checked.append(path)
        assert found, f"the README names {path}, which is not in the repository"
    assert {"examples/digits.mlx", "plugins/examples/mldsl-hello/", "mldsl/hookspecs.py", "ARCHITECTURE.md"} <= set(checked)
