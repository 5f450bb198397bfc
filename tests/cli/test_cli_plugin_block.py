"""`mldsl -p no:NAME VERB ...` keeps one plugin from loading, like pytest's -p no:NAME."""
import subprocess
import sys


def mldsl(*argv):
    return subprocess.run([sys.executable, "-m", "mldsl", *argv], capture_output=True, text=True)


def test_blocking_a_plugin_removes_what_it_contributes(tmp_path):
    mlx = tmp_path / "e.mlx"
    mlx.write_text("let layer = Dense(4)\n")
    assert mldsl("check", str(mlx)).returncode == 0
    blocked = mldsl("-p", "no:std", "check", str(mlx))
    assert blocked.returncode == 2
    assert "unknown component 'Dense'" in blocked.stderr and "mldsl plugins" in blocked.stderr
    listing = mldsl("-p", "no:std", "plugins")
    assert "blocked: std" in listing.stdout


def test_a_malformed_plugin_option_is_a_clear_error():
    out = mldsl("-p", "std", "plugins")
    assert out.returncode == 2 and "-p expects no:NAME" in out.stderr and "Traceback" not in out.stderr
