"""Every example in ``examples/`` compiles against the installed standard library, round-trips
through the printer, is canonically formatted, and its searches have a valid space."""
from pathlib import Path

import pytest

from mldsl import symbolic as sym
from mldsl.dsl.api import load_mlx, parse
from mldsl.dsl.printer import to_mlx

EXAMPLES = Path(__file__).parents[2] / "examples"
FILES = sorted(EXAMPLES.glob("*.mlx"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_example_compiles_and_round_trips(path, std_registry):
    module = load_mlx(path, registry=std_registry)
    assert module.own
    for name in module.own:
        value, kind = module[name], module.kinds[name]
        text = to_mlx(value, name=name, kind=kind)  # self-contained: references are inlined
        back = parse(text, registry=std_registry)[name]
        assert sym.eq(back, value), text
        assert to_mlx(back, name=name, kind=kind) == text


def test_the_examples_our_users_start_from(std_registry):
    mods = {p.stem: load_mlx(p, registry=std_registry) for p in FILES}
    mlp = mods["mnist_mlp"]["mnist_mlp"]
    assert [type(l).type_name for l in mlp.model.layers] == ["Flatten", "Dense", "Dropout", "Dense"]
    assert (mlp.model.layers[1].units, mlp.model.layers[1].activation) == (1024, "relu")
    assert (mlp.training.batch_size, mlp.training.num_epochs) == (32, 2)
    assert type(mlp.data).type_name == "Mnist" and type(mlp.training.optimizer).type_name == "Adam"
    mod = mods["mnist_mlp"]["mnist_mlp_rmsprop"]
    assert mod.training.batch_size == 256 and type(mod.training.optimizer).type_name == "RMSprop"
    assert mod.training.optimizer.learning_rate == 0.01
    cnn = mods["mnist_cnn"]["mnist_cnn"]
    assert [getattr(l, "filters", None) for l in cnn.model.layers[:2]] == [16, 32]
    assert cnn.training.optimizer.learning_rate == 0.01
    deep = mods["deep_mlp"]["deep_mlp"]
    assert [l.units for l in deep.model.layers[1:]] == [500, 300, 10]
    assert deep.model.layers[1].kernel_regularizer.l2 == 1e-3
    assert (deep.training.optimizer.momentum, deep.training.optimizer.learning_rate) == (0.98, 2e-3)
    assert deep.training.callbacks[0].monitor == "val_loss"
    drop = mods["dropout_mlp"]["dropout_mlp"]
    assert [l.units for l in drop.model.layers if type(l).type_name == "Dense"] == [150, 100, 10]
    assert (drop.training.batch_size, drop.training.num_epochs, drop.training.validation_split) == (100, 20, 0.1)
    digits = mods["digits"]["digits"]
    assert type(digits.data).type_name == "Digits" and digits.model.layers[1].activation == "sigmoid"
    assert digits.training.optimizer.momentum == 0.9


@pytest.mark.parametrize("path", [p for p in FILES if p.stem != "common"], ids=lambda p: p.name)
def test_every_example_has_a_search_with_a_space(path, std_registry):
    from mldsl.hyper.space import dna_spec

    module = load_mlx(path, registry=std_registry)
    searches = module.searches
    assert searches
    for search in searches.values():
        assert dna_spec(search.space).space_size > 1
        assert search.trials >= 1 and search.objective.metric == "accuracy"
