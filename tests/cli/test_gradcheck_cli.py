"""``mldsl gradcheck FILE [NAME]`` and the REPL's ``:gradcheck``: the table, the worst error, ``--json`` and
the exit status."""
import io
import json

import pytest

from mldsl.cli import main
from mldsl.repl.shell import FAILED, OK, Repl

MLX = '''
experiment small = Experiment(
    model = Sequential([Flatten(), Dense(8, activation="tanh", kernel_regularizer=L2(0.01)), Dropout(0.2),
                        Dense(10, activation="softmax")]),
    data = Digits(),
    training = { optimizer = SGD(learning_rate=0.1) },
)
experiment wide = small with { model.layers[1].units = 12 }
experiment space = small with { model.layers[1].units = oneof([4, 8]) }
'''


@pytest.fixture
def mlx(tmp_path):
    path = tmp_path / "g.mlx"
    path.write_text(MLX)
    return path


def test_prints_a_row_per_parameter_and_the_worst_error(mlx, capsys):
    assert main(["gradcheck", str(mlx), "wide", "--samples", "4", "--batch", "6"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["layer", "type", "parameter", "checked", "max", "rel.", "error", "result"]
    rows = [line.split() for line in lines[2:6]]
    assert [r[:4] for r in rows] == [["model.layers[1]", "Dense", "kernel", "4/768"],
                                     ["model.layers[1]", "Dense", "bias", "4/12"],
                                     ["model.layers[3]", "Dense", "kernel", "4/120"],
                                     ["model.layers[3]", "Dense", "bias", "4/10"]]
    assert all(r[-1] == "pass" and float(r[4]) <= 1e-6 for r in rows)
    assert "note: Dropout layers are disabled during the check" in out
    assert "on 6 training examples; pass at relative error <= 1e-06" in out
    assert "worst relative error: " in out and lines[-1] == "wide: gradients OK"


def test_json_and_file_colon_name(mlx, capsys):
    assert main(["gradcheck", f"{mlx}:small", "--json", "--samples", "3", "--seed", "5"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["experiment"] == "small" and d["passed"] is True and d["dtype"] == "float64"
    assert (d["batch"], d["samples"], d["seed"], d["threshold"], d["eps"]) == (16, 3, 5, 1e-6, 1e-5)
    assert [(p["layer"], p["param"], p["checked"]) for p in d["params"]] == [
        ("model.layers[1]", "kernel", 3), ("model.layers[1]", "bias", 3), ("model.layers[3]", "kernel", 3),
        ("model.layers[3]", "bias", 3)]
    assert d["worst"]["max_rel_error"] == max(p["max_rel_error"] for p in d["params"])
    assert d["notes"][0].startswith("Dropout layers are disabled")


def test_a_failing_check_exits_1(mlx, capsys):
    """A threshold no rounding can meet makes every parameter fail: the exit status says so."""
    assert main(["gradcheck", str(mlx), "--threshold", "1e-30", "--samples", "2"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and out.splitlines()[-1].startswith("small: gradients WRONG for model.layers[1] kernel")


def test_bad_input_is_an_error_without_a_traceback(mlx, capsys):
    assert main(["gradcheck", f"{mlx}:small", "wide"]) == 2
    assert "name the experiment once" in capsys.readouterr().err
    assert main(["gradcheck", str(mlx), "space"]) == 2
    assert "not a search space" in capsys.readouterr().err
    assert main(["gradcheck", str(mlx), "--samples", "0"]) == 2
    err = capsys.readouterr().err
    assert "samples must be an integer >= 1" in err and "Traceback" not in err
    assert main(["gradcheck", str(mlx), "nope"]) == 2


def test_the_repl_command():
    out, err = io.StringIO(), io.StringIO()
    repl = Repl(out=out, err=err, color=False)
    assert repl.handle(MLX.strip().split("\nexperiment wide")[0]) == OK
    assert repl.handle(":gradcheck small --samples 2 --batch 4") == OK
    text = out.getvalue()
    assert "model.layers[3]  Dense  bias" in text and "small: gradients OK" in text
    assert "on 4 training examples" in text
    assert repl.handle(":gradcheck nothing") == FAILED


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_the_numpy_notebook_example_passes(name, capsys):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "numpy_notebook.mlx"
    assert main(["gradcheck", str(example), name, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["passed"] and len(d["params"]) == 4 and d["worst"]["max_rel_error"] < 1e-7


def test_a_model_native_cannot_run_says_what_gradcheck_checks(tmp_path, capsys):
    path = tmp_path / "cnn.mlx"
    path.write_text("""experiment cnn = Experiment(
    model=Sequential([Conv2D(4, 3), Flatten(), Dense(10, activation="softmax")]),
    data=Digits(),
)
""")
    assert main(["gradcheck", str(path), "cnn"]) == 2
    err = capsys.readouterr().err
    assert "Conv2D at model.layers[0]" in err and "It checks what native runs" in err
    assert "--backend" not in err and "Traceback" not in err
