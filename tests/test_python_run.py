"""``mldsl.run`` from Python: the result, the store it records in, ``backend=``, errors, and the PyGlove
guide's ``sample``/``feedback`` loop on a tiny digits space."""
import json

import pytest

import mldsl
from mldsl.cli import main

SOURCE = """
experiment digits = Experiment(
    model = Sequential([Flatten(), Dense(16, activation="relu"), Dense(10, activation="softmax")]),
    data = Digits(),
    training = {
        batch_size = 64,
        num_epochs = 2,
        optimizer = Adam(learning_rate=0.01),
        validation_split = 0.1,
    },
    seed = 1,
)

experiment space = digits with {
    model.layers[1].units = oneof([8, 16])
    training.optimizer = Adam(learning_rate=oneof([1e-3, 1e-2]))
}
"""


@pytest.fixture
def module(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default store is ./mldsl.db
    monkeypatch.delenv("MLDSL_STORE", raising=False)
    (tmp_path / "exp.mlx").write_text(SOURCE)
    return mldsl.load_mlx(str(tmp_path / "exp.mlx"))


def listed_runs(capsys, *argv):
    assert main(["runs", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_run_returns_metrics_history_and_the_recorded_run(module, tmp_path, capsys):
    report = mldsl.run(module["digits"])
    assert isinstance(report, mldsl.RunReport)
    assert set(report.metrics) == {"loss", "accuracy"} and report.metrics["accuracy"] > 0.5
    assert [row["epoch"] for row in report.history] == [1, 2]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(report.history[0])
    assert report.backend == "native"
    assert report.artifacts == tmp_path / "runs" / report.run_id
    assert (report.artifacts / "history.csv").is_file()
    assert capsys.readouterr() == ("", "")  # quiet by default
    runs = listed_runs(capsys)  # ./mldsl.db, as the CLI resolves it
    assert [(r["id"], r["name"], r["status"]) for r in runs] == [(report.run_id, "experiment", "completed")]
    assert runs[0]["metrics"] == report.metrics


def test_store_env_path_and_false(module, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MLDSL_STORE", str(tmp_path / "env.db"))
    from_env = mldsl.run(module["digits"], name="from_env")
    explicit = mldsl.run(module["digits"], store=tmp_path / "other.db", name="explicit")
    unrecorded = mldsl.run(module["digits"], store=False)
    assert unrecorded.run_id is None and unrecorded.artifacts is None and unrecorded.metrics
    assert [r["name"] for r in listed_runs(capsys)] == ["from_env"]
    assert [r["id"] for r in listed_runs(capsys, "--store", str(tmp_path / "other.db"))] == [explicit.run_id]
    assert from_env.artifacts.parent.parent == tmp_path
    assert not (tmp_path / "mldsl.db").exists()


def test_progress_follows_report_every(module, capsys):
    experiment = module["digits"].clone(deep=True, override={"training.num_epochs": 5,
                                                             "training.report_every": 2})
    mldsl.run(experiment, store=False, progress=True)
    lines = [line.split()[1] for line in capsys.readouterr().err.splitlines() if line.startswith("epoch ")]
    assert lines == ["2/5", "4/5", "5/5"]


def test_an_mlx_path_and_progress(module, tmp_path, capsys):
    report = mldsl.run(f"{tmp_path / 'exp.mlx'}:digits", seed=3, progress=True)
    assert "epoch 2/2" in capsys.readouterr().err
    run = listed_runs(capsys)[0]
    assert (run["name"], run["seed"], run["source"]) == ("digits", 3, str(tmp_path / "exp.mlx"))
    assert report.run_id == run["id"]


def test_backend_keras_overrides_the_experiments_own(module, capsys):
    report = mldsl.run(module["digits"], backend="keras", store=False)
    assert report.backend == "keras"
    assert [row["epoch"] for row in report.history] == [1, 2] and report.metrics["accuracy"] > 0.5


@pytest.mark.parametrize("value, message", [
    ("space", "is a search space"),
    (42, "needs an experiment"),
])
def test_errors_say_what_to_do(module, value, message):
    with pytest.raises(mldsl.MldslError, match=message) as info:
        mldsl.run(module[value] if value == "space" else value)
    if value == "space":
        assert "mldsl.sample" in str(info.value)


def test_bad_backend_and_store_true(module):
    with pytest.raises(mldsl.MldslError, match="backend"):
        mldsl.run(module["digits"], backend="torch", store=False)
    with pytest.raises(mldsl.MldslError, match="store=True"):
        mldsl.run(module["digits"], store=True)


def test_the_pyglove_guides_loop(module, capsys):
    """``for exp, feedback in mldsl.sample(space, algorithm, num_examples=N): feedback(mldsl.run(exp)...)``."""
    rewards = []
    for experiment, feedback in mldsl.sample(module["space"], mldsl.Random(seed=0), num_examples=3):
        feedback(mldsl.run(experiment).metrics["accuracy"])
        rewards.append((feedback.id, feedback.reward))
    runs = listed_runs(capsys)
    assert len(runs) == 3 and all(r["status"] == "completed" for r in runs)
    assert sorted(r["metrics"]["accuracy"] for r in runs) == sorted(reward for _, reward in rewards)
    assert [i for i, _ in rewards] == [1, 2, 3]
