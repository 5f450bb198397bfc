"""A dict field (``training = {...}``) with several bad entries reports every one in one error: in .mlx one
E024 per entry at its ``file:line:col``, from Python one ValidationError with a line (and path) per entry."""
import pytest

from mldsl.cli import main
from mldsl.dsl.api import parse
from mldsl.dsl.diagnostics import MlxError
from mldsl.errors import ValidationError

HEAD = 'experiment e = Experiment(model = Sequential([Flatten(), Dense(10)]), data = Digits(),\n'
BAD = '{ num_epoch = 3, batch_size = -1, validation_split = "x" }'


def errors_of(text):
    with pytest.raises(MlxError) as info:
        parse(text, filename="e.mlx")
    return sorted((e.line, e.column, e.message) for e in info.value.errors)


def check(found, line, offset):
    assert [(ln, col) for ln, col, _ in found] == [(line, offset + BAD.index(s) + 1) for s in ("3", "-1", '"x"')]
    assert "Unknown key 'num_epoch'" in found[0][2] and "did you mean 'num_epochs'" in found[0][2]
    assert "out of range" in found[1][2] and "path=training.batch_size" in found[1][2]
    assert "Expected float" in found[2][2] and "path=training.validation_split" in found[2][2]


def test_every_bad_entry_of_a_training_dict_is_reported_at_its_position():
    prefix = "    training = "
    check(errors_of(HEAD + prefix + BAD + ")\n"), 2, len(prefix))


def test_every_bad_entry_of_a_dict_set_in_a_with_block_is_reported_at_its_position():
    prefix = "    training = "
    check(errors_of(HEAD + ")\nexperiment f = e with {\n" + prefix + BAD + "\n}\n"), 4, len(prefix))


def test_python_gets_one_error_listing_every_bad_entry():
    from mldsl_std.datasets import Digits
    from mldsl_std.experiment import Experiment
    from mldsl_std.layers import Dense, Flatten
    from mldsl_std.models import Sequential

    with pytest.raises(ValidationError) as info:
        Experiment(model=Sequential([Flatten(), Dense(10)]), data=Digits(),
                   training={"num_epoch": 3, "batch_size": -1, "validation_split": "x"})
    lines = str(info.value).splitlines()
    assert lines[0] == "3 invalid values in training:"
    assert [line.rsplit("(path=", 1)[1] for line in lines[1:]] == [
        "training.num_epoch)", "training.batch_size)", "training.validation_split)"]
    assert [e.path for e in info.value.errors] == ["training.num_epoch", "training.batch_size",
                                                   "training.validation_split"]


def test_one_bad_entry_is_reported_as_before():
    from mldsl_std.experiment import Experiment

    with pytest.raises(ValidationError, match=r"^Value -1 is out of range .*\(path=training.batch_size\)$"):
        Experiment.partial(training={"batch_size": -1})


def test_check_lists_every_bad_entry_and_exits_2(tmp_path, capsys):
    path = tmp_path / "e.mlx"
    path.write_text(HEAD + "    training = " + BAD + ")\n")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("error[E024]") == 3 and "3 errors" in err and "Traceback" not in err
