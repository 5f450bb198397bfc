"""Compiling .mlx to symbolic objects: names, components, hyper primitives, `with`, patches,
searches, imports, provenance and JSON loading."""
import textwrap

import pytest

import mldsl
from mldsl import symbolic as sym
from mldsl.dsl.api import compile_source, load_mlx, load_module, parse
from mldsl.dsl.diagnostics import MlxError, MlxErrors
from mldsl.dsl.module import Patch
from mldsl.dsl.search_statement import Invocation, Objective, Search

from dsl_helpers import Adam, Dense, Digits, Dropout, Experiment, Flatten, Sequential

BASE = """
let hidden = 64
experiment base = Experiment(
    model=Sequential([Flatten(), Dense(hidden, activation="relu"), Dropout(0.2), Dense(10)]),
    data=Digits(),
    training={ batch_size = 32, num_epochs = 2, optimizer = Adam(learning_rate=1e-3) },
)
"""


def mk(src, registry, filename="t.mlx"):
    return parse(textwrap.dedent(src), filename, registry=registry)


def test_values_and_components(registry):
    m = mk(BASE, registry)
    assert list(m) == ["hidden", "base"] and m.kinds == {"hidden": "let", "base": "experiment"}
    e = m["base"]
    assert isinstance(e, Experiment)
    assert e == Experiment(model=Sequential([Flatten(), Dense(64, activation="relu"), Dropout(0.2),
                                             Dense(10)]),
                           data=Digits(), training={"batch_size": 32, "num_epochs": 2,
                                                    "optimizer": Adam(learning_rate=1e-3)})
    assert m.experiments == {"base": e}


def test_lets_hold_any_value_and_references_are_copies(registry):
    m = mk("""
        let layer = Dense(4)
        let widths = [1, 2.5, "x", true, none, {a = 1}]
        let model = Sequential([layer, layer])
    """, registry)
    assert isinstance(m["widths"], sym.List) and m["widths"][5] == {"a": 1}
    model = m["model"]
    model.rebind({"layers[0].units": 9})
    assert model.layers[1].units == 4 and m["layer"].units == 4


def test_with_applies_patches_in_order(registry):
    m = mk(BASE + """
        patch big { training.batch_size = 256  training.optimizer.learning_rate = 0.01 }
        experiment e = base with big, { training.batch_size = 512 }, { model.layers[1].units = 8 }
    """, registry)
    e = m["e"]
    assert (e.training.batch_size, e.training.optimizer.learning_rate) == (512, 0.01)
    assert e.model.layers[1].units == 8
    assert m["base"].training.batch_size == 32  # the base is untouched
    assert isinstance(m["big"], Patch) and m["big"] == {"training.batch_size": 256,
                                                         "training.optimizer.learning_rate": 0.01}


def test_a_named_patch_applies_to_any_experiment_with_those_paths(registry):
    m = mk(BASE + """
        patch smaller { training.batch_size = 8 }
        experiment other = Experiment(model=Sequential([Dense(3)]), training={ batch_size = 99 })
        experiment a = base with smaller
        experiment b = other with smaller
    """, registry)
    assert m["a"].training.batch_size == m["b"].training.batch_size == 8


def test_patchers_and_patch_strings(registry):
    m = mk(BASE + """
        experiment e = base with relu_to_elu, set_batch_size(batch_size=128)
        experiment f = base with 'set_batch_size?batch_size=7'
        experiment g = base with set_batch_size
    """, registry)
    assert m["e"].model.layers[1].activation == "elu" and m["e"].training.batch_size == 128
    assert m["f"].training.batch_size == 7 and m["g"].training.batch_size == 64


def test_hyper_primitives_anywhere_and_nested(registry):
    m = mk(BASE + """
        experiment space = base with {
            model.layers[1] = oneof([Dense(oneof([8, 16])), Dense(intv(2, 4), activation="tanh")])
            training.optimizer = oneof([Adam(learning_rate=floatv(1e-4, 1e-2, scale="log")), SGD()])
        }
        let picks = manyof(2, ["a", "b", "c"], sorted=true)
    """, registry)
    assert type(m["picks"]).type_name == "manyof" and m["picks"].k == 2
    layer = m["space"].model.layers[1]
    assert type(layer).type_name == "oneof"
    assert type(layer.candidates[0].units).type_name == "oneof"
    assert type(layer.candidates[1].units).type_name == "intv"
    opt = m["space"].training.optimizer
    assert opt.candidates[0].learning_rate.scale == "log"


def test_search_statement(registry):
    m = mk(BASE + """
        experiment space = base with { model.layers[1].units = oneof([8, 16]) }
        search tune over space {
            algorithm = evolution(population_size=5, tournament_size=3)
            trials = 20
            objective = maximize("accuracy")
            early_stopping = median(after=2)
        }
        search plain over space { trials = 2, objective = minimize("loss") }
    """, registry)
    s = m["tune"]
    assert isinstance(s, Search) and m.kinds["tune"] == "search"
    assert s.space == m["space"] and s.trials == 20
    assert s.objective == Objective(metric="accuracy", goal="maximize") and s.direction == "maximize"
    assert s.algorithm == Invocation(name="evolution", kwargs={"population_size": 5, "tournament_size": 3})
    assert s.early_stopping.name == "median" and dict(s.early_stopping.kwargs) == {"after": 2}
    algo = s.make_algorithm(registry)
    assert algo.name == "evolution" and algo.hyper_params()["population_size"] == 5
    assert m["plain"].algorithm.name == "random" and m["plain"].metric == "loss"


