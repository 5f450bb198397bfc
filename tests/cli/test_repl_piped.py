"""``mldsl repl`` with piped stdin: the same statements and commands, no prompts, no colour, exit code
0 when every input succeeded and 2 otherwise."""
import os
import subprocess
import sys

SCRIPT = '''\
# a comment line
let hidden = 12

experiment m = Experiment(
    model = Sequential([Dense(hidden, activation="relu")]),
    data = Digits(),
)
:show m.model
let broken = Dense(unit=3)
experiment m2 = m with {
    training.batch_size = 8
}
:show m2 training.batch_size
'''


def run_repl(stdin, *args, cwd):
    env = dict(os.environ, PYTHONWARNINGS="ignore", MLDSL_HISTORY=str(cwd / "history"))
    env.pop("NO_COLOR", None)
    return subprocess.run([sys.executable, "-m", "mldsl", "repl", *args], input=stdin, capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=60)


def test_repl_piped_runs_script_and_reports_errors(tmp_path):
    proc = run_repl(SCRIPT, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == 'Sequential([Dense(12, activation="relu")])\n8\n'
    assert "mlx>" not in proc.stdout and "\x1b" not in proc.stdout + proc.stderr
    # the error names the script's line, with the caret under the bad parameter
    assert "<stdin>:9:20: error[E021]: Dense has no parameter 'unit'" in proc.stderr
    assert " 9 | let broken = Dense(unit=3)" in proc.stderr
    assert "|                    ^^^^" in proc.stderr
    assert not (tmp_path / "history").exists()  # no history file without a terminal


def test_repl_piped_success_and_files(tmp_path):
    (tmp_path / "defs.mlx").write_text('let width = 5\nexperiment base = Experiment(model=Sequential('
                                       '[Dense(width)]), data=Digits())\n')
    proc = run_repl(":show base.model.layers[0]\nlet w2 = width\n:show w2\n:quit\n:show nothing\n",
                    "defs.mlx", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["loaded defs.mlx: width, base", "Dense(5)", "5"]
    assert proc.stderr == ""
