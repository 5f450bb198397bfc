"""Base classes of components: the symbolic building blocks every plugin subclasses.

A component is a :class:`mldsl.symbolic.Object` with a class attribute ``kind`` (which slot it fits:
``"layer"``, ``"optimizer"``, ...) and a ``type_name``, the name the DSL and JSON files use. A plugin
declares fields with ``@sym.members`` and returns the class from its ``mldsl_components`` hook::

    from mldsl import components as c, symbolic as sym

    @sym.members([("units", sym.typing.Int(min_value=1), "Number of output units.")])
    class ScaledDense(c.Layer):
        \"\"\"A dense layer whose output is scaled.\"\"\"
        type_name = "ScaledDense"

Components describe; they do not compute. Backends *lower* them (see the ``mldsl_lowerings`` hook).
"""
from __future__ import annotations

import math
from typing import Any, ClassVar, Optional, Tuple

from mldsl import symbolic as sym
from mldsl.errors import ValidationError
#: Activation functions a layer's ``activation`` argument may name as a string (Keras' names): the native
#: stack's catalogue's list, :data:`mldsl.kernels.catalogue.ACTIVATION_NAMES`.
from mldsl.kernels.catalogue import ACTIVATION_NAMES

__all__ = [
    "ACTIVATION_NAMES", "Component", "Model", "Layer", "Activation", "Optimizer", "Loss", "Metric",
    "Regularizer", "Callback", "Dataset", "ExperimentBase", "FloatRange", "activation_spec", "field_error",
    "activation_params",
]


class Component(sym.Object):
    """Base of every component. Subclasses set ``kind`` (via the bases below) and ``type_name``."""

    #: Which slot the component fits ("layer", "optimizer", ...); set by the bases below.
    kind: ClassVar[Optional[str]] = None


class Model(Component):
    """A model: maps a batch of inputs to outputs (e.g. ``Sequential``)."""

    kind = "model"


class Layer(Component):
    """A layer of a model (``Dense``, ``Conv2D``, ...).

    For ``mldsl summary`` a layer says, without building it, what Keras would compute for one example of
    shape ``input_shape`` (no batch axis): :meth:`output_shape` and :meth:`count_params`. The summary of a
    model holding a layer that does not say stops there with an error naming it.
    """

    kind = "layer"

    def output_shape(self, input_shape: Tuple[int, ...]) -> Tuple[int, ...]:
        """The shape of one example's output; a ValueError saying why when ``input_shape`` does not fit."""
        raise NotImplementedError(f"{type(self).__name__} does not compute its output shape")

    def count_params(self, input_shape: Tuple[int, ...]) -> int:
        """How many parameters the layer holds (trainable or not, as Keras' ``count_params``), its
        activation's included."""
        raise NotImplementedError(f"{type(self).__name__} does not count its parameters")


class Activation(Component):
    """An activation function usable wherever an activation name is (``ReLU()``, ``ELU(alpha=0.5)``).

    ``function_name`` is the equivalent name in :data:`ACTIVATION_NAMES` when there is one (so
    backends can treat ``"relu"`` and ``ReLU()`` alike), or None for one with parameters to learn.
    """

    kind = "activation"
    function_name: ClassVar[Optional[str]] = None

    def count_params(self, shape: Tuple[int, ...]) -> int:
        """How many parameters it holds on values of ``shape`` (one example's): none by default."""
        return 0


def activation_params(activation: Any, shape: Tuple[int, ...]) -> int:
    """The parameters of a layer's ``activation`` field (a name or None: 0; a component: its count)."""
    return activation.count_params(shape) if isinstance(activation, Activation) else 0


class Optimizer(Component):
    """An optimizer (``SGD``, ``Adam``, ...); argument names follow Keras."""

    kind = "optimizer"


class Loss(Component):
    """A training loss."""

    kind = "loss"


class Metric(Component):
    """An evaluation metric; its ``name`` is the key in the history (``name`` and ``"val_" + name``)."""

    kind = "metric"


