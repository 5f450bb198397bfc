"""Records keep every value that was set: a run's ``.mlx`` record and the REPL's ``:patch --print``
write values equal to a default too (``change_lr?0.01`` on an SGD run, whose default rate is 0.01), and
the record compiles back to the experiment that ran. Hiding defaults is an option (``hide_defaults``)."""
import io
import json

from mldsl import symbolic as sym
from mldsl.cli import main
from mldsl.dsl.api import parse
from mldsl.dsl.printer import to_mlx
from mldsl.engine.store import Store

EXPERIMENT = """
experiment tiny = Experiment(
    model = Sequential([Flatten(), Dense(10, activation="softmax")]),
    data = Synthetic(num_samples=60, input_shape=[4], num_classes=3),
    training = { batch_size = 16, optimizer = SGD(learning_rate=0.1) },
)
"""


def test_run_record_keeps_a_rate_patched_to_the_default(tmp_path, capsys, std_registry):
    path = tmp_path / "tiny.mlx"
    path.write_text(EXPERIMENT)
    store = tmp_path / "runs.db"
    assert main(["run", f"{path}:tiny", "--patch", "change_lr?0.01", "--store", str(store), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    with Store(store) as s:
        text = s.get_run(record["run_id"]).experiment_mlx
    assert "SGD(learning_rate=0.01, momentum=0.0, nesterov=false)" in text
    ran = parse(EXPERIMENT, registry=std_registry)["tiny"].clone(deep=True, override={
        "training.optimizer.learning_rate": 0.01})
    assert sym.eq(parse(text, registry=std_registry)["tiny"], ran)


def test_repl_patch_print_shows_a_value_set_to_its_default():
    from mldsl.repl.shell import OK, Repl

    out = io.StringIO()
    repl = Repl(out=out, err=io.StringIO(), color=False)
    assert repl.handle(EXPERIMENT.strip().replace("\n", " ")) == OK
    assert repl.handle(":patch tiny 'change_lr?0.01' --print") == OK
    assert "learning_rate=0.01" in out.getvalue()


def test_hiding_defaults_is_an_option(std_registry):
    exp = parse(EXPERIMENT, registry=std_registry)["tiny"]
    default_rate = exp.clone(deep=True, override={"training.optimizer.learning_rate": 0.01})
    assert "learning_rate=0.01" in to_mlx(default_rate)
    assert "SGD()" in to_mlx(default_rate, hide_defaults=True)
    for text in (to_mlx(default_rate, name="x"), to_mlx(default_rate, name="x", hide_defaults=True),
                 to_mlx(default_rate, name="x", verbose=True)):
        assert sym.eq(parse(text, registry=std_registry)["x"], default_rate)
