"""A model's summary, as Keras' ``model.summary()`` prints it: each layer's output shape and parameter
count, and the total, computed from the symbolic experiment (each layer's ``output_shape`` and
``count_params``) without training and without importing TensorFlow. ``mldsl summary``, the REPL's
``:summary`` and ``mldsl.summary`` show it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Tuple

from mldsl.errors import MldslError

HEADERS = ["layer", "type", "output shape", "params"]


@dataclass
class SummaryRow:
    """One layer: its path in the experiment, its type, one example's output shape and its parameters."""

    path: str
    type: str
    output_shape: Tuple[int, ...]
    params: int


@dataclass
class ModelSummary:
    """The layers of a model on one example of ``input_shape`` (``rows``) and ``total``, the parameter count
    Keras' ``model.count_params()`` gives. ``str()`` is the table ``mldsl summary`` prints."""

    input_shape: Tuple[int, ...]
    rows: List[SummaryRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(row.params for row in self.rows)

    def table_rows(self) -> List[List[str]]:
        """The rows as text: shapes with Keras' batch axis, ``(None, 10)``; counts with thousands separators."""
        return [[row.path, row.type, shape_text(row.output_shape), f"{row.params:,}"] for row in self.rows]

    def footer(self) -> str:
        return f"input shape {shape_text(self.input_shape)}, total params: {self.total:,}"

    def __str__(self) -> str:
        widths = [max(len(h), *(len(r[i]) for r in self.table_rows())) if self.rows else len(h)
                  for i, h in enumerate(HEADERS)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(HEADERS, widths)).rstrip(),
                 "  ".join("-" * w for w in widths)]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in self.table_rows()]
        return "\n".join(lines + ["", self.footer()])


def shape_text(shape: Sequence[int]) -> str:
    """One example's shape with the batch axis, as Keras prints it: ``(None, 8, 8, 1)``."""
    return "(" + ", ".join(["None", *(str(int(d)) for d in shape)]) + ")"


def summary(experiment: Any, input_shape: Optional[Sequence[int]] = None) -> ModelSummary:
    """The summary of ``experiment``'s model (a model with a ``layers`` list, such as ``Sequential``) on
    examples of ``input_shape``; without it, the shape of the experiment's data (loaded, as a run would)
    given a channel axis where the Keras backend gives one (images of a model with 2-D layers)."""
    from mldsl.backends.base import uses_images
    from mldsl.hyper import is_deterministic

    model = getattr(experiment, "model", None)
    if model is None:
        raise MldslError("mldsl summary needs an experiment with a model")
    if not is_deterministic(model):
        raise MldslError("the model is a search space (it has oneof/manyof/floatv/intv values); pick values "
                         "with --set first")
    layers = getattr(model, "layers", None)
    if not isinstance(layers, (list, tuple)):
        raise MldslError(f"mldsl summary reads models with a list of layers (Sequential), not "
                         f"{type(model).__name__}")
    if input_shape is None:
        if not is_deterministic(experiment.data):
            raise MldslError("the dataset is a search space (it has oneof/manyof/floatv/intv values), so its "
                             "input shape is not known; pick its values with --set first")
        input_shape = experiment.data.load().input_shape
        if len(input_shape) == 2 and uses_images(model):
            input_shape = (*input_shape, 1)
    shape = tuple(int(d) for d in input_shape)
    result = ModelSummary(shape)
    for layer in layers:
        name = str(getattr(type(layer), "type_name", type(layer).__name__))
        where = str(layer.sym_path)
        try:
            params = layer.count_params(shape)
            shape = tuple(layer.output_shape(shape))
        except NotImplementedError as exc:
            raise MldslError(f"{where} ({name}): {exc}, so the summary cannot go past it") from None
        except ValueError as exc:
            raise MldslError(f"{where} ({name}) gets inputs of shape {shape_text(shape)}: {exc}") from None
        result.rows.append(SummaryRow(where, name, shape, int(params)))
    return result
