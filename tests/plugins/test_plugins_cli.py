"""``mldsl plugins``, ``mldsl schema`` and ``mldsl --version -v``."""
import pytest

from mldsl import cli
from mldsl.registry import reset_registry

BROKEN = "raise RuntimeError('this plugin is broken on purpose')\n"
GOOD = '''
import mldsl
from mldsl import components as c, symbolic as sym

@sym.members([("greeting", sym.typing.Str("hi"), "What to say.")])
class Greeter(c.Layer):
    """Says hello."""
    type_name = "Greeter"

@mldsl.hookimpl
def mldsl_components():
    return [Greeter]
'''


@pytest.fixture(autouse=True)
def fresh_registry():
    reset_registry()
    yield
    reset_registry()


def _run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plugins_lists_std_with_version_and_contributions(capsys):
    code, out, _ = _run(capsys, "plugins")
    assert code == 0
    assert out.startswith("std  mldsl 0.1.0  (mldsl_std)")
    assert "    layer: Activation, BatchNormalization, Conv2D, Dense, Dropout," in out
    assert ("  datasets: Centered, Cifar10, Cifar100, Csv, Digits, Mnist, Npz, RandomLabels, Standardized, Subset, "
            "Synthetic") in out
    assert "optimizer: Adagrad, Adam, RMSprop, SGD" in out


@pytest.mark.parametrize("kind, present, absent", [
    ("datasets", "datasets: Centered, Cifar10", "layer:"),
    ("components", "layer: Activation", "datasets:"),
    ("backends", "backends:", "layer:"),
])
def test_plugins_kind_filter(capsys, kind, present, absent):
    code, out, _ = _run(capsys, "plugins", "--kind", kind)
    assert code == 0 and present in out and absent not in out


def test_plugins_shows_failed_and_blocked_plugins(capsys, fake_site, monkeypatch):
    fake_site("broken-dist", "0.3", {"broken": "broken_plugin"}, {"broken_plugin": BROKEN})
    fake_site("greeter-dist", "2.1", {"greeter": "greeter_plugin"}, {"greeter_plugin": GOOD})
    fake_site("blocked-dist", "1.0", {"blocked": "blocked_plugin"}, {"blocked_plugin": GOOD})
    monkeypatch.setenv("MLDSL_PLUGINS_BLOCK", "blocked")
    code, out, err = _run(capsys, "plugins")
    assert code == 0
    assert "greeter  greeter-dist 2.1  (greeter_plugin)\n  components:\n    layer: Greeter" in out
    assert "failed to load:\n  broken  broken-dist 0.3: RuntimeError: this plugin is broken on purpose" in out
    assert "blocked: blocked (blocked-dist 1.0)" in out
    code, out, _ = _run(capsys, "schema", "Greeter")
    assert code == 0 and "Greeter  (layer; plugin greeter, greeter-dist 2.1)" in out
    assert "greeting: Str(default='hi') = 'hi'" in out and "What to say." in out


def test_schema_prints_fields_specs_defaults_and_docs(capsys):
    code, out, _ = _run(capsys, "schema", "Dense")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Dense  (layer; plugin std, mldsl 0.1.0)"
    assert "A fully connected layer" in out
    assert "  units: Int(min_value=1)  (required)" in lines
    assert "      Number of output units." in lines
    assert "  use_bias: Bool(default=True) = True" in lines
    assert "  kernel_initializer: Str(default='glorot_uniform') = 'glorot_uniform'" in lines
    code, out, _ = _run(capsys, "schema", "std.Experiment")
    assert code == 0 and "training: Dict(" in out and "backend: Enum(default='auto'" in out


def test_schema_unknown_name_suggests(capsys):
    code, out, err = _run(capsys, "schema", "Dens")
    assert code == 2 and out == ""
    assert "unknown component 'Dens'; did you mean 'Dense'?" in err and "mldsl plugins" in err
    code, _, err = _run(capsys, "schema", "os.system")
    assert code == 2 and "never imports modules" in err


def test_version_verbose_lists_plugin_distributions(capsys, fake_site):
    fake_site("greeter-dist", "2.1", {"greeter": "greeter_plugin"}, {"greeter_plugin": GOOD})
    code, out, _ = _run(capsys, "--version", "-v")
    assert code == 0
    assert out.splitlines()[:3] == ["mldsl 0.1.0", "plugins:", "  mldsl 0.1.0 (entry points: std)"]
    assert "  greeter-dist 2.1 (entry points: greeter)" in out
    code, out, _ = _run(capsys, "--version")
    assert out == "mldsl 0.1.0\n"
