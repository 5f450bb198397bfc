"""`mldsl trials` and `mldsl search` on the command line."""
import json

import pytest

import search_testlib as L
from mldsl.cli import main
from mldsl.engine.search import best_trial, run_search
from mldsl.engine.store import Store
from mldsl.hyper.random_search import Random


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "mldsl.db"
    run_search(L.raw_space(), name="tune", algorithm=Random(), trials=6, objective="acc", store=str(path),
               evaluate=L.ev_flaky, seed=5)
    return path


def test_trials_table_shows_every_trial_and_the_best(store, capsys):
    assert main(["trials", str(store)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("study 'tune': maximize 'acc', algorithm random, 6 trials")
    assert lines[1].split() == ["id", "DNA", "acc", "status", "time", "note"]
    rows = [line for line in lines if line[:1].isdigit()]
    assert [r.split()[0] for r in rows] == [str(i) for i in range(6)]
    assert "failed" in out and "RuntimeError: boom" in out
    with Store(store) as s:
        best = best_trial(s.trials(s.get_study("tune")), "maximize")
    assert f"best: trial {best.number} with acc=" in out
    assert '"lr":' in out  # the best experiment, as recorded


def test_trials_json_and_plot(store, tmp_path, capsys):
    png = tmp_path / "plot.png"
    assert main(["trials", str(store), "--study", "tune", "--json", "--plot", str(png)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["study"] == "tune" and len(data["trials"]) == 6
    assert {"number", "dna", "status", "metric", "duration", "error"} <= set(data["trials"][0])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_trials_errors_are_clear(store, tmp_path, capsys):
    assert main(["trials", str(tmp_path / "nope.db")]) == 2
    assert "no store at" in capsys.readouterr().err
    assert main(["trials", str(store), "--study", "tun"]) == 2
    assert "no study named 'tun'" in capsys.readouterr().err
    bad = tmp_path / "bad.db"
    bad.write_bytes(store.read_bytes()[:3000])
    assert main(["trials", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: store ") and "not a readable mldsl store" in err and "Traceback" not in err


TINY = """
experiment base = Experiment(
    model = Sequential([Flatten(), Dense(8, activation="relu"), Dense(10, activation="softmax")]),
    data = Digits(),
    training = { batch_size = 64, num_epochs = 2, optimizer = SGD(learning_rate=0.1) },
)

experiment space = base with {
    model.layers[1].units = oneof([4, 8])
    training.optimizer.learning_rate = floatv(0.01, 0.3, scale="log")
}

search tune over space {
    algorithm = evolution(population_size=2, tournament_size=1)
    trials = 3
    objective = maximize("accuracy")
    early_stopping = median(after=2)
}
"""


def test_search_end_to_end_on_a_tiny_real_experiment_then_resume(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLDSL_STORE", raising=False)
    mlx = tmp_path / "tiny.mlx"
    mlx.write_text(TINY)
    assert main(["search", str(mlx)]) == 0  # default store: ./mldsl.db
    captured = capsys.readouterr()
    assert "starting search 'tune': 3 trials, maximize 'accuracy', executor inprocess (window 1)" in captured.err
    assert "trial 0 " in captured.err and "[3/3] best accuracy=" in captured.err  # progress (not a tty)
    assert "search 'tune': 3 trials" in captured.out and "3 run now" in captured.out
    assert "experiment tune_trial_" in captured.out  # the best experiment, as .mlx
    store = tmp_path / "mldsl.db"
    with Store(store) as s:
        trials = s.trials(s.get_study("tune"))
    assert [t.number for t in trials] == [0, 1, 2]
    assert all(t.status in ("completed", "stopped") and t.history for t in trials)
    assert all(t.experiment_mlx.startswith(f"experiment tune_trial_{t.number} = Experiment(") for t in trials)

    # the recorded experiment is valid .mlx: parsing it gives back a concrete experiment
    import mldsl
    from mldsl.hyper import is_deterministic

    best = mldsl.parse(trials[0].experiment_mlx)["tune_trial_0"]
    assert is_deterministic(best) and best.training.num_epochs == 2

    assert main(["search", f"{mlx}:tune", "--trials", "4", "-q"]) == 0  # resume: one more trial only
    assert "4 trials" in capsys.readouterr().out
    with Store(store) as s:
        again = s.trials(s.get_study("tune"))
    assert [(t.dna, t.reward) for t in again[:3]] == [(t.dna, t.reward) for t in trials]
    assert main(["trials", str(mlx)]) == 0 and "study 'tune'" in capsys.readouterr().out  # the file's searches


def test_search_cli_errors_are_clear(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mlx = tmp_path / "tiny.mlx"
    mlx.write_text(TINY)
    assert main(["search", f"{mlx}:tnue"]) == 2
    assert "did you mean 'tune'" in capsys.readouterr().err
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 50)
    assert main(["search", str(mlx), "--store", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not a readable mldsl store" in err and "--store NEW_FILE" in err
    assert main(["search", str(mlx), "--executor", "inprocess", "--address", "auto"]) == 2
    assert "--address names a Ray cluster" in capsys.readouterr().err


def test_progress_is_a_bar_on_a_terminal_and_lines_off_one(monkeypatch):
    import io

    from mldsl.service.output import Output

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setenv("NO_COLOR", "1")
    tty, plain = Tty(), io.StringIO()
    for stream in (tty, plain):
        with Output(stream).trial_progress("acc") as progress:
            run_search(L.raw_space(), name="s", algorithm=Random(), trials=3, objective="acc", evaluate=L.ev_simple,
                       seed=5, on_trial=progress)
    bar = tty.getvalue()
    assert "[3/3]" in bar and "best acc=" in bar and "0 failed" in bar and "━" in bar  # rich's bar
    assert "\x1b[3" not in bar.replace("\x1b[?25", "")  # NO_COLOR: cursor moves, but no colour codes
    lines = plain.getvalue().splitlines()
    assert len(lines) == 3 and all(line.startswith(f"trial {i} ") for i, line in enumerate(lines))
    assert "[3/3] best acc=" in lines[-1] and "\x1b" not in plain.getvalue()
