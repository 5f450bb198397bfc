"""Tab completion in context: keywords, components, parameters, choices, patches, key paths, commands."""
import pytest

pytest.importorskip("prompt_toolkit")
from prompt_toolkit.completion import CompleteEvent  # noqa: E402
from prompt_toolkit.document import Document  # noqa: E402

from mldsl.repl.completion import MlxCompleter, value_paths  # noqa: E402
from mldsl.repl.session import Session  # noqa: E402


@pytest.fixture(scope="module")
def completer():
    session = Session()
    session.execute('let hidden = 8\n'
                    'experiment mnist = Experiment(model=Sequential([Flatten(), Dense(hidden, activation="relu")]),'
                    ' data=Digits())\n'
                    'patch big_batch { training.batch_size = 256 }')
    return MlxCompleter(session)


def complete(completer, text):
    event = CompleteEvent(completion_requested=True)
    return [(c.text, c.start_position) for c in completer.get_completions(Document(text), event)]


def texts(completer, text):
    return [t for t, _ in complete(completer, text)]


def test_repl_complete_keywords_and_names(completer):
    assert complete(completer, "exp") == [("experiment", -3)]
    assert texts(completer, "let x = 1\npa") == ["patch"]
    assert "mnist" in texts(completer, "mn")
    assert texts(completer, "experiment e = mnist w") == ["with"]
    assert texts(completer, "search s o") == ["over"]
    assert texts(completer, "search s over mn") == ["mnist"]


def test_repl_complete_components(completer):
    assert complete(completer, "let d = Dens") == [("Dense", -4)]
    assert {"Dense", "Digits", "Dropout"} <= set(texts(completer, "let d = D"))
    assert "hidden" in texts(completer, "let d = Dense(hid")
    assert texts(completer, "let s = one") == ["oneof"]
    assert texts(completer, "let d = 12") == []  # a number


def test_repl_complete_parameters(completer):
    assert complete(completer, "let d = Dense(3, act") == [("activation=", -3)]
    params = texts(completer, "let d = Dense(")[:5]
    assert params == ["units=", "activation=", "use_bias=", "kernel_initializer=", "kernel_regularizer="]
    assert "units=" not in texts(completer, "let d = Dense(units=3, ")  # given already
    assert texts(completer, "let d = Dense(3,\n    use_") == ["use_bias="]
    assert "SGD" in texts(completer, "let e = Experiment(training={optimizer=S")
    # choices of an enum parameter, and the components its spec accepts
    choices = texts(completer, "let d = Dense(3, activation=")
    assert choices[:2] == ['"linear"', '"relu"'] and "ReLU" in choices
    assert complete(completer, 'let d = Dense(3, activation="ta') == [('"tanh"', -3)]
    assert texts(completer, "let c = Conv2D(3, padding=")[:2] == ['"valid"', '"same"']
    # the keys of a dict parameter
    keys = texts(completer, "experiment e = Experiment(training = { batch_size = 3, num")
    assert keys == ["num_epochs = "]


def test_repl_complete_patches_and_paths(completer):
    assert texts(completer, "experiment e = mnist with b") == ["big_batch"]
    assert texts(completer, "experiment e = mnist with big_batch, b") == ["big_batch"]
    assert complete(completer, "experiment e = mnist with { training.batch") == [
        ("training.batch_size", -len("training.batch"))]
    assert "model.layers[1].units" in texts(completer, "experiment e = mnist with {\n  model.layers[1].u")
    assert texts(completer, "experiment e = mnist with { model.layers[1].units = hid") == ["hidden"]
    assert "training.batch_size" in texts(completer, "patch p {\n  training.ba")
    assert texts(completer, "search s over mnist { tri") == ["trials = "]


def test_repl_complete_commands(completer, tmp_path):
    assert complete(completer, ":sh") == [(":show", -3)]
    assert texts(completer, ":show mn") == ["mnist"]
    assert texts(completer, ":show mnist model.layers[1].a") == ["model.layers[1].activation"]
    assert texts(completer, ":show mnist.training.ba") == ["mnist.training.batch_size"]
    assert texts(completer, ":query mnist model.la")[0] == "model.layers"
    assert texts(completer, ":run h") == []  # only experiments run
    assert texts(completer, ":diff mnist mn") == ["mnist"]
    assert texts(completer, ":patch mnist big") == ["big_batch"]
    assert texts(completer, ":show mnist --ver") == ["--verbose"]
    assert texts(completer, ":help sp") == ["space"]
    (tmp_path / "defs.mlx").write_text("let a = 1\n")
    assert texts(completer, f":load {tmp_path}/de") == ["fs.mlx"]


def test_repl_value_paths(completer):
    paths = value_paths(completer.session.value("mnist"))
    assert paths[:4] == ["model", "model.layers", "model.layers[0]", "model.layers[1]"]
    assert "training.optimizer.learning_rate" in paths
