"""Shared symbolic test types (registered under short type names) and the `exp` fixture."""
import pytest

from mldsl import symbolic as sym
from mldsl.symbolic import typing as pt


@sym.members([
    ("units", pt.Int(min_value=1), "Number of output units."),
    ("activation", pt.Enum(None, [None, "relu", "elu", "tanh"]), "Activation name."),
    ("use_bias", pt.Bool(True), "Whether to add a bias."),
])
class SymTDense(sym.Object):
    """A dense layer (test type)."""
    type_name = "symt.Dense"


@sym.members([("rate", pt.Float(min_value=0.0, max_value=1.0), "Drop rate.")])
class SymTDropout(sym.Object):
    type_name = "symt.Dropout"


@sym.members([("layers", pt.List(pt.Object(sym.Object)), "The layers.")])
class SymTSequential(sym.Object):
    type_name = "symt.Sequential"


@sym.members([("learning_rate", pt.Float(0.001, min_value=0.0), "Step size.")])
class SymTAdam(sym.Object):
    type_name = "symt.Adam"


@sym.members([("learning_rate", pt.Float(0.01)), ("momentum", pt.Float(0.0))])
class SymTSGD(sym.Object):
    type_name = "symt.SGD"


TRAINING = pt.Dict([
    ("batch_size", pt.Int(32, min_value=1), "Examples per step."),
    ("num_epochs", pt.Int(1, min_value=1), "Passes over the data."),
    ("optimizer", pt.Object(sym.Object, default=SymTAdam()), "The optimizer."),
])


@sym.members([
    ("model", pt.Object(SymTSequential), "The model."),
    ("training", TRAINING, "Training settings."),
    ("seed", pt.Int(0), "Random seed."),
    ("tags", pt.List(pt.Str(), default=[]), "Free tags."),
])
class SymTExperiment(sym.Object):
    type_name = "symt.Experiment"


def make_experiment(**training):
    return SymTExperiment(
        model=SymTSequential([SymTDense(512, activation="relu"), SymTDropout(0.2), SymTDense(10)]),
        training=training,
    )


@pytest.fixture
def exp():
    return make_experiment()
