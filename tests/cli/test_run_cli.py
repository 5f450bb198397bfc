"""`mldsl run` and `mldsl runs` end to end on the digits set (native backend, data that ships)."""
import json
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from mldsl.cli import main
from mldsl.engine.store import Store

EXPERIMENT = """
experiment digits = Experiment(
    model = Sequential([Flatten(), Dense(16, activation="relu"), Dense(10, activation="softmax")]),
    data = Digits(),
    training = {
        batch_size = 64,
        num_epochs = 3,
        optimizer = Adam(learning_rate=0.01),
        validation_split = 0.1,
    },
    seed = 1,
)

experiment slow = digits with { training.num_epochs = 400, training.batch_size = 8 }
"""


@pytest.fixture
def mlx(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default store is ./mldsl.db
    monkeypatch.delenv("MLDSL_STORE", raising=False)
    path = tmp_path / "exp.mlx"
    path.write_text(EXPERIMENT)
    return path


def run_json(capsys, *argv):
    assert main(["run", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_run_records_everything(mlx, capsys):
    record = run_json(capsys, f"{mlx}:digits")
    assert record["backend"] == "native" and record["seed"] == 1
    assert record["metrics"]["accuracy"] > 0.7
    assert [h["epoch"] for h in record["history"]] == [1, 2, 3]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"} <= set(record["history"][0])
    store_path = mlx.parent / "mldsl.db"
    assert store_path.exists()  # the default: ./mldsl.db in the current folder
    with Store(store_path) as store:
        run = store.get_run(record["run_id"])
    assert run.status == "completed" and run.metrics == record["metrics"]
    assert run.experiment_mlx.startswith("experiment digits =")
    assert run.versions["mldsl"] and "numpy" in run.versions
    assert run.versions["plugin:std"] == run.versions["mldsl"]  # the std plugin ships with mldsl
    artifacts = mlx.parent / "runs" / run.id
    assert (artifacts / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (artifacts / "history.csv").read_text().splitlines()[0].startswith("epoch,")
    assert (artifacts / "experiment.mlx").read_text().strip() == run.experiment_mlx.strip()


def test_rerun_reproduces_the_same_metrics(mlx, capsys):
    first = run_json(capsys, str(mlx))
    again = run_json(capsys, "--rerun", first["run_id"], "--store", str(mlx.parent / "mldsl.db"))
    assert again["run_id"] != first["run_id"]
    assert again["metrics"] == first["metrics"] and again["seed"] == first["seed"]


def test_patch_and_set_change_the_run_and_are_recorded(mlx, capsys):
    record = run_json(capsys, str(mlx), "--patch", "change_lr?0.05", "--set", "training.num_epochs=2",
                      "--seed", "7")
    assert len(record["history"]) == 2 and record["seed"] == 7
    with Store(mlx.parent / "mldsl.db") as store:
        run = store.get_run(record["run_id"])
    assert "learning_rate=0.05" in run.experiment_mlx
    assert run.patches == ["change_lr?0.05", "--set training.num_epochs=2"]



def test_an_unquoted_word_in_set_says_a_string_needs_quotes(mlx, capsys):
    assert main(["run", str(mlx), "--set", "training.order=sequential"]) == 2
    err = capsys.readouterr().err
    assert "a string needs quotes" in err and """--set 'training.order="sequential"'""" in err
    assert "Traceback" not in err

def test_runs_lists_shows_and_diffs(mlx, capsys):
    a = run_json(capsys, str(mlx))
    b = run_json(capsys, str(mlx), "--set", "training.num_epochs=1")
    store = str(mlx.parent / "mldsl.db")
    assert main(["runs", "--store", store]) == 0
    listing = capsys.readouterr().out
    assert a["run_id"] in listing and b["run_id"] in listing and "completed" in listing
    assert main(["runs", "show", a["run_id"], "--store", store, "--diff", b["run_id"]]) == 0
    diff = capsys.readouterr().out
    assert "num_epochs" in diff and "metric accuracy" in diff


def test_nan_loss_is_recorded_as_failed_with_a_message(tmp_path, capsys, monkeypatch):
    import numpy as np

    monkeypatch.chdir(tmp_path)

    rng = np.random.default_rng(0)
    x = rng.random((64, 4))
    x[5, 2] = np.nan  # one bad value in the data makes the loss NaN
    np.savez(tmp_path / "bad.npz", x_train=x, y_train=rng.integers(0, 3, 64), x_test=x[:8],
             y_test=rng.integers(0, 3, 8))
    mlx = tmp_path / "nan.mlx"
    mlx.write_text('experiment e = Experiment(model=Sequential([Dense(3, activation="softmax")]), '
                   f'data=Npz("{tmp_path / "bad.npz"}"), training={{num_epochs=2}})\n')
    code = main(["run", str(mlx)])
    err = capsys.readouterr().err
    assert code == 2 and "nan" in err.lower() and "Traceback" not in err
    with Store(mlx.parent / "mldsl.db") as store:
        (run,) = store.list_runs()
    assert run.status == "failed" and "nan" in run.error.lower()


def test_bad_input_exits_2_without_traceback(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing.mlx")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.mlx"
    bad.write_text("experiment x = Experiment(model=Sequential([Dense(0)]), data=Digits())\n")
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "out of range" in err and "Traceback" not in err
    good = tmp_path / "ok.mlx"
    good.write_text(EXPERIMENT)
    assert main(["run", f"{good}:nope"]) == 2
    assert "has no 'nope'" in capsys.readouterr().err


def test_ctrl_c_records_the_run_as_interrupted(mlx):
    """A real SIGINT in the middle of training: exit 130, the run stored as interrupted with its epochs."""
    store_path = mlx.parent / "mldsl.db"
    proc = subprocess.Popen([sys.executable, "-m", "mldsl", "run", f"{mlx}:slow"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=mlx.parent)
    deadline = time.time() + 60
    try:
        while time.time() < deadline:  # wait until at least one epoch is stored
            time.sleep(0.2)
            if store_path.exists():
                try:
                    con = sqlite3.connect(str(store_path))
                    rows = con.execute("SELECT history FROM runs").fetchall()
                    con.close()
                except sqlite3.Error:
                    continue
                if rows and json.loads(rows[0][0]):
                    break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    with Store(store_path) as store:
        (run,) = store.list_runs()
    assert run.status == "interrupted" and len(run.history) >= 1
    assert (mlx.parent / "runs" / run.id / "history.csv").exists()
