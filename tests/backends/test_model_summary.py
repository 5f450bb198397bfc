"""``mldsl summary`` / ``:summary`` / ``mldsl.summary``: each layer's output shape and parameter count from the
symbolic model, equal to what Keras builds for the same model (``count_params``, output shapes)."""
import importlib.util
import io
import json
import os
import subprocess
import sys

import pytest

os.environ.setdefault("MLDSL_TF_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import mldsl  # noqa: E402
from mldsl.cli import main  # noqa: E402
from mldsl.errors import MldslError  # noqa: E402
from mldsl.registry import get_registry  # noqa: E402

HAS_TF = importlib.util.find_spec("tensorflow") is not None


def R(name):
    return get_registry().resolve(name)


def experiment(layers, input_shape=(8, 8)):
    data = R("Synthetic")(num_samples=20, input_shape=list(input_shape), num_classes=3)
    return R("Experiment")(model=R("Sequential")(layers), data=data, training={"num_epochs": 0}, backend="keras")


MODELS = {
    "mlp": lambda: [R("Flatten")(), R("Dense")(16, activation="relu"), R("Dropout")(0.3),
                    R("Dense")(3, activation="softmax")],
    "no_bias_prelu": lambda: [R("Flatten")(), R("Dense")(7, use_bias=False, activation=R("PReLU")()),
                              R("Activation")(R("PReLU")()), R("Dense")(3, activation="softmax")],
    "dense_on_rows": lambda: [R("Dense")(5), R("Flatten")(), R("Dense")(3, activation="softmax")],
    "cnn": lambda: [R("Conv2D")(4, 3, activation="relu"), R("MaxPooling2D")(), R("BatchNormalization")(),
                    R("Flatten")(), R("Dense")(3, activation="softmax")],
    "cnn_same_strided": lambda: [R("Conv2D")(5, [3, 2], strides=[2, 1], padding="same"),
                                 R("SeparableConv2D")(6, 2, padding="valid"),
                                 R("MaxPooling2D")(pool_size=[2, 3], strides=1, padding="same"),
                                 R("Flatten")(), R("Dense")(3, activation="softmax")],
}


def test_summary_of_an_mlp_on_digits():
    exp = R("Experiment")(model=R("Sequential")(MODELS["mlp"]()[:3] + [R("Dense")(10, activation="softmax")]),
                          data=R("Digits")())
    s = mldsl.summary(exp)
    assert s.input_shape == (8, 8)
    assert [(r.path, r.type, r.output_shape, r.params) for r in s.rows] == [
        ("model.layers[0]", "Flatten", (64,), 0), ("model.layers[1]", "Dense", (16,), 64 * 16 + 16),
        ("model.layers[2]", "Dropout", (16,), 0), ("model.layers[3]", "Dense", (10,), 16 * 10 + 10)]
    assert s.total == 1210 and "total params: 1,210" in str(s) and "(None, 16)" in str(s)


@pytest.mark.skipif(not HAS_TF, reason="TensorFlow is not installed")
@pytest.mark.parametrize("name", sorted(MODELS))
def test_parameter_counts_and_shapes_equal_keras(name):
    from mldsl.backends.keras import KerasBackend

    exp = experiment(MODELS[name]())
    s = mldsl.summary(exp)
    model = KerasBackend().prepare(exp).model
    assert s.total == model.count_params()
    assert s.rows[-1].output_shape == tuple(model.output_shape[1:])
    if len(model.layers) == len(s.rows):
        assert [r.output_shape for r in s.rows] == [tuple(l.output.shape[1:]) for l in model.layers]


def test_summary_imports_no_tensorflow_and_says_where_a_layer_does_not_fit(tmp_path):
    code = ("import sys, mldsl\n"
            "from mldsl.registry import get_registry\nR = get_registry().resolve\n"
            "e = R('Experiment')(model=R('Sequential')([R('Flatten')(), R('Dense')(3)]), data=R('Digits')())\n"
            "assert mldsl.summary(e).total == 195\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    bad = experiment([R("Flatten")(), R("Conv2D")(4, 3), R("Dense")(3)])
    with pytest.raises(MldslError, match=r"model.layers\[1\] \(Conv2D\) gets inputs of shape \(None, 64\).*images"):
        mldsl.summary(bad)


MLX = """
experiment small = Experiment(
    model = Sequential([Flatten(), Dense(32, activation="relu"), Dense(10, activation="softmax")]),
    data = Digits(),
)
experiment wide = small with { model.layers[1].units = 64 }
experiment subsets = small with { data = Subset(Digits(), fraction=oneof([0.5, 1.0])) }
"""


@pytest.fixture
def mlx(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.mlx").write_text(MLX)
    return tmp_path / "m.mlx"


def test_cli_summary_prints_the_table_and_json(mlx, capsys):
    assert main(["summary", str(mlx), "wide"]) == 0
    out = capsys.readouterr().out
    assert "model.layers[1]  Dense" in out and "(None, 64)" in out and "total params: 4,810" in out
    assert main(["summary", f"{mlx}:small", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total_params"] == 64 * 32 + 32 + 330 and data["layers"][1]["output_shape"] == [32]
    assert main(["summary", str(mlx), "--set", "model.layers[1].units=8", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total_params"] == 64 * 8 + 8 + 90
    assert main(["summary", f"{mlx}:small", "wide"]) == 2
    assert "once" in capsys.readouterr().err


def test_summary_of_a_space_over_the_data_is_a_message(mlx, capsys):
    assert main(["summary", str(mlx), "subsets"]) == 2
    assert "the dataset is a search space" in capsys.readouterr().err
    assert main(["summary", str(mlx), "subsets", "--set", "data.fraction=0.5"]) == 0
    assert "total params: 2,410" in capsys.readouterr().out


def test_repl_summary(mlx):
    from mldsl.repl.shell import FAILED, OK, Repl

    out, err = io.StringIO(), io.StringIO()
    repl = Repl(out=out, err=err, color=False)
    assert repl.handle(f'import "{mlx.name}"') == OK
    assert repl.handle(":summary small") == OK
    assert "(None, 32)" in out.getvalue() and "total params: 2,410" in out.getvalue()
    assert repl.handle(":summary nothing") == FAILED
