"""The pictures: a dataset's examples (`mldsl data`, `:data`, `mldsl.plot_examples`), several runs' curves
overlaid (`mldsl runs compare`, `:compare`, `mldsl.plot_runs`) and a run's first-layer weights as images
(`mldsl runs weights`, `:weights`, `mldsl.plot_first_layer`). What a picture shows is read back from the
figure (the returned Picture), not from pixels; bad input is a message and exit code 2."""
import io
import json
import struct
import subprocess
import sys

import numpy as np
import pytest

import mldsl
from mldsl.cli import main
from mldsl.engine.store import Store
from mldsl.errors import MldslError

DIGITS = """
experiment digits = Experiment(
    model = Sequential([Flatten(), Dense(12, activation="relu"), Dense(10, activation="softmax")]),
    data = Digits(),
    training = { batch_size = 64, num_epochs = 2, optimizer = Adam(learning_rate=0.01) },
    seed = 1,
)
experiment synthetic = digits with { data = Synthetic(num_samples=60, input_shape=[20], num_classes=3) }
experiment conv = digits with {
    model = Sequential([Conv2D(4, 3), Flatten(), Dense(10, activation="softmax")])
}
let colour = Synthetic(num_samples=40, input_shape=[6, 5, 3], num_classes=4)
experiment space = digits with { data = Digits(seed=oneof([0, 1])) }
experiment widths = digits with { model.layers[1].units = oneof([2, 16]) }
search tiny over widths {
    algorithm = grid()
    trials = 2
    objective = maximize("accuracy")
}
"""


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default store is ./mldsl.db
    monkeypatch.delenv("MLDSL_STORE", raising=False)
    (tmp_path / "exp.mlx").write_text(DIGITS)
    return tmp_path


