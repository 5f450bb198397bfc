"""The import policy (``mldsl/dsl/imports.py``): an ``import`` reads only a regular ``.mlx`` file inside
the import root, ``$MLDSL_PATH`` or a folder the REPL was given, and a refused file never shows a byte.

Each refused case plants a secret in the target and checks that the rendered diagnostics (what
``mldsl check`` prints) hold no part of it, that the error sits on the import statement, and its code.
"""
import os
import subprocess
import sys

import pytest

from mldsl.cli import main
from mldsl.dsl.api import check, load_mlx

SECRET = "s3cr3t-7f1e9a"


def rendered(errors) -> str:
    return "\n".join(e.render() for e in errors)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """``outside/`` holds secrets; ``root/`` is where the checked file lives (and the current folder)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"token = {SECRET}\n")
    (outside / "secret.mlx").write_text(f"let leaked = {SECRET}(\n")  # a syntax error quoting it
    root = tmp_path / "root"
    (root / "lib").mkdir(parents=True)
    (root / "notes.txt").write_text(f"{SECRET}\n")
    monkeypatch.chdir(root)
    return root, outside


def check_import(root, written):
    (root / "main.mlx").write_text(f'import "{written}"\nlet y = 2\n')
    return check("main.mlx")  # the current folder is the root


@pytest.mark.parametrize("written, code", [
    ("{outside}/secret.txt", "E013"),     # not .mlx
    ("/etc/passwd", "E013"),
    ("/proc/self/environ", "E013"),
    ("../outside/secret.mlx", "E013"),    # .mlx, but above the import root
    ("{outside}/secret.mlx", "E013"),     # the same, absolute
    ("lib/../../outside/secret.mlx", "E013"),
    ("notes.txt", "E013"),                # inside the root, but not .mlx
])
def test_a_refused_import_shows_no_byte_of_its_file(tree, written, code):
    root, outside = tree
    errors = check_import(root, written.format(outside=outside))
    assert [e.code for e in errors] == [code]
    err = errors[0]
    assert (err.line, err.column) == (1, 8)  # on the import statement's path
    text = rendered(errors)
    assert SECRET not in text and "root:x:0" not in text
    assert "import refused" in err.message


def test_a_symlink_is_judged_by_what_it_points_to(tree):
    root, outside = tree
    (root / "lib" / "shared.mlx").symlink_to(outside / "secret.mlx")  # leaves the root
    (root / "lib" / "notes.mlx").symlink_to(root / "notes.txt")       # reaches a non-.mlx file
    (root / "lib" / "ok.mlx").symlink_to(root / "real.mlx")           # stays inside: fine
    (root / "real.mlx").write_text("let z = 3\n")
    errors = check_import(root, "lib/shared.mlx") + check_import(root, "lib/notes.mlx")
    assert [e.code for e in errors] == ["E013", "E013"]
    assert SECRET not in rendered(errors)
    assert "is a link to a file that is not a .mlx file" in errors[1].message
    assert check_import(root, "lib/ok.mlx") == []


def test_a_symlinked_folder_that_loops_is_one_file_not_an_endless_chain(tree):
    root, _ = tree
    (root / "lib" / "again").symlink_to(root / "lib")
    (root / "lib" / "x.mlx").write_text('import "again/x.mlx"\n')
    errors = check_import(root, "lib/x.mlx")
    assert [e.code for e in errors] == ["E011"]


def test_a_directory_or_fifo_named_mlx_is_refused_without_blocking(tree):
    root, _ = tree
    (root / "dir.mlx").mkdir()
    os.mkfifo(root / "pipe.mlx")
    errors = check_import(root, "dir.mlx") + check_import(root, "pipe.mlx")
    assert [e.code for e in errors] == ["E012", "E012"]
    assert all("not a regular file" in e.message for e in errors)


def test_an_imported_file_that_is_not_utf8_is_refused_at_the_import_with_its_position(tree):
    root, _ = tree
    (root / "lib" / "bin.mlx").write_bytes(b"let a = 1\nlet b = \"" + SECRET.encode() + b"\xff\"\n")
    errors = check_import(root, "lib/bin.mlx")
    assert [e.code for e in errors] == ["E012"]
    assert (errors[0].line, errors[0].column) == (1, 8)
    assert "(first invalid byte at lib/bin.mlx:2:23)" in errors[0].message
    assert SECRET not in rendered(errors)


def test_imports_inside_the_root_and_the_search_path_work(tree, tmp_path, monkeypatch):
    root, _ = tree
    (root / "common.mlx").write_text("let width = 16\n")
    (root / "lib" / "models.mlx").write_text('import "../common.mlx"\nlet deep = width\n')
    (root / "main.mlx").write_text(f'import "lib/models.mlx"\nimport "{root}/common.mlx"\nlet y = deep\n')
    assert load_mlx(root / "main.mlx")["y"] == 16
    # a file in lib/ checked on its own has lib/ as its root: the parent is refused ...
    errors = check(str(root / "lib" / "models.mlx"))
    assert [e.code for e in errors][:1] == ["E013"]  # (then E005: `width` is not defined)
    # ... unless the parent is on $MLDSL_PATH
    monkeypatch.setenv("MLDSL_PATH", os.pathsep.join([str(tmp_path / "missing"), str(root)]))
    assert check(str(root / "lib" / "models.mlx")) == []
    # $MLDSL_PATH is also searched for relative names not found next to the importing file
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "std_layers.mlx").write_text("let hidden = 64\n")
    monkeypatch.setenv("MLDSL_PATH", str(shared))
    (root / "uses.mlx").write_text('import "std_layers.mlx"\nlet h = hidden\n')
    assert load_mlx(root / "uses.mlx")["h"] == 64


def test_imports_nest_at_most_32_files_deep(tmp_path):
    for i in range(40):
        (tmp_path / f"f{i}.mlx").write_text(f'import "f{i + 1}.mlx"\n' if i < 39 else "let end = 1\n")
    errors = check(str(tmp_path / "f0.mlx"))
    assert [e.code for e in errors] == ["E013"]
    assert "more than 32 files deep" in errors[0].message
    assert errors[0].filename.endswith("f32.mlx")


def test_the_cli_refuses_and_shows_nothing(tree, capsys):
    root, outside = tree
    (root / "main.mlx").write_text(f'import "{outside}/secret.txt"\n')
    assert main(["check", "main.mlx"]) == 2
    assert main(["show", "main.mlx"]) == 2
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err
    assert "main.mlx:1:8: error[E013]" in out.err


def test_proc_self_environ_never_reaches_the_output(tmp_path):
    (tmp_path / "env.mlx").write_text('import "/proc/self/environ"\nimport "../../../../../../proc/self/environ.mlx"\n')
    env = {**os.environ, "HOSTILE_SECRET": SECRET}
    proc = subprocess.run([sys.executable, "-m", "mldsl", "check", "env.mlx"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert SECRET not in proc.stdout + proc.stderr
    assert proc.stderr.count("error[E013]") == 2


# ------------------------------------------------------------------------------------------ REPL

@pytest.fixture
def repl(tree):
    import io

    from mldsl.repl.shell import Repl

    out, err = io.StringIO(), io.StringIO()
    return Repl(out=out, err=err, color=False), out, err


def test_repl_load_allows_the_loaded_files_folder_and_nothing_else(tree, tmp_path, repl):
    from mldsl.repl.shell import FAILED, OK

    root, outside = tree
    project = tmp_path / "project"
    project.mkdir()
    (project / "common.mlx").write_text("let width = 8\n")
    (project / "exp.mlx").write_text('import "common.mlx"\nlet w2 = width\n')
    shell, out, err = repl
    # the current folder (root) is not the project: :load still resolves the file's own imports
    assert shell.handle(f":load {project / 'exp.mlx'}") == OK, err.getvalue()
    assert shell.session.value("w2") == 8
    for text in (f'import "{outside}/secret.txt"', 'import "/etc/passwd"',
                 f'import "{outside}/secret.mlx"', f":load {outside / 'secret.txt'}"):
        assert shell.handle(text) == FAILED
    assert SECRET not in out.getvalue() + err.getvalue()
    assert "root:x:0" not in err.getvalue()
    assert err.getvalue().count("error[E013]") == 3
    assert "load reads .mlx and .json files" in err.getvalue()


def test_text_compiled_in_a_deleted_folder_reports_the_import(tmp_path, monkeypatch):
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    errors = mldsl_check_text('import "x.mlx"\nlet a = 1\n')
    assert [e.code for e in errors] == ["E010"]


def mldsl_check_text(text):
    from mldsl.dsl.api import compile_source

    return compile_source(text)[1]
