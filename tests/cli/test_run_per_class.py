"""``training.order`` and ``evaluation.per_class`` through every way of running: `mldsl run` (its table,
``--json``, the store, ``confusion.png``), `mldsl runs`, `mldsl check`, the engine from Python, the REPL's
``:run`` and the notebook's ``%mlx run``."""
import importlib.util
import json

import numpy as np
import pytest

from mldsl.cli import main
from mldsl.engine.runner import run_experiment
from mldsl.engine.store import Store
from mldsl.registry import get_registry

EXPERIMENT = """
experiment digits = Experiment(
    model = Sequential([Flatten(), Dense(16, activation="relu"), Dense(10, activation="softmax")]),
    data = Digits(),
    training = { batch_size = 64, num_epochs = 2, optimizer = Adam(learning_rate=0.01), order = "by_class" },
    evaluation = { per_class = true },
    seed = 1,
)

experiment plain = digits with { evaluation.per_class = false }
"""

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def mlx(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLDSL_STORE", raising=False)
    path = tmp_path / "exp.mlx"
    path.write_text(EXPERIMENT)
    return path


def check_per_class(per_class, metrics, test_size=359):
    confusion = np.array(per_class["confusion"])
    assert per_class["classes"] == list(range(10)) and confusion.shape == (10, 10)
    assert confusion.sum() == test_size
    counts = confusion.sum(axis=1)
    assert sum(a * n for a, n in zip(per_class["accuracy"], counts)) / test_size == pytest.approx(
        metrics["accuracy"], abs=1e-9)


def test_run_json_the_store_and_the_confusion_png(mlx, capsys):
    assert main(["run", f"{mlx}:digits", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    check_per_class(record["metrics"]["per_class"], record["metrics"])
    with Store(mlx.parent / "mldsl.db") as store:
        run = store.get_run(record["run_id"])
    assert run.metrics == record["metrics"]                          # stored inside the metrics column
    assert 'order = "by_class"' in run.experiment_mlx and "per_class = true" in run.experiment_mlx
    assert (mlx.parent / "runs" / run.id / "confusion.png").read_bytes()[:8] == PNG
    assert main(["runs", "show", run.id, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["per_class"] == record["metrics"]["per_class"]


def test_run_prints_the_per_class_table_and_runs_show_it_too(mlx, capsys):
    assert main(["run", f"{mlx}:digits"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("class  examples"):].splitlines()
    assert table[0].split() == ["class", "examples", "correct", "accuracy", "most", "confused", "with"]
    rows = [line.split() for line in table[2:12]]
    assert [r[0] for r in rows] == [str(c) for c in range(10)]
    assert sum(int(r[1]) for r in rows) == 359
    metrics_table = out[:out.index("class  examples")]
    assert "per_class" not in metrics_table and "{" not in metrics_table  # not dumped into the metrics table
    with Store(mlx.parent / "mldsl.db") as store:
        [run] = store.list_runs()
    assert main(["runs"]) == 0
    listing = capsys.readouterr().out
    assert "accuracy=" in listing and "per_class" not in listing
    assert main(["runs", "show", run.id]) == 0
    assert "class  examples  correct  accuracy  most confused with" in capsys.readouterr().out


@pytest.mark.parametrize("backend", ["native", pytest.param("keras", marks=pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="TensorFlow is not installed"))])
def test_a_csv_s_named_classes_name_the_per_class_rows(tmp_path, monkeypatch, capsys, backend):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    names = ["cat", "dog", "emu"]
    lines = []
    for i in range(90):
        label = i % 3
        lines.append(",".join(f"{v:.3f}" for v in rng.normal(size=4) + 3 * label) + "," + names[label])
    (tmp_path / "animals.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "csv.mlx").write_text("""
experiment animals = Experiment(
    model = Sequential([Dense(8, activation="relu"), Dense(3, activation="softmax")]),
    data = Subset(Csv(path="animals.csv"), fraction=0.9),
    training = { num_epochs = 2, order = "by_class" },
    evaluation = { per_class = true },
)
""")
    assert main(["run", "csv.mlx:animals", "--backend", backend, "--json", "--no-store"]) == 0
    per_class = json.loads(capsys.readouterr().out)["metrics"]["per_class"]
    assert per_class["classes"] == names
    assert main(["run", "csv.mlx:animals", "--backend", backend, "--no-store"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out[out.index("class  examples"):].splitlines()[2:5]]
    assert [r[0] for r in rows] == names and all(r[-2] in names + ["-"] for r in rows if r[-1] != "-")


def test_without_per_class_there_is_no_table_nor_png(mlx, capsys):
    assert main(["run", f"{mlx}:plain"]) == 0
    assert "most confused with" not in capsys.readouterr().out
    [folder] = (mlx.parent / "runs").iterdir()
    assert (folder / "history.png").exists() and not (folder / "confusion.png").exists()


@pytest.mark.parametrize("verb", ["check", "run"])
def test_an_unknown_order_is_a_located_error(tmp_path, capsys, verb):
    path = tmp_path / "bad.mlx"
    path.write_text(EXPERIMENT.replace('"by_class"', '"by_klass"'))
    assert main([verb, str(path)] + (["--no-store"] if verb == "run" else [])) == 2
    err = capsys.readouterr().err
    assert f"{path}:5:97: error" in err and "'by_klass' is not in candidate list" in err
    assert "did you mean 'by_class'" in err and "Traceback" not in err


def test_the_set_option_picks_an_order(mlx, capsys):
    assert main(["run", f"{mlx}:plain", "--set", 'training.order="sequential"', "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    with Store(mlx.parent / "mldsl.db") as store:
        assert 'order = "sequential"' in store.get_run(record["run_id"]).experiment_mlx


def test_from_python_the_experiment_takes_order_and_per_class(tmp_path):
    R = get_registry().resolve
    exp = R("Experiment")(model=R("Sequential")([R("Flatten")(), R("Dense")(10, activation="softmax")]),
                          data=R("Digits")(), training={"num_epochs": 1, "order": "by_class"},
                          evaluation={"per_class": True})
    with Store(tmp_path / "s.db") as store:
        outcome = run_experiment(exp, name="py", store=store)
        stored = store.get_run(outcome.record.id)
    check_per_class(stored.metrics["per_class"], stored.metrics)
    assert (outcome.artifacts / "confusion.png").read_bytes()[:8] == PNG
    unrecorded = run_experiment(exp, name="py", store=None)
    assert unrecorded.result.metrics == outcome.result.metrics          # seeded: the same order, the same run


def test_repl_run_shows_the_per_class_table(mlx):
    import io

    from mldsl.repl.shell import OK, Repl

    out, err = io.StringIO(), io.StringIO()
    repl = Repl(out=out, err=err, color=False)
    assert repl.handle(EXPERIMENT) == OK
    assert repl.handle(":run digits --no-store") == OK, err.getvalue()
    text = out.getvalue()
    assert "accuracy" in text and "most confused with" in text and "not recorded" in text


def test_notebook_run_view_shows_the_table_and_the_confusion_matrix(mlx):
    from mldsl.notebook.display import RunView

    import mldsl

    outcome = run_experiment(mldsl.load_mlx(str(mlx))["digits"], name="digits", store=None)
    view = RunView(outcome, name="digits")
    assert view.per_class is not None and len(view.per_class.rows) == 10
    html = view._repr_html_()
    assert "<img alt='digits: confusion matrix' src='data:image/png;base64,iVBOR" in html
    assert "most confused with" in html and "most confused with" in repr(view)


def test_runs_diff_compares_the_class_accuracies(mlx, capsys):
    first = json.loads((main(["run", f"{mlx}:digits", "--json"]), capsys.readouterr().out)[1])
    second = json.loads((main(["run", f"{mlx}:digits", "--set", 'training.order="shuffle"', "--json"]),
                         capsys.readouterr().out)[1])
    assert main(["runs", "show", first["run_id"], "--diff", second["run_id"]]) == 0
    out = capsys.readouterr().out
    before, after = first["metrics"]["per_class"]["accuracy"], second["metrics"]["per_class"]["accuracy"]
    assert f"metric per_class accuracy: {before} -> {after}" in out
    assert 'order = "by_class"' in out and 'order = "shuffle"' in out   # the experiments' diff follows
