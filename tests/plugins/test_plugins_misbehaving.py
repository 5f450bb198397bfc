"""Plugins that call ``sys.exit()``, raise a ``BaseException`` or hang, pip-installed for real.

The throwaway distributions are built from source folders written here and installed with
``pip install --no-index --no-deps --no-build-isolation --target`` into a temporary folder that only the
``mldsl`` subprocesses of this module see (on ``PYTHONPATH``): nothing touches the environment's own
site-packages, and nothing needs the network.
"""
import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("pip") is None, reason="pip is not installed")

GREETER = '''
import mldsl
from mldsl import components as c

class Greeter(c.Layer):
    """Says hello."""
    type_name = "Greeter"

@mldsl.hookimpl
def mldsl_components():
    return [Greeter]
'''

SURVIVOR = GREETER.replace("Greeter", "Survivor")

#: distribution -> (entry points, modules); the names say what each plugin does wrong
DISTRIBUTIONS = {
    "mldsl-greeter": ({"greeter": "greeter_plugin"}, {"greeter_plugin": GREETER}),
    "mldsl-exiter": ({"exiter": "exiter_plugin"}, {"exiter_plugin": "import sys\nsys.exit(3)\n"}),
    "mldsl-odd": ({"odd": "odd_plugin"}, {"odd_plugin": '''
        class Boom(BaseException):
            """Not an Exception: a bare `except Exception` lets it through."""

        raise Boom("odd things happen")
    '''}),
    # the plugin's own hook calls sys.exit at registration; its other part must still register
    "mldsl-hookexit": ({"hookexit": "hookexit_plugin"}, {
        "hookexit_plugin": '''
            import sys
            import mldsl

            mldsl_plugins = ("hookexit_survivor",)

            @mldsl.hookimpl
            def mldsl_patchers():
                sys.exit("bye")
        ''',
        "hookexit_survivor": SURVIVOR,
    }),
    "mldsl-hang": ({"hang": "hang_plugin"}, {"hang_plugin": "import threading\nthreading.Event().wait()\n"}),
}

MLX = '''
experiment e = Experiment(
    model = Sequential([Flatten(), Greeter(), Survivor(), Dense(3, activation="softmax")]),
    data = Synthetic(num_samples=40, input_shape=[4], num_classes=3),
)
'''


