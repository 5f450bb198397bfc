"""The example third-party plugin ``plugins/examples/mldsl-hello``, pip-installed for real.

Skipped only when pip itself is unavailable; an install that fails is a test failure.
"""
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mldsl.registry import build_registry, reset_registry

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "plugins" / "examples" / "mldsl-hello"

pytestmark = pytest.mark.skipif(importlib.util.find_spec("pip") is None, reason="pip is not installed")

MLX = '''
experiment base = Experiment(
    model = Sequential([Flatten(), HelloDense(16, dropout=0.1), Dense(3, activation="softmax")]),
    data = Synthetic(num_samples=120, input_shape=[6], num_classes=3, seed=1),
    training = { batch_size = 16, num_epochs = 2 },
)
experiment more = base with 'hello_dropout?rate=0.3'
experiment prelu = Experiment(
    model = Sequential([Flatten(), Dense(16), HelloPReLU(alpha=0.1), Dense(3, activation="softmax")]),
    data = Synthetic(num_samples=120, input_shape=[6], num_classes=3, seed=1),
    training = { batch_size = 16, num_epochs = 3, optimizer = Adam(learning_rate=0.01) },
)
'''


def _pip(*args):
    return subprocess.run([sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "-q"],
                          capture_output=True, text=True, timeout=240)