def test_several_independent_errors_are_collected(registry):
    with pytest.raises(MlxErrors) as info:
        mk("""
            let a = Dense(0)
            let b = Dropout(2.0)
            let c = Dens(3)
            let d = a
        """, registry)
    codes = [(e.line, e.code) for e in info.value.errors]
    assert codes == [(2, "E024"), (3, "E024"), (4, "E020")]  # `d = a` is not a follow-up error
    assert "3 errors" in str(info.value)


def test_one_error_raises_a_plain_mlx_error(registry):
    with pytest.raises(MlxError) as info:
        mk("let a = Dense(units=1, unit=2)", registry)
    assert not isinstance(info.value, MlxErrors)
    assert info.value.code == "E021" and info.value.suggestion == "did you mean 'units'?"
    assert (info.value.line, info.value.column, info.value.filename) == (1, 24, "t.mlx")
    assert isinstance(info.value, mldsl.MldslError)


def test_missing_parameter_caret_is_at_the_closing_paren(registry):
    with pytest.raises(MlxError) as info:
        mk("let a = Dense(\n  activation=\"relu\"\n)\n", registry)
    assert (info.value.code, info.value.line, info.value.column) == ("E022", 3, 1)


def test_out_of_range_caret_is_at_the_value_inside_nested_dicts(registry):
    with pytest.raises(MlxError) as info:
        mk("experiment e = Experiment(model=Sequential([Dense(1)]), training={ num_epochs = -1 })",
           registry)
    err = info.value
    assert err.code == "E024" and err.message.startswith("Value -1 is out of range")
    assert err.message.endswith("(path=training.num_epochs)")
    assert err.column == 81 and err.end_column == 83


def test_wrong_component_kind_is_reported_at_the_value(registry):
    with pytest.raises(MlxError) as info:
        mk("experiment e = Experiment(model=Sequential([Adam()]))", registry)
    assert info.value.code == "E024" and info.value.column == 45


def test_experiment_must_be_an_experiment(registry):
    with pytest.raises(MlxError) as info:
        mk("experiment e = Sequential([Dense(1)])", registry)
    assert info.value.code == "E006"


def test_imports_are_relative_and_shared(tmp_path, registry):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "common.mlx").write_text("let width = 16\npatch small { training.batch_size = 4 }\n")
    (tmp_path / "lib" / "models.mlx").write_text('import "common.mlx"\nlet layer = Dense(width)\n')
    (tmp_path / "main.mlx").write_text(
        'import "lib/models.mlx"\nimport "lib/common.mlx"\n'
        'experiment e = Experiment(model=Sequential([layer])) with small\n')
    m = load_mlx(tmp_path / "main.mlx", registry=registry)
    assert m["e"].model.layers[0].units == 16 and m["e"].training.batch_size == 4
    assert m.own == ["e"] and set(m) == {"width", "small", "layer", "e"}


def test_import_errors_name_the_chain(tmp_path, registry, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.mlx").write_text('import "b.mlx"\n')
    (tmp_path / "b.mlx").write_text('import "c.mlx"\n')
    (tmp_path / "c.mlx").write_text('import "a.mlx"\n')
    with pytest.raises(MlxError) as info:
        load_mlx("a.mlx", registry=registry)
    assert info.value.code == "E011"
    assert info.value.message == "import cycle: a.mlx -> b.mlx -> c.mlx -> a.mlx"
    assert info.value.filename == "c.mlx"


def test_duplicate_names_across_imports(tmp_path, registry):
    (tmp_path / "x.mlx").write_text("let w = 1\n")
    (tmp_path / "y.mlx").write_text('let w = 2\nimport "x.mlx"\n')
    with pytest.raises(MlxError) as info:
        load_mlx(tmp_path / "y.mlx", registry=registry)
    assert info.value.code == "E004"


def test_explain_chain(registry):
    m = mk(BASE + """
        let lr = 0.05
        patch fast { training.optimizer.learning_rate = lr }
        experiment e = base with fast, { training.batch_size = 64 }
    """, registry)
    ex = m.explain("e", "training.optimizer.learning_rate")
    assert ex.value == 0.05
    hows = [o.how for o in ex.chain]
    assert hows[0] == "experiment 'base'" and ex.chain[0].line == 6
    assert hows[1:3] == ["let 'lr'", "patch 'fast' uses let 'lr'"]
    assert ex.chain[-1].how == "patch 'fast' applied in experiment 'e'" and ex.chain[-1].line == 11
    text = str(ex)
    assert text.splitlines()[0] == "e.training.optimizer.learning_rate = 0.05"
    units = m.explain("e", "model.layers[1].units")
    assert [o.how for o in units.chain] == ["let 'hidden'", "experiment 'base' uses let 'hidden'"]
    assert m.explain("e", "seed").default
    with pytest.raises(mldsl.MldslError):
        m.explain("e", "training.nope")


def test_explain_patcher_changes(registry):
    m = mk(BASE + "experiment e = base with relu_to_elu\n", registry)
    chain = m.explain("e", "model.layers[1].activation").chain
    assert chain[-1].how == "changed by patcher relu_to_elu" and chain[-1].line == 8


def test_load_json_saved_by_the_symbolic_core(tmp_path, registry):
    e = mk(BASE, registry)["base"]
    path = tmp_path / "saved.json"
    sym.save(e, str(path))
    m = load_module(path, registry=registry)
    assert list(m) == ["saved"] and m["saved"] == e and m.kinds["saved"] == "experiment"


def test_compile_source_returns_errors_without_raising(registry):
    module, errors = compile_source("let a = Dense(0)\nlet b = 2\n", registry=registry)
    assert [e.code for e in errors] == ["E024"] and module["b"] == 2 and "a" not in module


def test_public_names():
    for name in ("parse", "load_mlx", "load", "MlxError", "MlxErrors", "to_mlx", "Module"):
        assert name in mldsl.__all__ and getattr(mldsl, name) is not None
