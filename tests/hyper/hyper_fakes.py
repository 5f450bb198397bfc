"""Small typed symbolic classes standing in for real components in the hyper tests."""
from mldsl import symbolic as sym

t = sym.typing


class Base(sym.Object):
    type_name = "tests.hyper.Base"


@sym.members([
    ("units", t.Int(min_value=1), "Output units."),
    ("activation", t.Enum("relu", ["relu", "elu", "tanh"]), "Activation name."),
])
class FakeDense(Base):
    type_name = "tests.hyper.FakeDense"


@sym.members([("rate", t.Float(min_value=0.0, max_value=0.9), "Drop rate.")])
class FakeDropout(Base):
    type_name = "tests.hyper.FakeDropout"


@sym.members([("learning_rate", t.Float(0.01, min_value=1e-6, max_value=1.0), "Step size.")])
class FakeSGD(sym.Object):
    type_name = "tests.hyper.FakeSGD"


@sym.members([
    ("layers", t.List(t.Object(Base), min_size=1), "Layers."),
    ("optimizer", t.Object(FakeSGD, default=FakeSGD()), "Optimizer."),
    ("batch_size", t.Int(32, min_value=1, max_value=1024), "Batch size."),
    ("tags", t.List(t.Str(), default=[], max_size=3), "Tags."),
])
class FakeExperiment(sym.Object):
    type_name = "tests.hyper.FakeExperiment"


def resolver(name):
    return {c.type_name: c for c in (FakeDense, FakeDropout, FakeSGD, FakeExperiment)}.get(name)