class HelloDist:
    """Installs / uninstalls mldsl-hello (built from a copy, so the source tree stays clean)."""

    def __init__(self, tmp: Path):
        self.src = tmp / "mldsl-hello"
        shutil.copytree(SOURCE, self.src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        self.installed = False

    def install(self):
        if not self.installed:
            res = _pip("install", "--no-build-isolation", "--no-deps", str(self.src))
            assert res.returncode == 0, res.stdout + res.stderr
            self.installed = True
            importlib.invalidate_caches()
            reset_registry()

    def uninstall(self):
        if self.installed:
            res = _pip("uninstall", "-y", "mldsl-hello")
            assert res.returncode == 0, res.stdout + res.stderr
            self.installed = False
            for name in [m for m in sys.modules if m == "mldsl_hello" or m.startswith("mldsl_hello.")]:
                del sys.modules[name]
            importlib.invalidate_caches()
            reset_registry()


@pytest.fixture(scope="module")
def hello(tmp_path_factory):
    if _pip("show", "mldsl-hello").returncode == 0:
        pytest.fail("mldsl-hello is already installed in this environment; uninstall it first "
                    "(pip uninstall mldsl-hello) so this test can check installing and removing it")
    dist = HelloDist(tmp_path_factory.mktemp("hello"))
    dist.install()
    yield dist
    dist.uninstall()


def _mldsl(*args, cwd=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLDSL_")}
    return subprocess.run([sys.executable, "-m", "mldsl", *args], capture_output=True, text=True,
                          timeout=240, cwd=cwd, env=env)


def test_mldsl_plugins_lists_hello_with_version_and_contributions(hello):
    hello.install()
    res = _mldsl("plugins")
    assert res.returncode == 0, res.stderr
    block = res.stdout[res.stdout.index("hello  mldsl-hello 0.1.0  (mldsl_hello)"):]
    assert block.splitlines()[1:7] == ["  components:", "    layer: HelloDense, HelloPReLU",
                                       "  patchers: hello_dropout", "  lowerings:", "    keras: HelloDense, HelloPReLU",
                                       "    native: HelloDense, HelloPReLU"]
    res = _mldsl("plugins", "--kind", "patchers")
    assert "hello  mldsl-hello 0.1.0  (mldsl_hello)\n  patchers: hello_dropout" in res.stdout
    res = _mldsl("--version", "-v")
    assert "  mldsl-hello 0.1.0 (entry points: hello)" in res.stdout.splitlines()
    res = _mldsl("schema", "HelloDense")
    assert res.returncode == 0 and "HelloDense  (layer; plugin hello, mldsl-hello 0.1.0)" in res.stdout
    assert "dropout: FloatRange(default=0.0, min_value=0.0, max_value=1.0, max_inclusive=False)" in res.stdout


def test_hello_component_resolves_validates_and_round_trips(hello):
    hello.install()
    from mldsl import symbolic as sym
    from mldsl.errors import ValidationError

    reg = build_registry()
    cls = reg.resolve("HelloDense", kind="layer")
    assert reg.resolve("hello.HelloDense") is cls and reg.entry("HelloDense").plugin == "hello"
    layer = cls(8, dropout=0.25)
    assert sym.from_json(json.loads(json.dumps(layer.to_json())), resolver=reg.json_resolver) == layer
    with pytest.raises(ValidationError, match=r"\(path=dropout\)"):
        cls(8, dropout=1.0)
    native = reg.lowering("native", cls)(layer)
    assert [type(s).__name__ for s in native] == ["DenseSpec", "DropoutSpec"] and native[1].rate == 0.25
    assert reg.lowering("keras", cls).__name__ == "lower_keras"


def test_mlx_file_uses_the_hello_component_and_patcher(hello):
    hello.install()
    import mldsl

    module = mldsl.parse(MLX, filename="hello.mlx")
    more = module["more"]
    assert type(more.model.layers[1]).type_name == "HelloDense"
    assert (module["base"].model.layers[1].dropout, more.model.layers[1].dropout) == (0.1, 0.3)


def test_mlx_with_hello_runs_on_the_native_backend(hello, tmp_path):
    hello.install()
    (tmp_path / "hello.mlx").write_text(MLX)
    res = _mldsl("run", "hello.mlx:more", "--backend", "native", "--no-store", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "accuracy" in res.stdout and "loss" in res.stdout


def test_after_uninstalling_the_component_is_unknown_with_the_plugins_hint(hello, tmp_path):
    hello.install()
    hello.uninstall()
    (tmp_path / "hello.mlx").write_text(MLX)
    res = _mldsl("check", "hello.mlx", cwd=tmp_path)
    assert res.returncode == 2
    assert "unknown component 'HelloDense'" in res.stderr + res.stdout
    assert "run `mldsl plugins` to list what is installed" in res.stderr + res.stdout
    res = _mldsl("plugins")
    assert "hello" not in res.stdout
    from mldsl.errors import UnknownComponentError

    with pytest.raises(UnknownComponentError, match=r"unknown component 'HelloDense'.*mldsl plugins"):
        build_registry().resolve("HelloDense")


def test_hello_prelu_brings_its_own_numpy_math_to_the_native_backend(hello, tmp_path):
    hello.install()
    (tmp_path / "hello.mlx").write_text(MLX)
    res = _mldsl("run", "hello.mlx:prelu", "--backend", "native", "--json", "--store", "runs.db", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    record = json.loads(res.stdout)
    import numpy as np

    with np.load(tmp_path / record["artifacts"] / "model" / "layer_params.npz", allow_pickle=False) as saved:
        alpha = saved["layers[2].alpha"]
    assert alpha.shape == (16,) and not np.allclose(alpha, 0.1)       # learned by the optimizer
    res = _mldsl("gradcheck", "hello.mlx", "prelu", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)["params"]
    assert [(r["layer"], r["type"], r["param"], r["passed"]) for r in rows][2] == (
        "model.layers[2]", "HelloPReLU (plugin hello)", "alpha", True)


def test_hello_prelu_lowers_to_keras_prelu(hello):
    hello.install()
    reg = build_registry()
    cls = reg.resolve("HelloPReLU", kind="layer")
    assert reg.lowering("keras", cls).__name__ == "lower_prelu_keras"
    spec = reg.lowering("native", cls)(cls(alpha=0.3))
    assert type(spec).__name__ == "NumpyLayerSpec" and spec.name == "HelloPReLU"


def test_summary_counts_the_hello_layers_parameters(hello, tmp_path):
    hello.install()
    (tmp_path / "hello.mlx").write_text(MLX)
    res = _mldsl("summary", "hello.mlx", "prelu", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)["layers"]
    assert [(r["type"], r["params"]) for r in rows][1:] == [("Dense", 6 * 16 + 16), ("HelloPReLU", 16),
                                                            ("Dense", 16 * 3 + 3)]
    res = _mldsl("summary", "hello.mlx", "base", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert [r["params"] for r in json.loads(res.stdout)["layers"]][1] == 6 * 16 + 16
