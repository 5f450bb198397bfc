"""The native stack's catalogue: each activation, optimizer update, loss and weight regularizer the kernels
implement, once.

Everything that names an activation or an optimizer reads it from here: the DSL's string activations
(:data:`ACTIVATION_NAMES`, used by :mod:`mldsl.components`), the kernels' Python side (their argument
checks and the per-activation kernels ``relu_forward``, ...), the NumPy twins
(:mod:`mldsl.kernels.reference`), the native plan and trainer, and the standard library's lowerings to
the native backend and to Keras. The compiled cores keep the integer codes as C enums (``ACT_*`` in
``_act.pxi``, ``OPT_*`` in ``_optim.pxi``, ``LOSS_*`` in ``step.pyx``); ``tests/kernels/test_catalogue.py``
checks that they equal the codes here.

This module is plain Python with no imports beyond the standard library, so the language can read
:data:`ACTIVATION_NAMES` without loading NumPy or a compiled module.

Adding an activation: an entry in :data:`ACTIVATIONS` (next free code), its forward/backward branch in
``_act.pxi`` (enum ``ACT_<NAME>``) and in the twin (``_forward``/``_backward`` of
:mod:`mldsl.kernels.reference`); the DSL, the per-activation kernels, the native lowering and the
Keras lowering of ``activation="<name>"`` follow from the entry.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

__all__ = ["Activation", "ACTIVATIONS", "ACTIVATION_NAMES", "Update", "UPDATES", "Optimizer", "OPTIMIZERS",
           "Loss", "LOSSES", "Regularizer", "REGULARIZERS", "PENALTY", "PENALTY_GRADIENT", "activation", "optimizer",
           "update_of", "state_buffers", "named_activation_kernels"]


# ------------------------------------------------------------------------------------------ activations

@dataclass(frozen=True)
class Activation:
    """One activation function of the kernels."""

    #: The kernels' name, and the DSL's (``activation="relu"``) when :attr:`in_dsl`.
    name: str
    #: ``ACT_<NAME>`` in ``_act.pxi``.
    code: int
    #: Keras' name of the same function (``keras.activations.<keras>``, ``activation="<keras>"``).
    keras: str
    #: What it computes (docstrings of the per-activation kernels).
    formula: str
    #: Whether the DSL accepts the name as a string activation. ``gelu_tanh`` is written
    #: ``GELU(approximate=True)`` (Keras has no string for it).
    in_dsl: bool = True
    #: Keras' name of its one parameter (``negative_slope`` of leaky_relu, ``alpha`` of elu), or None.
    #: The kernels call it ``alpha``.
    param: Optional[str] = None
    #: Keras' default of that parameter (``keras.activations.<keras>``), used when none is given.
    default_alpha: Optional[float] = None
    #: Whether its derivative reads the pre-activation ``x`` (else it is computed from the output ``y``),
    #: so a Dense layer keeps a ``z`` buffer for it.
    needs_x: bool = False
    #: Softmax works on each row; every other activation on each element.
    rowwise: bool = False
    #: Keras' cross-entropy losses read the *input* of this activation as logits when it produces the
    #: model's output (Keras keeps it as ``output._keras_logits``), whatever ``from_logits`` says.
    keras_logits: bool = False


def _activations(*entries: Activation) -> Mapping[str, Activation]:
    return MappingProxyType({a.name: a for a in sorted(entries, key=lambda a: a.code)})


#: Every activation of the kernels, by name, in code order.
ACTIVATIONS: Mapping[str, Activation] = _activations(
    Activation("linear", 0, "linear", "``x`` (identity)"),
    Activation("relu", 1, "relu", "``max(x, 0)``"),
    Activation("leaky_relu", 2, "leaky_relu", "``x if x > 0 else alpha * x``", param="negative_slope",
               default_alpha=0.2),
    Activation("elu", 3, "elu", "``x if x > 0 else alpha * (exp(x) - 1)``", param="alpha", default_alpha=1.0),
    Activation("sigmoid", 4, "sigmoid", "``1 / (1 + exp(-x))`` (overflow-free)", keras_logits=True),
    Activation("tanh", 5, "tanh", "``tanh(x)``"),
    Activation("softmax", 6, "softmax", "``exp(x) / sum(exp(x))`` along the last axis (max-shifted)",
               rowwise=True, keras_logits=True),
    Activation("gelu", 7, "gelu", "exact GELU ``0.5 * x * (1 + erf(x / sqrt(2)))`` (Keras' default)",
               needs_x=True),
    Activation("swish", 8, "swish", "``x * sigmoid(x)`` (SiLU)", needs_x=True),
    Activation("gelu_tanh", 9, "gelu", "GELU with the tanh approximation (Keras' gelu(approximate=True))",
               in_dsl=False, needs_x=True),
    Activation("selu", 10, "selu", "``scale * (x if x > 0 else alpha * (exp(x) - 1))`` with Keras' constants "
                                   "alpha = 1.67326324, scale = 1.05070098"),
    Activation("softplus", 11, "softplus", "``log(1 + exp(x))`` (overflow-free)"),
)

#: The activation names a layer's ``activation`` argument may take as a string (they are Keras' names).
ACTIVATION_NAMES: Tuple[str, ...] = tuple(a.name for a in ACTIVATIONS.values() if a.in_dsl)

#: SELU's constants, as Keras (``keras.activations.selu``) and TensorFlow use them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def activation(name: Optional[str], where: str = "") -> Activation:
    """The catalogue entry of activation ``name`` (None: ``linear``); ValueError listing the names
    otherwise (``where`` starts the message, e.g. the kernel's name)."""
    found = ACTIVATIONS.get("linear" if name is None else name)
    if found is None:
        prefix = f"{where}: " if where else ""
        raise ValueError(f"{prefix}unknown activation {name!r}; known: {', '.join(sorted(ACTIVATIONS))}")
    return found


def named_activation_kernels(forward: Callable, backward: Callable, module: str) -> Dict[str, Callable]:
    """``{"relu_forward": fn, "relu_backward": fn, ...}`` for every activation: thin functions over the
    generic ``forward(name, x, out, alpha)`` and ``backward(name, x, y, dy, dx, alpha)`` of ``module``
    (the compiled kernels and the NumPy twin make theirs with this, so both have the same set)."""
    made: Dict[str, Callable] = {}
    for act in ACTIVATIONS.values():
        made.update(_pair(act, forward, backward, module))
    return made


def _pair(act: Activation, forward: Callable, backward: Callable, module: str) -> Dict[str, Callable]:
    name = act.name
    if act.default_alpha is not None:
        default = act.default_alpha

        def fwd(x, out, alpha=default):
            return forward(name, x, out, alpha)

        def bwd(x, y, dy, dx, alpha=default):
            return backward(name, x, y, dy, dx, alpha)
    else:
        def fwd(x, out):
            return forward(name, x, out)

        def bwd(x, y, dy, dx):
            return backward(name, x, y, dy, dx)
    fwd.__name__, bwd.__name__ = f"{name}_forward", f"{name}_backward"
    for fn in (fwd, bwd):
        fn.__qualname__, fn.__module__ = fn.__name__, module
    alpha = f" ({act.param}: ``alpha``, default {act.default_alpha})" if act.param else ""
    fwd.__doc__ = f"Writes {act.formula}{alpha} into ``out`` (may be ``x``); returns ``out``."
    needs = "needs ``x``" if act.needs_x else "``x`` may be None"
    bwd.__doc__ = f"Writes ``dy`` times the derivative of {name} into ``dx`` (may be ``dy``); {needs}."
    return {fwd.__name__: fwd, bwd.__name__: bwd}


# ------------------------------------------------------------------------------------------ optimizers

@dataclass(frozen=True)
class Update:
    """One optimizer update rule of the kernels (``_optim.pxi``), with Keras 3's formula."""

    #: The rule's name: also the kernel ``<name>_update``.
    name: str
    #: ``OPT_<NAME>`` in ``_optim.pxi``.
    code: int
    #: The hyperparameters it reads (Keras' names).
    hyper: Tuple[str, ...]
    #: Its state buffers (shaped like the parameters), in the order the kernels take them.
    states: Tuple[str, ...]
    formula: str
    #: A state buffer that exists only while a hyperparameter is > 0 (RMSprop's momentum buffer).
    optional_state: Optional[Tuple[str, str]] = None
    #: Whether the update reads the 1-based step count (Adam's bias correction).
    counts_steps: bool = False

    def state_names(self, hyper: Mapping[str, Any]) -> Tuple[str, ...]:
        """The state buffers this rule reads with these hyperparameters, in the kernels' order."""
        if self.optional_state is not None and hyper.get(self.optional_state[1], 0) > 0:
            return self.states + (self.optional_state[0],)
        return self.states


#: Every update rule of the kernels, by name, in code order.
UPDATES: Mapping[str, Update] = MappingProxyType({u.name: u for u in (
    Update("sgd", 0, ("learning_rate",), (), "``p -= lr * g``"),
    Update("momentum", 1, ("learning_rate", "momentum"), ("velocity",),
           "``v = momentum * v - lr * g;  p += v``"),
    Update("nesterov", 2, ("learning_rate", "momentum"), ("velocity",),
           "``v = momentum * v - lr * g;  p += momentum * v - lr * g``"),
    Update("adam", 3, ("learning_rate", "beta_1", "beta_2", "epsilon"), ("m", "v"),
           "``m += (g - m) * (1 - b1);  v += (g*g - v) * (1 - b2);  "
           "p -= m * lr * sqrt(1 - b2**t) / (1 - b1**t) / (sqrt(v) + eps)``", counts_steps=True),
    Update("rmsprop", 4, ("learning_rate", "rho", "epsilon", "momentum"), ("velocity",),
           "``a = rho * a + (1 - rho) * g*g;  inc = lr * g / sqrt(a + eps)``; ``p -= inc``, or with momentum "
           "``mom = momentum * mom + inc;  p -= mom``", optional_state=("momentum_buffer", "momentum")),
    Update("adagrad", 5, ("learning_rate", "epsilon"), ("accumulator",),
           "``acc += g*g;  p -= lr * g / sqrt(acc + eps)``"),
)})


@dataclass(frozen=True)
class Optimizer:
    """A Keras optimizer as the native stack runs it: its hyperparameters and which update rule it uses."""

    #: The plan's name (``OptimizerSpec("sgd")``), Keras' lower-case identifier.
    name: str
    #: Keras' class (``keras.optimizers.<keras>``), also the DSL component's name.
    keras: str
    #: Every hyperparameter with Keras' default.
    defaults: Mapping[str, Any]
    #: ``hyper -> update rule name``.
    choose: Callable[[Mapping[str, Any]], str] = field(repr=False)
    #: State buffer -> the hyperparameter holding its initial value (others start at 0).
    initial: Mapping[str, str] = field(default_factory=dict)

    def update(self, hyper: Mapping[str, Any]) -> Update:
        """The update rule these hyperparameters select (SGD: plain, momentum or Nesterov)."""
        return UPDATES[self.choose(hyper)]

    def settings(self, read: Callable[[str], Any]) -> Dict[str, Any]:
        """Every hyperparameter, each read with ``read(name)`` (e.g. from a component's field) and given the
        type of Keras' default (float, or bool for ``nesterov``)."""
        return {key: (bool if isinstance(default, bool) else float)(read(key))
                for key, default in self.defaults.items()}


def _sgd_rule(h: Mapping[str, Any]) -> str:
    if not h["momentum"]:
        return "sgd"
    return "nesterov" if h["nesterov"] else "momentum"


#: Every optimizer the native stack runs, by plan name.
OPTIMIZERS: Mapping[str, Optimizer] = MappingProxyType({o.name: o for o in (
    Optimizer("sgd", "SGD", MappingProxyType({"learning_rate": 0.01, "momentum": 0.0, "nesterov": False}),
              _sgd_rule),
    Optimizer("adam", "Adam", MappingProxyType({"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
                                                 "epsilon": 1e-7}), lambda h: "adam"),
    Optimizer("rmsprop", "RMSprop", MappingProxyType({"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0,
                                                       "epsilon": 1e-7}), lambda h: "rmsprop"),
    Optimizer("adagrad", "Adagrad", MappingProxyType({"learning_rate": 0.001, "initial_accumulator_value": 0.1,
                                                       "epsilon": 1e-7}), lambda h: "adagrad",
              initial=MappingProxyType({"accumulator": "initial_accumulator_value"})),
)})


def optimizer(name: str) -> Optimizer:
    """The catalogue entry of optimizer ``name``; ValueError listing the names otherwise."""
    found = OPTIMIZERS.get(str(name).lower())
    if found is None:
        raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)}")
    return found


