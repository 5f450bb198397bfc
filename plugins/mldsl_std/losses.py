"""Losses, with Keras' names."""
from mldsl import components as c
from mldsl import hookimpl
from mldsl import symbolic as sym

_FROM_LOGITS = ("from_logits", sym.typing.Bool(False),
                "True when the model outputs raw scores (no softmax) rather than probabilities.")


@sym.members([_FROM_LOGITS])
class SparseCategoricalCrossentropy(c.Loss):
    """Cross-entropy between integer class labels and predicted class probabilities."""

    type_name = "SparseCategoricalCrossentropy"


@sym.members([_FROM_LOGITS])
class CategoricalCrossentropy(c.Loss):
    """Cross-entropy between one-hot labels and predicted class probabilities."""

    type_name = "CategoricalCrossentropy"


@sym.members([])
class MeanSquaredError(c.Loss):
    """Mean of the squared differences between labels and predictions."""

    type_name = "MeanSquaredError"


@hookimpl
def mldsl_components():
    return [SparseCategoricalCrossentropy, CategoricalCrossentropy, MeanSquaredError]