def _write_distribution(root: Path, dist: str, entry_points: dict, modules: dict) -> Path:
    src = root / dist
    src.mkdir()
    eps = "".join(f'{name} = "{target}"\n' for name, target in entry_points.items())
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{dist}"\nversion = "0.1"\n\n'
        f'[tool.setuptools]\npy-modules = {list(modules)!r}\n\n'
        f'[project.entry-points.mldsl]\n{eps}')
    for module, source in modules.items():
        (src / f"{module}.py").write_text(textwrap.dedent(source))
    return src


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A folder holding the pip-installed distributions above (one pip run)."""
    root = tmp_path_factory.mktemp("misbehaving")
    sources = [str(_write_distribution(root, dist, eps, mods)) for dist, (eps, mods) in DISTRIBUTIONS.items()]
    target = root / "site"
    res = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                          "--no-index", "--no-deps", "--no-build-isolation", "--target", str(target), *sources],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert sorted(p.name for p in target.glob("*.dist-info")) == [
        f"{d.replace('-', '_')}-0.1.dist-info" for d in sorted(DISTRIBUTIONS)]
    (root / "model.mlx").write_text(MLX)
    return root


def _env(site: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLDSL_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site / "site")] + [p for p in [env.get("PYTHONPATH")] if p])
    env.update(extra)
    return env


def _mldsl(site: Path, *args, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mldsl", *args], capture_output=True, text=True, timeout=120,
                          cwd=site, env=_env(site, **env))


def test_sys_exit_and_base_exceptions_are_reported_by_name_and_everything_else_works(site):
    res = _mldsl(site, "check", "model.mlx", MLDSL_PLUGINS_BLOCK="hang")
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout == "model.mlx: ok\n"
    lines = res.stderr.splitlines()
    warnings = [w for w in lines if w.startswith("mldsl: warning:")]
    assert ("mldsl: warning: plugin exiter (mldsl-exiter 0.1) failed to load and is ignored: "
            "SystemExit: the plugin called sys.exit(3). Run `mldsl plugins` to see all plugins; to stop "
            "loading it, use `mldsl -p no:exiter` or set MLDSL_PLUGINS_BLOCK=exiter.") in warnings
    assert any(w.startswith("mldsl: warning: plugin odd (mldsl-odd 0.1) failed to load and is ignored: "
                            "Boom: odd things happen.") for w in warnings)
    assert any(w.startswith("mldsl: warning: plugin hookexit (mldsl-hookexit 0.1) failed to load and is "
                            "ignored: SystemExit: the plugin called sys.exit('bye').") for w in warnings)
    assert len(warnings) == 3, res.stderr  # one line each, no Python file:line form, no traceback
    # the rest: the note that the plugin's components have no native lowering (check's backend notes)
    assert all(": note: backend auto:" in w for w in lines if w not in warnings), res.stderr

    res = _mldsl(site, "plugins", MLDSL_PLUGINS_BLOCK="hang")
    assert res.returncode == 0 and res.stderr == "", res.stderr
    out = res.stdout
    assert "greeter  mldsl-greeter 0.1  (greeter_plugin)\n  components:\n    layer: Greeter" in out
    assert ("hookexit  mldsl-hookexit 0.1  (hookexit_plugin)\n  components:\n    layer: Survivor\n"
            "  FAILED part hookexit: SystemExit: the plugin called sys.exit('bye')") in out
    assert ("failed to load:\n  exiter  mldsl-exiter 0.1: SystemExit: the plugin called sys.exit(3)\n"
            "  odd  mldsl-odd 0.1: Boom: odd things happen\n") in out
    assert "blocked: hang (mldsl-hang 0.1)" in out

    res = _mldsl(site, "schema", "Survivor", MLDSL_PLUGINS_BLOCK="hang")
    assert res.returncode == 0 and "Survivor  (layer; plugin hookexit, mldsl-hookexit 0.1)" in res.stdout


def test_version_lists_every_distribution_without_importing_any(site):
    res = _mldsl(site, "--version", "-v")  # the hanging plugin is installed and not blocked
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[:3] == ["mldsl 0.1.0", "plugins:", "  mldsl 0.1.0 (entry points: std)"]
    for dist, (eps, _) in DISTRIBUTIONS.items():
        assert f"  {dist} 0.1 (entry points: {', '.join(eps)})" in lines


def _read_stderr_until(proc: subprocess.Popen, needle: str, timeout: float):
    """Lines of ``proc``'s stderr up to the first containing ``needle`` and the seconds it took, or
    (all lines read, None) after ``timeout``."""
    lines, found = [], threading.Event()

    def pump():
        for line in proc.stderr:
            lines.append(line)
            if needle in line:
                found.set()
                return

    started = time.monotonic()
    threading.Thread(target=pump, daemon=True).start()
    return lines, (time.monotonic() - started if found.wait(timeout) else None)


def test_a_hanging_plugin_is_named_on_stderr_and_ctrl_c_says_how_to_skip_it(site):
    proc = subprocess.Popen([sys.executable, "-m", "mldsl", "check", "model.mlx"], cwd=site, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_env(site, MLDSL_PLUGIN_IMPORT_WARN_S="0.5"))
    try:
        lines, waited = _read_stderr_until(proc, "is still loading", timeout=90)
        assert waited is not None, f"no message naming the hanging plugin; stderr: {''.join(lines)}"
        assert lines[-1] == ("mldsl: plugin 'hang' (mldsl-hang 0.1) is still loading after 0.5 s (importing "
                             "hang_plugin). If it hangs, press Ctrl-C and skip it with `mldsl -p no:hang ...` "
                             "or MLDSL_PLUGINS_BLOCK=hang; MLDSL_PLUGIN_IMPORT_WARN_S=0 silences this.\n")
        assert proc.poll() is None  # still waiting: a hung import is not abandoned
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130 and out == ""
    assert err.strip().splitlines()[-1] == (
        "mldsl: interrupted while loading plugin 'hang' (mldsl-hang 0.1, importing hang_plugin); to skip it, "
        "use `mldsl -p no:hang ...` or set MLDSL_PLUGINS_BLOCK=hang")
    assert "Traceback" not in err

    for args, env in ((("-p", "no:hang"), {}), ((), {"MLDSL_PLUGINS_BLOCK": "hang"})):
        res = _mldsl(site, *args, "check", "model.mlx", **env)
        assert res.returncode == 0 and res.stdout == "model.mlx: ok\n", res.stderr
        assert "hang" not in res.stderr
