"""The .mlx CLI verbs through ``mldsl.cli.main``: output, exit codes, no tracebacks."""
import json
import subprocess
import sys
import textwrap

import pytest

from mldsl.cli import main

SRC = textwrap.dedent('''\
    let hidden = 64
    experiment base = Experiment(
        model=Sequential([Flatten(), Dense(hidden, activation="relu"), Dense(10)]),
        training={ batch_size = 32, optimizer = Adam(learning_rate=1e-3) },
    )
    patch big { training.batch_size = 256  training.optimizer.learning_rate = 0.01 }
    experiment tuned = base with big, relu_to_elu
    experiment space = base with {
        model.layers[1].units = oneof([32, 64, 128])
        training.optimizer.learning_rate = floatv(1e-4, 1e-1, scale="log")
    }
    search tune over space { trials = 4  objective = maximize("accuracy") }
''')


@pytest.fixture
def mlx(tmp_path, use_fake_registry, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.mlx").write_text(SRC)
    return tmp_path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_check_ok_and_errors(mlx, capsys):
    assert run(capsys, "check", "m.mlx") == (0, "m.mlx: ok\n", "")
    (mlx / "bad.mlx").write_text("let a = Dense(0)\nlet b = Dens(1)\nlet c = (\n")
    code, out, err = run(capsys, "check", "bad.mlx", "m.mlx")
    assert code == 2 and out == "m.mlx: ok\n"
    assert err.count("error[E") == 3 and err.rstrip().endswith("bad.mlx: 3 errors")
    assert "bad.mlx:1:15: error[E024]" in err and " 1 | let a = Dense(0)" in err


def test_check_missing_file(mlx, capsys):
    code, _, err = run(capsys, "check", "nope.mlx")
    assert code == 2 and "no such file" in err


def test_show(mlx, capsys):
    code, out, _ = run(capsys, "show", "m.mlx:tuned", "--hide-defaults")
    assert code == 0 and out == ('experiment tuned = Experiment(\n'
                                 '    model=Sequential([Flatten(), Dense(64, activation="elu"), Dense(10)]),\n'
                                 '    training={ batch_size = 256, optimizer = Adam(learning_rate=0.01) },\n'
                                 ')\n')
    code, out, _ = run(capsys, "show", "m.mlx:tuned", "--json")
    assert json.loads(out)["training"]["batch_size"] == 256
    code, out, _ = run(capsys, "show", "m.mlx:tuned")
    assert out.startswith("experiment tuned = Experiment(") and "batch_size = 256" in out
    assert "num_epochs = 1" in out and "use_bias=true" in out  # every value, defaults included
    assert run(capsys, "show", "m.mlx:tuned", "--mlx")[1] == out
    code, out, _ = run(capsys, "show", "m.mlx")
    assert code == 0 and "let hidden = 64" in out and "search tune over space {" in out
    code, out, err = run(capsys, "show", "m.mlx:tuend")
    assert code == 2 and "did you mean 'tuned'" in err


def test_show_reports_file_errors_as_diagnostics(mlx, capsys):
    (mlx / "bad.mlx").write_text("experiment e = Experiment(model=Sequential([Dense(unit=3)]))\n")
    code, out, err = run(capsys, "show", "bad.mlx")
    assert code == 2 and err.startswith("bad.mlx:1:51: error[E021]: Dense has no parameter 'unit'")


def test_diff_and_as_patch_round_trip(mlx, capsys):
    code, out, _ = run(capsys, "diff", "m.mlx:base", "m.mlx:tuned")
    assert code == 1 and "Diff(left=32, right=256)" in out
    code, out, _ = run(capsys, "diff", "m.mlx:base", "m.mlx:base")
    assert code == 0 and "equal" in out
    code, out, _ = run(capsys, "diff", "m.mlx:base", "m.mlx:tuned", "--as-patch", "upgrade")
    assert out.startswith("patch upgrade {\n") and "    training.batch_size = 256\n" in out
    (mlx / "p.mlx").write_text(SRC + out + "experiment again = base with upgrade\n")
    import mldsl

    m = mldsl.load_mlx("p.mlx")
    assert m["again"] == m["tuned"]


def test_query(mlx, capsys):
    code, out, _ = run(capsys, "query", "m.mlx:base", r"units$")
    assert code == 0 and out == "model.layers[1].units = 64\nmodel.layers[2].units = 10\n"
    code, out, _ = run(capsys, "query", "m.mlx:base", ".", "--where-type", "Dense")
    assert out.splitlines() == ['model.layers[1] = Dense(64, activation="relu", use_bias=true)',
                                'model.layers[2] = Dense(10, activation="linear", use_bias=true)']
    code, out, _ = run(capsys, "query", "m.mlx:base", "nothing_here")
    assert code == 1 and out == ""
    code, _, err = run(capsys, "query", "m.mlx:base", "(")
    assert code == 2 and "bad regular expression" in err


def test_space(mlx, capsys):
    code, out, _ = run(capsys, "space", "m.mlx:tune")
    assert code == 0 and "model.layers[1].units" in out and out.rstrip().endswith("space size: infinite (continuous values)")
    code, out, _ = run(capsys, "space", "m.mlx:base")
    assert code == 0 and out.rstrip() == "base has no hyper primitives (oneof, manyof, floatv, intv): space size 1"


def test_explain(mlx, capsys):
    code, out, _ = run(capsys, "explain", "m.mlx:tuned", "training.optimizer.learning_rate")
    assert code == 0
    assert out.splitlines() == [
        "tuned.training.optimizer.learning_rate = 0.01",
        "  m.mlx:4:64: experiment 'base': 1e-3",
        "  m.mlx:6:75: patch 'big': 0.01",
        "  m.mlx:7:30: patch 'big' applied in experiment 'tuned'",
    ]
    code, _, err = run(capsys, "explain", "m.mlx:tuned", "training.nope")
    assert code == 2 and "error:" in err


def test_fmt(mlx, capsys):
    (mlx / "ugly.mlx").write_text("let   x=[1,2]   # keep me\n")
    code, out, _ = run(capsys, "fmt", "--check", "ugly.mlx")
    assert code == 1 and out == "would reformat ugly.mlx\n"
    code, out, _ = run(capsys, "fmt", "ugly.mlx")
    assert code == 0 and (mlx / "ugly.mlx").read_text() == "let x = [1, 2]  # keep me\n"
    assert run(capsys, "fmt", "--check", "ugly.mlx")[0] == 0
    (mlx / "broken.mlx").write_text("let x = [1,\n")
    code, _, err = run(capsys, "fmt", "broken.mlx")
    assert code == 2 and "error[E002]" in err and (mlx / "broken.mlx").read_text() == "let x = [1,\n"


def test_debug_env_shows_the_traceback(mlx, capsys, monkeypatch):
    from mldsl.dsl.diagnostics import MlxError

    (mlx / "bad.mlx").write_text("let a = Dense(0)\n")
    monkeypatch.setenv("MLDSL_DEBUG", "1")
    with pytest.raises(MlxError):
        main(["show", "bad.mlx"])


def test_dsl_verbs_do_not_import_tensorflow(tmp_path):
    (tmp_path / "e.mlx").write_text('experiment e = Experiment(model=Sequential([Dense(2)]), data=Digits())\n')
    code = ("import sys\nfrom mldsl.cli import main\n"
            f"for argv in (['check', {str(tmp_path / 'e.mlx')!r}], ['show', {str(tmp_path / 'e.mlx')!r}],"
            f" ['fmt', '--check', {str(tmp_path / 'e.mlx')!r}]):\n"
            "    main(argv)\n"
            "print('TF' if 'tensorflow' in sys.modules else 'clean')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "clean", out.stderr


def test_check_shows_a_lines_control_characters_as_symbols_under_the_caret(tmp_path, capsys):
    """A lone carriage return, an escape sequence or a bidirectional override in the shown line went to
    the terminal as they were: the cursor jumped back, colours changed, text was reordered."""
    path = tmp_path / "ctl.mlx"
    path.write_bytes('let a = 1\rlet b = ["\x1b[31m\u202e", Dens(3)]\n'.encode())
    assert main(["check", str(path)]) == 2
    shown = capsys.readouterr().err
    assert not any(c in shown for c in "\r\x1b\u202e"), repr(shown)
    assert "error[E020]" in shown  # the unknown `Dens`
    line, caret = [text for text in shown.splitlines() if " | " in text][:2]
    assert line.endswith('let a = 1\u240dlet b = ["\u241b[31m\ufffd", Dens(3)]')
    assert caret.index("^") == line.index("Dens") and caret.count("^") == 4
