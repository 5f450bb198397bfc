"""The README's examples work as written: its .mlx program compiles and its Python snippet runs."""
import pathlib
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
