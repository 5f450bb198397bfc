"""One resolver for patch names (``patching.resolve_patch``), used by ``with`` in ``.mlx`` files,
``mldsl.patch``, ``mldsl run --patch`` and the REPL; patches that change nothing say so; ``mldsl
schema`` covers patchers; ``load``/``load_mlx``."""
import io
import json
import types
import warnings

import pytest

import mldsl
from mldsl import patching
from mldsl.cli import main
from mldsl.errors import MldslError, PatchError, RegistryError
from mldsl.patching import Patch, PatchWarning, patch, patcher, resolve_patch
from mldsl.repl.shell import OK, Repl

SOURCE = """
experiment base = Experiment(
    model = Sequential([Flatten(), Dense(8, activation="relu"), Dense(10, activation="softmax")]),
    data = Synthetic(num_samples=60, input_shape=[6], num_classes=10),
    training = { batch_size = 32, num_epochs = 1, optimizer = Adam(learning_rate=0.001) },
    evaluation = { batch_size = 64 },
    seed = 3,
)

patch quick {
    training.num_epochs = 2
    training.optimizer = SGD(learning_rate=0.1)
}

patch relu_to_elu {
    training.batch_size = 7
}
"""


@pytest.fixture
def mlx(tmp_path):
    path = tmp_path / "exp.mlx"
    path.write_text(SOURCE)
    return path


@pytest.fixture
def module(mlx):
    return mldsl.load_mlx(mlx)


@pytest.fixture
def own_patchers(monkeypatch):
    """Patchers a test defines are forgotten after it (some are named like the std plugin's)."""
    monkeypatch.setattr(patching, "_DEFINED", dict(patching._DEFINED))


def test_a_file_patch_is_found_through_the_scope(module):
    e = module["base"].clone(deep=True)
    out = mldsl.patch(e, ["quick"], scope=module)
    assert out is e and e.training.num_epochs == 2 and e.training.optimizer.learning_rate == 0.1
    # a mapping of named patches is a scope too
    out = mldsl.patch(module["base"].clone(deep=True), "quick", scope={"quick": module["quick"]})
    assert out.training.num_epochs == 2
    with pytest.raises(RegistryError, match=r"unknown patch or patcher 'quick'.*scope=mldsl.load_mlx\(FILE\)"):
        mldsl.patch(module["base"].clone(deep=True), ["quick"])
    with pytest.raises(PatchError, match="'base' is an Experiment, not a patch"):
        mldsl.patch(module["base"].clone(deep=True), ["base"], scope=module)
    with pytest.raises(PatchError, match="patch 'quick' is a set of edits and takes no arguments"):
        mldsl.patch(module["base"].clone(deep=True), ["quick?x=1"], scope=module)
    # in .mlx, the file's patches are the scope of a patch string too
    assert mldsl.parse(SOURCE + 'experiment s = base with "quick"\n')["s"].training.num_epochs == 2


def test_the_scope_comes_first_and_a_qualified_name_means_the_plugins(module):
    base = module["base"]
    mine = patch(base.clone(deep=True), "relu_to_elu", scope=module)  # the file's patch of that name
    assert mine.training.batch_size == 7 and mine.model.layers[1].activation == "relu"
    std = patch(base.clone(deep=True), "std.relu_to_elu", scope=module)
    assert std.model.layers[1].activation == "elu" and std.training.batch_size == 32


def test_local_patchers_take_precedence_over_plugins_and_std_name_reaches_the_plugin(module, own_patchers):
    @patcher
    def relu_to_elu(experiment):
        return {"training.num_epochs": 9}

    base = module["base"]
    assert resolve_patch("relu_to_elu") is relu_to_elu
    assert patch(base.clone(deep=True), "relu_to_elu").training.num_epochs == 9
    assert patch(base.clone(deep=True), ["std.relu_to_elu"]).model.layers[1].activation == "elu"
    # in .mlx files too: the process's patcher by its name, the plugin's by the qualified name
    m = mldsl.parse(SOURCE.replace("patch relu_to_elu {\n    training.batch_size = 7\n}\n", "")
                    + "experiment mine = base with relu_to_elu\n"
                      "experiment theirs = base with std.relu_to_elu(), \"std.change_lr?0.5\"\n")
    assert m["mine"].training.num_epochs == 9 and m["mine"].model.layers[1].activation == "relu"
    assert m["theirs"].model.layers[1].activation == "elu"
    assert m["theirs"].training.optimizer.learning_rate == 0.5


def test_a_plugins_own_patchers_are_not_local(own_patchers):
    @patcher
    def tn_from_a_plugin(experiment):
        return {}

    record = types.SimpleNamespace(name="fake", module=__name__)  # this module is the plugin's

    class Registry:
        def plugins(self):
            return [record]

        def patcher(self, name):
            raise RegistryError(f"unknown patcher {name!r}")

        def patchers(self):
            return {}

    with pytest.raises(RegistryError, match="unknown patch or patcher 'tn_from_a_plugin'"):
        resolve_patch("tn_from_a_plugin", registry=Registry())  # e.g. a blocked plugin's patcher


