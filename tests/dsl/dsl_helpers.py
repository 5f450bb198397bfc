"""Fake components for the dsl tests: a small, stable registry that does not depend on the standard
library's exact schemas (golden error texts list parameters)."""
from __future__ import annotations

import functools
from pathlib import Path

from mldsl import components as c
from mldsl import symbolic as sym
from mldsl.hookspecs import hookimpl

t = sym.typing
HERE = Path(__file__).parent
ACTIVATIONS = ["linear", "relu", "elu", "tanh", "sigmoid", "softmax"]


@sym.members([("units", t.Int(min_value=1), "Output units."),
              ("activation", t.Enum("linear", ACTIVATIONS), "Activation."),
              ("use_bias", t.Bool(True), "Add a bias.")])
class Dense(c.Layer):
    type_name = "Dense"


@sym.members([("rate", t.Float(min_value=0.0, max_value=1.0), "Drop rate.")])
class Dropout(c.Layer):
    type_name = "Dropout"


@sym.members([])
class Flatten(c.Layer):
    type_name = "Flatten"


@sym.members([("layers", t.List(t.Object(c.Layer)), "Layers.")])
class Sequential(c.Model):
    type_name = "Sequential"


@sym.members([("learning_rate", t.Float(0.001, min_value=0.0), "Step size.")])
class Adam(c.Optimizer):
    type_name = "Adam"


@sym.members([("learning_rate", t.Float(0.01, min_value=0.0), "Step size."),
              ("momentum", t.Float(0.0, min_value=0.0), "Momentum.")])
class SGD(c.Optimizer):
    type_name = "SGD"


@sym.members([("test_split", t.Float(0.2, min_value=0.0, max_value=1.0), "Test fraction.")])
class Digits(c.Dataset):
    type_name = "Digits"


@sym.members([
    ("model", t.Object(c.Model), "The model."),
    ("data", t.Object(c.Dataset).noneable(), "The data."),
    ("training", t.Dict([("batch_size", t.Int(32, min_value=1), "Batch size."),
                         ("num_epochs", t.Int(1, min_value=1), "Epochs."),
                         ("optimizer", t.Object(c.Optimizer, default=Adam()), "Optimizer.")]),
     "Training settings."),
    ("seed", t.Int(0), "Random seed."),
])
class Experiment(c.ExperimentBase):
    type_name = "Experiment"


COMPONENTS = [Dense, Dropout, Flatten, Sequential, Adam, SGD, Digits, Experiment]


class FakePlugin:
    """The test plugin: the components above, the real algorithms, and patchers when available."""

    @staticmethod
    @hookimpl
    def mldsl_components():
        return COMPONENTS

    @staticmethod
    @hookimpl
    def mldsl_algorithms():
        from mldsl.hyper.evolution import Evolution
        from mldsl.hyper.grid import Grid
        from mldsl.hyper.random_search import Random

        return {"random": Random, "evolution": Evolution, "grid": Grid}

    @staticmethod
    @hookimpl
    def mldsl_patchers():
        return fake_patchers()


def fake_patchers():
    try:
        from mldsl import patching
    except ImportError:
        return {}

    # Patcher(...), not @patcher: a plugin's patchers are not definitions of this process, which would
    # take precedence over the std plugin's patchers of the same names in every later test
    @patching.Patcher
    def relu_to_elu(experiment):
        """Every relu activation becomes elu."""
        return {path: "elu" for path, v in sym.query(experiment, where=lambda v: v == "relu").items()}

    @patching.Patcher
    def set_batch_size(experiment, batch_size: int = 64):
        """Sets training.batch_size."""
        return {"training.batch_size": batch_size}

    @patching.Patcher
    def set_training(experiment, batch_size: int = 64, num_epochs: int = 1):
        """Sets training.batch_size and training.num_epochs."""
        return {"training.batch_size": batch_size, "training.num_epochs": num_epochs}

    return {"relu_to_elu": relu_to_elu, "set_batch_size": set_batch_size, "set_training": set_training}


@functools.lru_cache(maxsize=None)
def fake_registry():
    from mldsl.registry import build_registry

    return build_registry(entrypoints=False, plugins=[("dsltest", FakePlugin)])