def update_of(spec: Any) -> Update:
    """The update rule of an optimizer spec: any object with ``name`` (a key of :data:`OPTIMIZERS`) and
    ``hyper`` (every hyperparameter, Keras' names), such as :class:`mldsl.backends.native.OptimizerSpec`."""
    return optimizer(spec.name).update(spec.hyper)


def state_buffers(spec: Any) -> Tuple[Tuple[str, float], ...]:
    """``((state name, initial value), ...)``: the state buffers an optimizer spec's update needs, in the
    kernels' order."""
    opt = optimizer(spec.name)
    names = opt.update(spec.hyper).state_names(spec.hyper)
    return tuple((s, float(spec.hyper[opt.initial[s]]) if s in opt.initial else 0.0) for s in names)


# ------------------------------------------------------------------------------------------ losses

@dataclass(frozen=True)
class Loss:
    """One loss of the compiled training step (``LOSS_*`` in ``step.pyx``)."""

    name: str
    code: int
    #: Keras' class (``keras.losses.<keras>``), also the DSL component's name.
    keras: str
    #: Softmax cross-entropy on the logits (else mean squared error on the outputs).
    cross_entropy: bool
    #: The targets are class indices (else one row of floats per example).
    sparse: bool


#: Every loss of the kernels, by name, in code order.
LOSSES: Mapping[str, Loss] = MappingProxyType({l.name: l for l in (
    Loss("sparse_categorical_crossentropy", 0, "SparseCategoricalCrossentropy", True, True),
    Loss("categorical_crossentropy", 1, "CategoricalCrossentropy", True, False),
    Loss("mse", 2, "MeanSquaredError", False, False),
)})


