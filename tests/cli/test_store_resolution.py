"""One store for every verb and the REPL: ``--store PATH``, else ``$MLDSL_STORE``, else ``./mldsl.db`` in the
current folder, wherever the ``.mlx`` file is (README, "The store"); and ``mldsl space FILE`` shows the
file's search space."""
import pytest

from mldsl.cli import main
from mldsl.engine.store import Store
from mldsl.service.stores import store_path

EXPERIMENT = """
experiment tiny = Experiment(
    model = Sequential([Flatten(), Dense(4, activation="relu"), Dense(3, activation="softmax")]),
    data = Synthetic(num_samples=60, input_shape=[5], num_classes=3),
    training = { num_epochs = 1 },
    seed = 1,
)

experiment space = tiny with { model.layers[1].units = oneof([2, 4]) }

search tune over space {
    algorithm = random()
    trials = 2
    objective = maximize("accuracy")
}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The current folder ``tmp_path``, the experiment in ``tmp_path/sub/exp.mlx``, no $MLDSL_STORE."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLDSL_STORE", raising=False)
    (tmp_path / "sub").mkdir()
    mlx = tmp_path / "sub" / "exp.mlx"
    mlx.write_text(EXPERIMENT)
    return mlx


def test_the_precedence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLDSL_STORE", raising=False)
    assert store_path() == tmp_path / "mldsl.db"
    monkeypatch.setenv("MLDSL_STORE", "~/elsewhere.db")
    assert store_path().name == "elsewhere.db" and "~" not in str(store_path())
    assert store_path("given.db") == tmp_path / "given.db"


def test_run_and_runs_agree_on_the_default_store_in_the_current_folder(project, capsys):
    """`mldsl run sub/exp.mlx` recorded into sub/mldsl.db while `mldsl runs` read ./mldsl.db."""
    assert main(["run", f"{project}:tiny"]) == 0
    capsys.readouterr()
    assert not (project.parent / "mldsl.db").exists()
    with Store(project.parent.parent / "mldsl.db") as store:
        (run,) = store.list_runs()
    assert (project.parent.parent / "runs" / run.id).is_dir()  # the artifacts beside the store
    assert main(["runs"]) == 0
    assert run.id in capsys.readouterr().out


def test_search_and_trials_honour_mldsl_store(project, tmp_path, monkeypatch, capsys):
    """`mldsl search` and `mldsl trials` ignored $MLDSL_STORE, which run, runs and the REPL honour."""
    chosen = tmp_path / "chosen.db"
    monkeypatch.setenv("MLDSL_STORE", str(chosen))
    assert main(["search", str(project), "-q"]) == 0
    assert f"--store {chosen}" in capsys.readouterr().out
    assert chosen.exists() and not (tmp_path / "mldsl.db").exists() and not (project.parent / "mldsl.db").exists()
    with Store(chosen) as store:
        assert len(store.trials(store.get_study("tune"))) == 2
    assert main(["trials"]) == 0
    assert "study 'tune'" in capsys.readouterr().out
    other = project.parent / "other.mlx"
    other.write_text(EXPERIMENT.replace("search tune", "search other_tune"))
    assert main(["trials", str(other)]) == 0  # a file's searches, in the same store
    assert capsys.readouterr().out == f"no trials of {other}'s searches (other_tune) in {chosen}\n"
    assert main(["run", f"{project}:tiny"]) == 0
    capsys.readouterr()
    assert main(["runs"]) == 0 and "tiny" in capsys.readouterr().out


def test_the_repl_uses_the_same_store(project, tmp_path, monkeypatch):
    import io

    from mldsl.repl.shell import OK, Repl

    chosen = tmp_path / "repl.db"
    monkeypatch.setenv("MLDSL_STORE", str(chosen))
    out = io.StringIO()
    repl = Repl(out=out, err=out, color=False)
    assert repl.handle(f'import "{project}"') == OK
    assert repl.handle(":run tiny") == OK, out.getvalue()
    with Store(chosen) as store:
        assert [r.name for r in store.list_runs()] == ["tiny"]


def test_space_of_a_file_is_its_search_space(project, capsys):
    """`mldsl space FILE` printed the first experiment (no hyper primitives: `Space({})`, size 1)."""
    assert main(["space", str(project)]) == 0
    captured = capsys.readouterr()
    assert "model.layers[1].units" in captured.out and captured.out.rstrip().endswith("space size: 2")
    assert "search 'tune'" in captured.err  # says which definition it took
    project.write_text(EXPERIMENT.split("search tune")[0] + 'experiment other = tiny with { seed = oneof([1, 2]) }\n')
    assert main(["space", str(project)]) == 0
    captured = capsys.readouterr()
    assert "model.layers[1].units" in captured.out
    assert "'space'" in captured.err and "also: other" in captured.err and f"{project}:NAME" in captured.err