def png_size(path):
    """(width, height) from a PNG's header; fails unless the file is a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def error_of(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def load(name):
    return mldsl.load_mlx("exp.mlx")[name]


def recorded(store, name, history, metrics=None, mlx=None, status="completed"):
    """A run recorded directly in the store (no training): its id."""
    run = store.start_run(name=name, experiment_mlx=mlx or f"experiment {name} = Experiment(model=Sequential("
                          "[Dense(2)]), data=Digits())")
    store.finish_run(run.id, status=status, history=history, metrics=metrics or {})
    return run.id


# ------------------------------------------------------------------------------------ examples
def test_the_grid_shows_the_first_examples_with_their_labels(work):
    splits = load("digits").data.load()
    picture = mldsl.plot_examples(load("digits"), "grid.png", count=9)
    assert picture.labels == [str(y) for y in splits.y_train[:9]]  # the titles of the drawn axes
    assert picture.images.shape == (9, 8, 8) and np.allclose(picture.images, splits.x_train[:9])
    width, height = png_size(work / "grid.png")
    assert 300 <= width <= 1500 and 300 <= height <= 1500
    test = mldsl.plot_examples(load("digits").data, "test.png", count=4, split="test")
    assert test.labels == [str(y) for y in splits.y_test[:4]]


def test_colour_images_and_feature_vectors_have_their_own_pictures(work):
    colour = mldsl.plot_examples(load("colour"), "colour.png", count=5)
    assert colour.images.shape == (5, 6, 5, 3) and len(colour.labels) == 5
    splits = load("synthetic").data.load()
    rows = mldsl.plot_examples(load("synthetic"), "rows.png", count=7)  # not images: a heat map, a row each
    assert rows.images.shape == (7, 20) and rows.labels == [str(y) for y in splits.y_train[:7]]
    assert png_size(work / "rows.png")[0] > 100


def test_mldsl_data_prints_shapes_sizes_and_classes_and_draws_on_request(work, capsys):
    assert main(["data", "exp.mlx:digits"]) == 0
    out = capsys.readouterr().out
    splits = load("digits").data.load()
    counts = np.bincount(splits.y_train)
    assert f"{len(splits.x_train) + len(splits.x_test)} examples of shape (8, 8) (images), 10 classes" in out
    assert f"train: {len(splits.x_train)} examples, x ({len(splits.x_train)}, 8, 8) float32" in out
    assert "per class: " + ", ".join(f"{c}: {n}" for c, n in enumerate(counts)) in out
    assert not (work / "d.png").exists()
    assert main(["data", "exp.mlx:digits", "--plot", "d.png", "--count", "6", "--split", "test"]) == 0
    assert "plot: d.png" in capsys.readouterr().out and png_size(work / "d.png")
    assert main(["data", "exp.mlx:synthetic"]) == 0
    assert "shape (20,) (not images: a vector of features)" in capsys.readouterr().out


@pytest.mark.parametrize("argv, words", [
    (["data", "exp.mlx:digits", "--plot", "d.jpg"], "name the file FILE.png"),
    (["data", "exp.mlx:digits", "--plot", "d.png", "--count", "0"], "--count must be between 1 and 400"),
    (["data", "exp.mlx:digits", "--count", "4"], "add --plot FILE.png"),
    (["data", "exp.mlx:space"], "is a search space"),
    (["data", "exp.mlx:nothing"], "exp.mlx has no 'nothing'"),
    (["data", "exp.mlx:digits", "--split", "val"], "argument --split: invalid choice"),
])
def test_bad_data_arguments_are_messages(work, capsys, argv, words):
    assert words in error_of(capsys, *argv)


def test_a_bad_count_is_said_before_anything_is_printed(work, capsys):
    assert main(["data", "exp.mlx:digits", "--plot", "d.png", "--count", "0"]) == 2
    captured = capsys.readouterr()
    assert "--count must be between 1 and 400" in captured.err and captured.out == ""


def test_a_value_without_data_is_a_message(work):
    with pytest.raises(MldslError, match="not an experiment or a dataset"):
        mldsl.plot_examples(mldsl.parse("let m = Dense(3)")["m"], "x.png")


# ------------------------------------------------------------------------------------ runs compared
def history(epochs, **curves):
    return [{"epoch": e + 1, **{k: v[e] for k, v in curves.items()}, "seconds": 0.1} for e in range(epochs)]


def test_the_overlay_has_one_line_per_run_and_quantity(work):
    with Store(work / "mldsl.db") as store:
        a = recorded(store, "a", history(3, loss=[1.0, 0.5, 0.25], accuracy=[0.5, 0.7, 0.9],
                                         val_loss=[1.1, 0.6, 0.4], val_accuracy=[0.4, 0.6, 0.8]))
        b = recorded(store, "b", history(2, loss=[2.0, 1.0], accuracy=[0.2, 0.4], mse=[3.0, 2.0]))
    picture = mldsl.plot_runs([a, b[:6]], "runs.png")  # an id prefix names a run too
    assert picture.labels == ["loss", "accuracy"]
    assert picture.curves["loss"] == {f"{a} a": [1.0, 0.5, 0.25], f"{a} a (val)": [1.1, 0.6, 0.4],
                                      f"{b} b": [2.0, 1.0]}
    assert set(picture.curves["accuracy"]) == {f"{a} a", f"{a} a (val)", f"{b} b"}
    assert png_size(work / "runs.png")[0] >= 800
    with pytest.raises(MldslError, match="not every run recorded 'mse'.*in common: loss, accuracy"):
        mldsl.plot_runs([a, b], "runs.png", store=work / "mldsl.db", metric="mse")
    only_b = mldsl.plot_runs([b], "b.png", metric="mse")
    assert list(only_b.curves) == ["loss", "mse"] and list(only_b.curves["mse"]) == [f"{b} b"]


def test_runs_compare_prints_final_metrics_side_by_side(work, capsys):
    with Store(work / "mldsl.db") as store:
        a = recorded(store, "a", history(2, loss=[1.0, 0.5], accuracy=[0.5, 0.7]), {"loss": 0.5, "accuracy": 0.75})
        b = recorded(store, "b", history(1, loss=[0.9], accuracy=[0.6]), {"loss": 0.8})
    assert main(["runs", "compare", a, b, "--plot", "c.png"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [a, "a", b, "b"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:] if line.strip() and not line.startswith("plot")}
    assert rows["epochs"] == ["2", "1"] and rows["accuracy"] == ["0.75", "-"] and rows["loss"] == ["0.5", "0.8"]
    assert lines[-1] == "plot: c.png (loss, accuracy per epoch)" and png_size(work / "c.png")
    assert main(["runs", "compare", a, b, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in payload["runs"]] == [a, b] and payload["runs"][1]["metrics"] == {"loss": 0.8}
    assert payload["common"] == ["loss", "accuracy"] and payload["plot"] is None


def test_an_untrained_run_compares_by_its_final_metrics(work, capsys):
    # num_epochs = 0 records no history: its final metrics still sit beside the trained run's
    with Store(work / "mldsl.db") as store:
        a = recorded(store, "a", history(2, loss=[1.0, 0.5], accuracy=[0.5, 0.7]), {"loss": 0.5, "accuracy": 0.75})
        untrained = recorded(store, "untrained", [], {"loss": 2.3, "accuracy": 0.1})
    assert main(["runs", "compare", untrained, a]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:] if line.strip()}
    assert rows["epochs"] == ["0", "2"] and rows["loss"] == ["2.3", "0.5"] and rows["accuracy"] == ["0.1", "0.75"]
    assert main(["runs", "compare", untrained, a, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["runs"][0]["history"] == [] and payload["common"] == ["loss", "accuracy"]


def test_a_study_of_untrained_models_compares_its_trials(work, capsys):
    (work / "zero.mlx").write_text(DIGITS + """
