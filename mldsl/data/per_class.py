"""Per-class evaluation: the accuracy of each class and the confusion matrix, from the test split's true
and predicted classes. One definition for every backend: a backend only predicts the test split.

The result (what ``evaluation.per_class = true`` adds to a run's metrics, under
``mldsl.backends.base.PER_CLASS_KEY``) is plain JSON::

    {"classes": [0, 1, ...], "accuracy": [acc of class 0, ...], "confusion": [[...], ...]}

``classes`` names each row: the class index, or the dataset's name for it (a ``Csv`` of named labels).

``confusion[i][j]`` counts the test examples of true class ``i`` predicted as class ``j`` (rows: true class,
columns: predicted). A class without test examples has accuracy ``None``. The accuracies weighted by each
class's count (its row sum) average to the overall accuracy.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

import numpy as np

from mldsl.errors import DataError

def predicted_classes(outputs: Any) -> np.ndarray:
    """The class each row of model outputs predicts: the argmax over its outputs, or for a single output
    (a regression on the label) the output rounded to the nearest class index (at least 0)."""
    outputs = np.asarray(outputs)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        return np.argmax(outputs, axis=1).astype(np.int64)
    return np.maximum(np.rint(outputs.reshape(len(outputs))), 0).astype(np.int64)


def per_class_metrics(labels: Any, predicted: Any, num_classes: int,
                      class_names: Optional[Sequence[str]] = None) -> Dict[str, list]:
    """``{"classes", "accuracy", "confusion"}`` (see the module) of true ``labels`` and ``predicted``
    classes (integer vectors of the same length) over ``num_classes`` classes; a prediction outside the
    classes widens the matrix so that nothing is dropped. ``class_names`` (the dataset's, when its labels
    have names) name the classes instead of their indices."""
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    predicted = np.asarray(predicted).astype(np.int64).reshape(-1)
    if labels.shape != predicted.shape:
        raise DataError(f"{len(predicted)} predictions for {len(labels)} labels")
    if labels.size and (labels.min() < 0 or predicted.min() < 0):
        raise DataError("class indices must be >= 0")
    size = max(int(num_classes), int(labels.max()) + 1 if labels.size else 0,
               int(predicted.max()) + 1 if predicted.size else 0)
    confusion = np.zeros((size, size), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    counts = confusion.sum(axis=1)
    correct = np.diagonal(confusion)
    accuracy = [float(c / n) if n else None for c, n in zip(correct, counts)]
    names = list(class_names or [])
    classes = [str(names[i]) if i < len(names) else i for i in range(size)]
    return {"classes": classes, "accuracy": accuracy, "confusion": confusion.tolist()}