# ------------------------------------------------------------------------------------------ regularizers

#: What every weight regularizer adds to the loss, given its factors (the kernels ``l1_penalty`` and
#: ``l2_penalty``, the fused training step, and Keras' ``L1``/``L2``/``L1L2`` compute exactly this).
PENALTY = "l1 * sum(|w|) + l2 * sum(w**2)"
#: Its gradient: ``sign(0) = 0``, as TensorFlow's ``sign`` (the kernels ``l1_grad`` and ``l2_grad``).
PENALTY_GRADIENT = "l1 * sign(w) + 2 * l2 * w"


@dataclass(frozen=True)
class Regularizer:
    """One kernel regularizer: Keras' class of the same name, as factors of :data:`PENALTY`."""

    #: Keras' class (``keras.regularizers.<name>``), also the DSL component's name.
    name: str
    #: Its arguments, each a factor of :data:`PENALTY` (``"l1"``, ``"l2"``), with Keras' defaults.
    defaults: Mapping[str, float]

    def factors(self, **values: float) -> Tuple[float, float]:
        """``(l1, l2)`` of :data:`PENALTY` for this regularizer's arguments (missing ones: the defaults)."""
        merged = {**self.defaults, **values}
        return float(merged.get("l1", 0.0)), float(merged.get("l2", 0.0))


#: Every kernel regularizer, by name (Keras' defaults: ``keras.regularizers.L1(l1=0.01)``, ``L2(l2=0.01)``,
#: ``L1L2(l1=0.0, l2=0.0)``).
REGULARIZERS: Mapping[str, Regularizer] = MappingProxyType({r.name: r for r in (
    Regularizer("L1", MappingProxyType({"l1": 0.01})),
    Regularizer("L2", MappingProxyType({"l2": 0.01})),
    Regularizer("L1L2", MappingProxyType({"l1": 0.0, "l2": 0.0})),
)})