def test_with_in_mlx_makes_a_new_value_and_never_changes_the_base(module, mlx):
    text = mlx.read_text() + ("experiment b = base with std.relu_to_elu(), quick, \"change_lr?0.3\",\n"
                              "    \"scale_lr_with_batch_size?batch_size=64\", { training.num_epochs = 5 }\n"
                              "experiment c = b with std.relu_to_leaky_relu()\n")
    with pytest.warns(PatchWarning, match="patcher 'relu_to_leaky_relu' changed nothing"):
        m = mldsl.parse(text, filename=str(mlx))
    assert mldsl.eq(m["base"], module["base"])  # the base is as written, after every `with`
    assert m["b"] is not m["base"] and m["b"].model.layers[1].activation == "elu"
    assert m["b"].training.batch_size == 64 and m["b"].training.num_epochs == 5
    assert m["b"].training.optimizer.learning_rate == pytest.approx(0.6)
    assert m["c"].model.layers[1].activation == "elu"  # nothing left to change: b is untouched
    assert m["b"].model.layers[1].activation == "elu"
    assert m["quick"] == module["quick"]  # the patch's values were copied, not adopted


def test_a_named_patch_lends_copies_of_its_values(module):
    a, b = module["base"].clone(deep=True), module["base"].clone(deep=True)
    patch(a, module["quick"])
    patch(b, module["quick"])
    a.rebind({"training.optimizer.learning_rate": 5.0})
    assert module["quick"]["training.optimizer"].learning_rate == 0.1
    assert b.training.optimizer.learning_rate == 0.1


def test_patcher_forms_of_pyglove(own_patchers):
    t = mldsl.typing

    @patcher([("batch_size", t.Int(min_value=1))])
    def tn_listed(experiment, batch_size):
        return {"training.batch_size": batch_size}

    @patcher()
    def tn_called(experiment):
        return [tn_listed(batch_size=5), {"training.num_epochs": 4}]  # a composition of patches

    assert list(tn_listed.args) == ["batch_size"] and not tn_listed.args["batch_size"].has_default
    with pytest.raises(PatchError, match="out of range"):
        tn_listed(batch_size=0)
    d = mldsl.Dict(training=mldsl.Dict(batch_size=1, num_epochs=1))
    assert patch(d, tn_called()) is d and d.training == {"batch_size": 5, "num_epochs": 4}
    with pytest.raises(TypeError, match="@patcher takes a list of"):
        patcher(3)


def test_an_unchanged_patch_warns_once_per_application_naming_it(module):
    e = module["base"].clone(deep=True)
    patch(e, "quick", scope=module)
    with pytest.warns(PatchWarning, match="^patch 'quick' changed nothing: every value it sets is already set$"):
        patch(e, "quick", scope=module)
    with pytest.warns(PatchWarning, match="patcher 'scale_width\\?factor=2.0' changed nothing: the experiment "
                                          "has no Conv2D"):
        patch(e, "scale_width?2")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PatchWarning)
        patch(e, [{"training.num_epochs": 2}, Patch({}, name="empty")])  # plain edits and empty patches: silent


def test_cli_run_patch_resolves_the_files_patches_and_reports_a_no_op(mlx, capsys):
    code = main(["run", str(mlx), "--patch", "quick", "--patch", "scale_width?2", "--no-store", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert len(json.loads(out)["history"]) == 2  # quick: two epochs
    assert err.splitlines() == ["mldsl: warning: patcher 'scale_width?factor=2.0' changed nothing: the experiment has "
                                "no Conv2D or SeparableConv2D layer to widen"]


def test_repl_patch_reports_a_no_op_on_one_line_every_time(mlx):
    out, err = io.StringIO(), io.StringIO()
    repl = Repl(out=out, err=err, color=False)
    assert repl.handle(f':load "{mlx}"') == OK
    for _ in range(2):
        assert repl.handle(":patch base 'scale_width?2'") == OK
    assert err.getvalue().splitlines() == ["warning: patcher 'scale_width?factor=2.0' changed nothing: the "
                                           "experiment has no Conv2D or SeparableConv2D layer to widen"] * 2
    assert repl.handle(":patch base quick --as b") == OK
    assert repl.session.value("b").training.num_epochs == 2


def test_schema_shows_a_patchers_arguments(capsys):
    assert main(["schema", "change_lr"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "change_lr  (patcher; plugin std, mldsl 0.1.0)"
    assert "  learning_rate: Float(min_value=0.0)  (required)" in lines
    assert "      The new learning rate (> 0)." in lines
    assert lines[-1] == "use: `with change_lr(...)` in .mlx, or --patch 'change_lr?learning_rate=...'"
    assert main(["schema", "std.scale_width"]) == 0 and "  factor: Float(min_value=0.0)" in capsys.readouterr().out
    assert main(["schema", "chnge_lr"]) == 2
    assert "unknown component or patcher 'chnge_lr'; did you mean 'change_lr'?" in capsys.readouterr().err


def test_load_is_the_inverse_of_save_and_mlx_has_its_own_name(module, mlx, tmp_path):
    path = tmp_path / "base.json"
    mldsl.save(module["base"], path)
    assert mldsl.load(path) == module["base"]
    assert isinstance(mldsl.load_mlx(mlx), mldsl.Module)
    with pytest.raises(MldslError, match=r"is an .mlx program.*mldsl.load_mlx\(path\)"):
        mldsl.load(mlx)
    with pytest.raises(MldslError, match=r"is JSON: mldsl.load\(path\)"):
        mldsl.load_mlx(path)
    renamed = tmp_path / "program.txt"
    renamed.write_text(SOURCE)
    with pytest.raises(mldsl.MlxError) as info:
        mldsl.load(renamed)
    assert "invalid JSON" in info.value.message and "mldsl.load_mlx(path)" in str(info.value)
