"""A plugin layer with its own NumPy math, from an installed distribution, through the CLI: it trains on the
native backend, ``mldsl gradcheck`` checks it (and fails a wrong backward), and its errors name the
layer's path and the plugin."""
import json

import pytest

from mldsl import cli
from mldsl.registry import reset_registry

SCALE = '''
import numpy as np
import mldsl
from mldsl import components as c, symbolic as sym


@sym.members([("bug", sym.typing.Enum("none", ["none", "backward", "nan"]), "What to get wrong.")])
class Scale(c.Layer):
    """y = x * scale, one learnable scale per unit."""
    type_name = "Scale"


def lower(component):
    from mldsl.backends.native.plan import NumpyLayerSpec

    bug = component.bug

    def forward(params, x, training):
        y = x * params["scale"]
        return (y * np.nan if bug == "nan" else y), x

    def backward(params, x, dy):
        dscale = (x * dy).sum(axis=0)
        return dy * params["scale"], {"scale": dscale * (1.5 if bug == "backward" else 1.0)}

    return NumpyLayerSpec(forward, backward, {"scale": lambda units, rng: rng.uniform(0.5, 1.5, units)},
                          name="Scale")


@mldsl.hookimpl
def mldsl_components():
    return [Scale]


@mldsl.hookimpl
def mldsl_lowerings(backend):
    return {Scale: lower} if backend == "native" else None
'''

MLX = '''
experiment {name} = Experiment(
    model = Sequential([Flatten(), Dense(12), Scale(bug="{bug}"), Dense(10, activation="softmax")]),
    data = Digits(),
    training = {{ batch_size = 64, num_epochs = 3, optimizer = Adam(learning_rate=0.01) }},
    backend = "native",
)
'''


@pytest.fixture
def mlx(fake_site, tmp_path):
    reset_registry()
    fake_site("scale-dist", "0.2", {"wobbly": "scale_plugin"}, {"scale_plugin": SCALE})
    path = tmp_path / "scale.mlx"
    path.write_text("".join(MLX.format(name=f"with_{b}", bug=b) for b in ("none", "backward", "nan")))
    yield path
    reset_registry()


def _run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_plugin_layer_trains_on_native_and_its_gradients_check(mlx, capsys):
    code, out, err = _run(capsys, "run", f"{mlx}:with_none", "--no-store", "--json")
    assert code == 0, err
    record = json.loads(out)
    assert record["backend"] == "native" and record["metrics"]["accuracy"] > 0.8
    code, out, err = _run(capsys, "gradcheck", mlx, "with_none", "--json")
    assert code == 0, err
    rows = json.loads(out)["params"]
    assert [(r["layer"], r["type"], r["param"], r["passed"]) for r in rows][2] == (
        "model.layers[2]", "Scale (plugin wobbly)", "scale", True)


def test_a_wrong_backward_fails_the_check_at_that_layer(mlx, capsys):
    code, out, _ = _run(capsys, "gradcheck", mlx, "with_backward")
    assert code == 1
    failed = [line.split()[:5] for line in out.splitlines() if line.rstrip().endswith("FAIL")]
    assert failed == [["model.layers[2]", "Scale", "(plugin", "wobbly)", "scale"]]
    assert out.splitlines()[-1] == "with_backward: gradients WRONG for model.layers[2] scale"


def test_a_nan_from_the_plugin_names_the_layer_and_the_plugin(mlx, capsys):
    code, _, err = _run(capsys, "run", f"{mlx}:with_nan", "--no-store")
    assert code == 2
    assert "Scale (at model.layers[2], plugin wobbly): the output of its forward holds NaN or inf values" in err
    code, _, err = _run(capsys, "gradcheck", mlx, "with_nan")
    assert code == 2 and "Scale (at model.layers[2], plugin wobbly)" in err and "Traceback" not in err
