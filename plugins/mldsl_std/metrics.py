"""Metrics. A metric's ``name`` is its key in results and history (``val_`` + name when validating)."""
from mldsl import components as c
from mldsl import hookimpl
from mldsl import symbolic as sym

_NAME = ("name", sym.typing.Str("accuracy", regex=r"[A-Za-z_][A-Za-z0-9_]*$"),
         "Key of the metric in results and history.")


@sym.members([_NAME])
class SparseCategoricalAccuracy(c.Metric):
    """Fraction of examples whose integer label is the arg-max of the prediction."""

    type_name = "SparseCategoricalAccuracy"


@sym.members([_NAME])
class Accuracy(c.Metric):
    """Fraction of predictions equal to the labels."""

    type_name = "Accuracy"


@hookimpl
def mldsl_components():
    return [SparseCategoricalAccuracy, Accuracy]