experiment untrained = widths with { training.num_epochs = 0 }
search zero over untrained { algorithm = grid()  trials = 2  objective = minimize("loss") }
""")
    assert main(["search", "zero.mlx:zero", "-q"]) == 0
    capsys.readouterr()
    assert main(["runs", "compare", "--study", "zero"]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()[2:] if line.strip()}
    assert rows["epochs"] == ["0", "0"] and len(rows["loss"]) == 2
    assert "recorded no epoch" in error_of(capsys, "runs", "compare", "--study", "zero", "--plot", "z.png")


def test_per_class_accuracies_compare_one_row_per_class(work, capsys):
    per_class = {"classes": [0, 1], "accuracy": [0.25, 1.0], "confusion": [[1, 3], [0, 4]]}
    with Store(work / "mldsl.db") as store:
        a = recorded(store, "a", history(1, loss=[1.0]), {"loss": 0.5, "per_class": per_class})
        b = recorded(store, "b", history(1, loss=[0.9]), {"loss": 0.8})
    assert main(["runs", "compare", a, b]) == 0
    out = capsys.readouterr().out
    assert "confusion" not in out and "{" not in out
    rows = {line[:16].strip(): line[16:].split() for line in out.splitlines()[2:] if line.strip()}
    assert rows["class 0 accuracy"] == ["0.25", "-"] and rows["class 1 accuracy"] == ["1", "-"]


def test_bad_comparisons_are_messages(work, capsys):
    with Store(work / "mldsl.db") as store:
        a = recorded(store, "a", history(2, loss=[1.0, 0.5]))
        empty = recorded(store, "empty", [], status="failed")
    assert "no run with id 'nope'" in error_of(capsys, "runs", "compare", a, "nope")
    assert main(["runs", "compare", a, empty, "--plot", "c.png"]) == 2
    captured = capsys.readouterr()
    assert "recorded no epoch" in captured.err and captured.out == ""  # refused before the table
    assert not (work / "c.png").exists()
    assert "named twice" in error_of(capsys, "runs", "compare", a, a)
    assert "name the runs to compare" in error_of(capsys, "runs", "compare")
    assert "in common: loss" in error_of(capsys, "runs", "compare", a, "--metric", "accuracy")
    assert "FILE.png" in error_of(capsys, "runs", "compare", a, "--plot", "c.svg")
    assert "no store at" in error_of(capsys, "runs", "compare", a, "--store", str(work / "none.db"))
    assert not (work / "none.db").exists()


def test_a_study_s_trials_compare_as_runs(work, capsys):
    assert main(["search", "exp.mlx:tiny", "-q"]) == 0
    capsys.readouterr()
    with Store(work / "mldsl.db") as store:
        trials = store.trials(store.get_study("tiny"))
    best_first = sorted(trials, key=lambda t: -t.reward)
    picture = mldsl.plot_runs([], "t.png", study="tiny")  # no numbers: the best trials, best first
    assert list(picture.curves["loss"]) == [f"trial {t.number} tiny" for t in best_first]
    assert picture.curves["accuracy"][f"trial {trials[0].number} tiny"] == [h["accuracy"] for h in trials[0].history]
    assert main(["runs", "compare", str(trials[1].number), "--study", "tiny", "--plot", "t1.png"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["trial", str(trials[1].number), "tiny"] and png_size(work / "t1.png")
    assert "study 'tiny' has no trial '7'" in error_of(capsys, "runs", "compare", "7", "--study", "tiny")
    assert "no study named 'nope'" in error_of(capsys, "runs", "compare", "--study", "nope")


# ------------------------------------------------------------------------------------ first-layer weights
def run_id(capsys, *argv):
    assert main(["run", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)["run_id"]


def test_native_weights_are_units_times_the_input_image(work, capsys):
    rid = run_id(capsys, "exp.mlx:digits", "--backend", "native")
    kernel = np.load(work / "runs" / rid / "model" / "weights.npz", allow_pickle=False)["kernel_0"]
    picture = mldsl.plot_first_layer(rid, "w.png")
    assert picture.images.shape == (12, 8, 8) and picture.labels == [f"unit {i}" for i in range(12)]
    assert np.allclose(picture.images[3], kernel[:, 3].reshape(8, 8))
    assert png_size(work / "w.png")
    assert main(["runs", "weights", rid[:5], "--plot", "w4.png", "--count", "4"]) == 0
    out = capsys.readouterr().out
    assert "model.layers[1] is Dense with 12 units over inputs of shape (8, 8)" in out and "plot: w4.png" in out
    assert mldsl.plot_first_layer(rid, "w4.png", count=4).images.shape == (4, 8, 8)


def test_keras_weights_are_read_without_tensorflow(work, capsys):
    pytest.importorskip("tensorflow")
    rid = run_id(capsys, "exp.mlx:digits", "--backend", "keras", "--set", "training.num_epochs=1")
    code = ("import sys, mldsl\n"
            f"p = mldsl.plot_first_layer({rid!r}, 'k.png')\n"
            "print(p.images.shape, 'tensorflow' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=work)
    assert out.stdout.strip() == "(12, 8, 8) False", out.stderr


def test_runs_whose_weights_have_no_picture_are_messages(work, capsys):
    synthetic = run_id(capsys, "exp.mlx:synthetic")
    assert "not images" in error_of(capsys, "runs", "weights", synthetic, "--plot", "x.png")
    with Store(work / "mldsl.db") as store:
        conv = recorded(store, "conv", history(1, loss=[1.0]), mlx=mldsl.to_mlx(load("conv"), name="conv"))
        unsaved = recorded(store, "digits", [], mlx=mldsl.to_mlx(load("digits"), name="digits"), status="failed")
    assert "the first layer with weights is Conv2D (model.layers[0]), not Dense" in error_of(
        capsys, "runs", "weights", conv)
    assert "it saved no model (failed" in error_of(capsys, "runs", "weights", unsaved)
    assert "needs one run ID" in error_of(capsys, "runs", "weights", conv, unsaved)
    assert "no run with id 'zzz'" in error_of(capsys, "runs", "weights", "zzz")
    assert not (work / "x.png").exists()


def test_a_weight_file_is_never_unpickled(work, capsys, tmp_path):
    rid = run_id(capsys, "exp.mlx:digits")

    class Bomb:
        def __reduce__(self):
            return (open, (str(tmp_path / "exploded"), "w"))

    np.savez(work / "runs" / rid / "model" / "weights.npz", kernel_0=np.array([Bomb()], dtype=object))
    assert "cannot read the weight file" in error_of(capsys, "runs", "weights", rid, "--plot", "w.png")
    assert not (tmp_path / "exploded").exists()


# ------------------------------------------------------------------------------------ REPL, notebook, imports
def test_the_repl_draws_and_prints_the_paths(work, capsys):
    from mldsl.repl.commands import run_command
    from mldsl.repl.session import Session
    from mldsl.repl.shell import Repl

    rid = run_id(capsys, "exp.mlx:digits")
    out = io.StringIO()
    repl = Repl(Session(), out=out, err=io.StringIO(), color=False)
    run_command(repl, ":load exp.mlx")
    run_command(repl, ":data digits --plot r1.png --count 4")
    run_command(repl, f":compare {rid} --plot r2.png")
    run_command(repl, f":weights {rid} --plot r3.png")
    text = out.getvalue()
    assert "plot: r1.png\n" in text and "plot: r2.png (loss, accuracy per epoch)" in text and "plot: r3.png\n" in text
    assert all(png_size(work / f"r{i}.png") for i in (1, 2, 3))
    with pytest.raises(MldslError, match="name the runs to compare"):
        run_command(repl, ":compare --plot r2.png")


def test_a_notebook_shows_the_picture_inline(work):
    pytest.importorskip("IPython")
    import IPython.display

    from mldsl.notebook.output import NotebookOutput

    picture = mldsl.plot_examples(load("digits"), "n.png", count=2)
    assert picture._repr_png_() == (work / "n.png").read_bytes()  # what Jupyter shows for a returned picture
    shown = []
    original = IPython.display.display
    IPython.display.display = lambda *objs, **kw: shown.extend(objs)
    try:
        NotebookOutput().picture(work / "n.png")
    finally:
        IPython.display.display = original
    assert [type(o).__name__ for o in shown] == ["Image"] and shown[0].data == (work / "n.png").read_bytes()


def test_the_cli_does_not_import_matplotlib_unless_it_draws(work):
    code = ("import sys\nfrom mldsl.cli import main\n"
            "main(['data', 'exp.mlx:digits'])\n"
            "print('MPL', 'matplotlib' in sys.modules)\n"
            "main(['data', 'exp.mlx:digits', '--plot', 'm.png', '--count', '1'])\n"
            "print('MPL', 'matplotlib' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=work)
    assert [line for line in out.stdout.splitlines() if line.startswith("MPL")] == ["MPL False", "MPL True"], out.stderr


def test_a_failed_drawing_leaves_no_figure_open(work):
    import matplotlib.pyplot as plt

    from types import SimpleNamespace

    from mldsl.engine.plots import plot_trials

    study = SimpleNamespace(name="s", direction="maximize")  # no objective: fails once the figure is open
    with pytest.raises(AttributeError):
        plot_trials(work / "x.png", study, [])
    assert plt.get_fignums() == [] and not (work / "x.png").exists()