def logged_metrics(space: Any) -> Optional[list]:
    """The metrics a run of ``space``'s experiments reports, which an objective may name: ``loss`` and
    the ``name`` of each :class:`Metric` in it, over every candidate of a search space (a metric's name is
    its key in the results, see ``mldsl.backends.base.RunResult``). None when the space holds no metric,
    or one whose name is left to the search: then nothing is known."""
    names: list = []

    def visit(value: Any) -> bool:
        if isinstance(value, sym.Object):
            if isinstance(value, Metric):
                name = value.sym_init_args.get("name")
                if not isinstance(name, str):
                    return False
                if name not in names:
                    names.append(name)
            return all(visit(v) for v in value.sym_init_args.values())
        if isinstance(value, dict):
            return all(visit(v) for v in value.values())
        if isinstance(value, (list, tuple)):
            return all(visit(v) for v in value)
        return True

    if not visit(space) or not names:
        return None
    return ["loss"] + [n for n in names if n != "loss"]


def max_epochs(space: Any) -> Optional[int]:
    """The most epochs a trial of ``space`` trains (over every candidate), or None when it does not say."""
    found = sym.query(space, r"^training\.num_epochs",
                      where=lambda v: isinstance(v, int) and not isinstance(v, bool))
    return max(found.values()) if found else None


class Regularizer(Component):
    """A weight regularizer (``L2``)."""

    kind = "regularizer"


class Callback(Component):
    """A training callback (``EarlyStopping``)."""

    kind = "callback"


class Dataset(Component):
    """A dataset: ``load()`` returns :class:`mldsl.data.DataSplits` (NumPy arrays)."""

    kind = "dataset"

    def load(self) -> Any:
        """Loads the data; raises :class:`mldsl.errors.DataError` with what to do when it cannot."""
        raise NotImplementedError(f"{type(self).__name__}.load() is not implemented")


class ExperimentBase(Component):
    """An experiment: a model, data, and how to train and evaluate it."""

    kind = "experiment"


class FloatRange(sym.typing.Float):
    """A float spec whose bounds may be exclusive: ``FloatRange(0.0, 0.0, 1.0, max_inclusive=False)``
    accepts [0, 1), as Keras' dropout rates and validation splits require. NaN is never accepted;
    ``finite=True`` refuses ``inf`` and ``-inf`` too."""

    def __init__(self, default: Any = sym.MISSING, min_value: Optional[float] = None,
                 max_value: Optional[float] = None, min_inclusive: bool = True,
                 max_inclusive: bool = True, finite: bool = False) -> None:
        self.min_inclusive = min_inclusive
        self.max_inclusive = max_inclusive
        self.finite = finite
        super().__init__(default, min_value=min_value, max_value=max_value)

    def _check_range(self, value: float, path: Any) -> float:
        if math.isnan(value):
            raise field_error(f"Value {value!r} is not a number.", path)
        if self.finite and math.isinf(value):
            raise field_error(f"Value {value!r} is not a finite number.", path)
        value = super()._check_range(value, path)
        at_min = self.min_value is not None and not self.min_inclusive and value == self.min_value
        at_max = self.max_value is not None and not self.max_inclusive and value == self.max_value
        if at_min or at_max:
            raise field_error(f"Value {value!r} is out of range {self._interval()}.", path)
        return value

    def _interval(self) -> str:
        lo = "(-inf" if self.min_value is None else ("[" if self.min_inclusive else "(") + repr(self.min_value)
        hi = "inf)" if self.max_value is None else repr(self.max_value) + ("]" if self.max_inclusive else ")")
        return f"{lo}, {hi}"

    def _repr_args(self) -> list:
        args = super()._repr_args()
        if not self.min_inclusive:
            args.append("min_inclusive=False")
        if not self.max_inclusive:
            args.append("max_inclusive=False")
        if self.finite:
            args.append("finite=True")
        return args


def field_error(message: str, path: Any) -> ValidationError:
    """The ValidationError of a component's field (or of a rule across its fields) at ``path``: ``mldsl check``
    shows it at that field's ``file:line:col``; ``.path`` and ``.reason`` are kept as attributes."""
    err = ValidationError(f"{message} (path={path if path is not None else ''})")
    err.path, err.reason = str(path) if path is not None else "", message
    return err


def activation_spec(default: Any = sym.MISSING) -> sym.typing.ValueSpec:
    """The spec of an ``activation`` argument: a name in :data:`ACTIVATION_NAMES` or an
    :class:`Activation` component; ``default=None`` makes it optional (None = no activation)."""
    candidates = [sym.typing.Enum(values=list(ACTIVATION_NAMES)), sym.typing.Object(Activation)]
    if default is None:
        return sym.typing.Union(candidates).noneable()
    return sym.typing.Union(candidates, default=default)
