"""`mldsl run` of an untrained model (``num_epochs = 0``) and of ``eval_every`` / ``report_every``: what reaches
the table, ``--json``, the store, ``history.csv`` and ``history.png``."""
import csv
import io
import json

import pytest

from mldsl.cli import main
from mldsl.engine import runner
from mldsl.engine.store import Store
from mldsl.service.output import Output

EXPERIMENT = """
experiment untrained = Experiment(
    model = Sequential([Flatten(), Dense(10, activation="softmax")]),
    data = Digits(),
    training = { num_epochs = 0 },
)

experiment every = untrained with { training.num_epochs = 4  training.eval_every = 2  training.report_every = 3 }
"""


@pytest.fixture
def mlx(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLDSL_STORE", raising=False)
    path = tmp_path / "exp.mlx"
    path.write_text(EXPERIMENT)
    return path


def run_json(capsys, *argv):
    assert main(["run", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_zero_epochs_record_the_untrained_evaluation_with_an_empty_history(mlx, capsys):
    record = run_json(capsys, f"{mlx}:untrained")
    assert record["history"] == [] and 1.9 < record["metrics"]["loss"] < 2.8
    with Store(mlx.parent / "mldsl.db") as store:
        run = store.get_run(record["run_id"])
    assert run.status == "completed" and run.metrics == record["metrics"] and run.history == []
    artifacts = mlx.parent / "runs" / run.id
    assert (artifacts / "history.csv").exists() and not (artifacts / "history.png").exists()
    assert main(["run", f"{mlx}:untrained"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[2].split()[0] == "loss" and "accuracy" in out
    assert main(["runs", "show", run.id]) == 0 and "loss" in capsys.readouterr().out


@pytest.mark.parametrize("settings", [[], ["--set", "training.validation_split=0.2", "--set", "training.eval_every=1"]])
def test_a_zero_epoch_history_csv_has_a_trained_runs_header_and_no_rows(mlx, capsys, settings):
    def header(epochs):
        record = run_json(capsys, f"{mlx}:untrained", "--set", f"training.num_epochs={epochs}", *settings)
        lines = (mlx.parent / "runs" / record["run_id"] / "history.csv").read_text().splitlines()
        return lines[0], len(lines) - 1

    trained, rows = header(1)
    assert rows == 1 and trained.startswith("epoch,loss,accuracy,") and trained.endswith(",seconds")
    assert ("val_loss" in trained) == bool(settings)
    assert header(0) == (trained, 0)
    with open(mlx.parent / "runs" / run_json(capsys, f"{mlx}:untrained", *settings)["run_id"] / "history.csv") as fh:
        reader = csv.DictReader(fh)
        assert list(reader) == [] and reader.fieldnames == trained.split(",")


def test_eval_every_reaches_json_store_csv_and_plot(mlx, capsys, monkeypatch):
    drawn = []
    real_plot = runner.plot_history
    monkeypatch.setattr(runner, "plot_history", lambda path, history, title: drawn.append(history) or
                        real_plot(path, history, title))
    record = run_json(capsys, f"{mlx}:every")
    tested = [row["epoch"] for row in record["history"] if "test_loss" in row and "test_accuracy" in row]
    assert tested == [2, 4] and len(record["history"]) == 4
    assert record["history"][-1]["test_loss"] == pytest.approx(record["metrics"]["loss"])
    with Store(mlx.parent / "mldsl.db") as store:
        assert store.get_run(record["run_id"]).history == record["history"]
    artifacts = mlx.parent / "runs" / record["run_id"]
    rows = list(csv.DictReader((artifacts / "history.csv").open()))
    assert list(rows[0]) == ["epoch", "loss", "accuracy", "test_loss", "test_accuracy", "seconds"]
    assert [r["test_loss"] != "" for r in rows] == [False, True, False, True]
    assert (artifacts / "history.png").read_bytes()[:4] == b"\x89PNG" and drawn == [record["history"]]


def test_the_plot_draws_the_test_curve_next_to_the_training_curve(tmp_path, monkeypatch):
    import matplotlib.figure

    figures = []
    real_savefig = matplotlib.figure.Figure.savefig
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig",
                        lambda fig, *a, **k: figures.append(fig) or real_savefig(fig, *a, **k))
    history = [{"epoch": 1, "loss": 2.0, "accuracy": 0.3, "test_loss": 2.1, "test_accuracy": 0.2, "seconds": 0.1},
               {"epoch": 2, "loss": 1.0, "accuracy": 0.6, "seconds": 0.1},
               {"epoch": 3, "loss": 0.5, "accuracy": 0.9, "test_loss": 0.7, "test_accuracy": 0.8, "seconds": 0.1}]
    runner.plot_history(tmp_path / "h.png", history, "t")
    (fig,) = figures
    panels = {ax.get_title(): {line.get_label(): list(line.get_xdata()) for line in ax.get_lines()}
              for ax in fig.axes}
    assert panels == {"loss": {"loss": [1, 2, 3], "test_loss": [1, 3]},
                      "accuracy": {"accuracy": [1, 2, 3], "test_accuracy": [1, 3]}}


def test_report_every_prints_every_nth_epoch_and_the_last():
    stream = io.StringIO()
    with Output(stream, color=False).epoch_progress(5, every=2, plain_lines=True) as progress:
        for epoch in range(1, 6):
            progress(epoch, {"loss": 1.0 / epoch})
    assert [line.split()[1] for line in stream.getvalue().splitlines()] == ["2/5", "4/5", "5/5"]


def test_report_every_is_read_from_the_experiment_in_the_repl(mlx):
    from mldsl.repl.shell import OK, Repl  # noqa: PLC0415

    out = io.StringIO()
    repl = Repl(out=out, err=io.StringIO(), color=False)
    assert repl.handle(f'import "{mlx}"') == OK
    assert repl.handle(":run every --no-store") == OK
    lines = [line for line in out.getvalue().splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in lines] == ["3/4", "4/4"]
    assert "test_loss" not in lines[0] and "test_loss" in lines[1]


@pytest.mark.parametrize("setting, message", [("num_epochs = -1", "min=0"), ("eval_every = -2", "min=0"),
                                              ("report_every = 0", "min=1")])
def test_the_epoch_settings_are_checked_at_their_place_in_the_file(setting, message):
    from mldsl.dsl.api import compile_source
    from mldsl.registry import get_registry

    src = f"experiment e = Experiment(model = Sequential([Dense(10)]), data = Digits(),\n    training = {{ {setting} }})\n"
    _, errors = compile_source(src, "s.mlx", registry=get_registry())
    assert [(e.code, e.line, e.column) for e in errors] == [("E024", 2, src.splitlines()[1].index("= ", 18) + 3)]
    assert message in errors[0].message
