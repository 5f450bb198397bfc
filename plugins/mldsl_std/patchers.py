"""The standard patchers (``'relu_to_elu'``, ``'change_lr?0.003'``, ...), made with
:func:`mldsl.patching.patcher` and contributed through the ``mldsl_patchers`` hook.

Each works on a concrete experiment and on a search space alike (values inside ``oneof`` candidates
are patched too, e.g. ``activation=oneof(["relu", "tanh"])``). One that finds nothing to change returns
:class:`~mldsl.patching.Unchanged` saying what it looked for, which ``patch`` reports as a warning."""
from typing import Any, Dict, List

from mldsl import components as c
from mldsl import hookimpl
from mldsl import symbolic as sym
from mldsl.errors import PatchError, ValidationError
from mldsl.hyper import HyperPrimitive, oneof
from mldsl.patching import Unchanged, patcher
from mldsl_std.activations import ELU, LeakyReLU, ReLU
from mldsl_std.layers import Conv2D, Dense, SeparableConv2D

t = sym.typing

#: Number of classes of the standard datasets that have a fixed one (others are read from a
#: ``num_classes`` field or by loading the data).
_KNOWN_CLASSES = {"Digits": 10, "Mnist": 10, "Cifar10": 10}


# -- helpers ----------------------------------------------------------------------------------------
def _field_key(key_path: sym.KeyPath, parent: Any) -> Any:
    """The field a value sits in, looking through hyper-primitive candidate lists: for
    ``activation=oneof(["relu", "elu"])`` the candidate ``"relu"`` is in field ``activation``."""
    key = key_path.key
    node = parent
    while (isinstance(node, sym.List) and isinstance(node.sym_parent, HyperPrimitive)
           and key_path.depth >= 2):
        prim = node.sym_parent
        key_path = key_path.parent.parent
        key = key_path.key
        node = prim.sym_parent
    return key


def _paths_of_key(value: Any, name: str) -> List[str]:
    """Paths (relative to ``value``) of every field or dict entry named ``name``."""
    out: List[str] = []

    def visit(path, node, parent):
        if path.depth and path.key == name and not isinstance(parent, sym.List):
            out.append(str(path))
        return True

    sym.traverse(value, visit)
    return out


def _instances(value: Any, classes: tuple) -> Dict[str, Any]:
    return sym.query(value, where=lambda v: isinstance(v, classes), enter_selected=True)


def _require_number(patcher_name: str, path: str, v: Any) -> None:
    if isinstance(v, HyperPrimitive):
        raise PatchError(f"{patcher_name}: the value at {path!r} is a search primitive ({v!r}); "
                         f"apply {patcher_name} before making it a search space (path={path})")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise PatchError(f"{patcher_name}: expected a number at {path!r}, got {v!r} (path={path})")


def _activation_rule(function_name: str, new_name: str, new_component: type):
    def rule(key_path, value, parent):
        if isinstance(value, c.Activation) and type(value).function_name == function_name:
            return new_component()
        if isinstance(value, str) and value == function_name and _field_key(key_path, parent) == "activation":
            return new_name
        return value
    return rule


def _matches(experiment: Any, rule) -> bool:
    """Whether ``rule`` would change some value of ``experiment``."""
    found = []
    sym.traverse(experiment, lambda k, v, p: found.append(k) if k.depth and rule(k, v, p) is not v else None)
    return bool(found)


def _activation_patch(experiment: Any, old: type, new_name: str, new_component: type):
    """The rule replacing activation ``old`` (a component and its name), or Unchanged if it is absent."""
    rule = _activation_rule(old.function_name, new_name, new_component)
    if not _matches(experiment, rule):
        return Unchanged(f"the experiment has no {old.__name__}() and no "
                         f"activation={old.function_name!r}")
    return rule


# -- patchers ---------------------------------------------------------------------------------------
@patcher(args=[("learning_rate", t.Float(min_value=0.0), "The new learning rate (> 0).")])
def change_lr(experiment, learning_rate: float):
    """Sets every ``learning_rate`` (found by key name, wherever it lives: optimizers, candidates of
    a ``oneof``, a free-form dict) to ``learning_rate``."""
    paths = _paths_of_key(experiment, "learning_rate")
    if not paths:
        raise PatchError("change_lr: the experiment has no 'learning_rate' to change")
    return {p: learning_rate for p in paths}


@patcher(args=[("batch_size", t.Int(min_value=1), "The new training batch size.")])
def scale_lr_with_batch_size(experiment, batch_size: int):
    """Sets the training batch size to ``batch_size`` and scales every learning rate linearly:
    ``lr * batch_size / old_batch_size`` (Goyal et al.'s linear scaling rule)."""
    if experiment.sym_has("training.batch_size"):
        bs_path = "training.batch_size"
    else:
        candidates = [p for p in _paths_of_key(experiment, "batch_size") if not p.startswith("evaluation")]
        if not candidates:
            raise PatchError("scale_lr_with_batch_size: the experiment has no training batch_size")
        bs_path = candidates[0]
    old = experiment.sym_get(bs_path)
    _require_number("scale_lr_with_batch_size", bs_path, old)
    ratio = batch_size / old
    edits: Dict[str, Any] = {bs_path: batch_size}
    for p in _paths_of_key(experiment, "learning_rate"):
        lr = experiment.sym_get(p)
        _require_number("scale_lr_with_batch_size", p, lr)
        edits[p] = lr * ratio
    return edits


@patcher
def relu_to_elu(experiment):
    """Replaces ReLU by ELU: ``ReLU()`` components become ``ELU()`` and ``activation="relu"``
    becomes ``activation="elu"``."""
    return _activation_patch(experiment, ReLU, "elu", ELU)


@patcher
def relu_to_leaky_relu(experiment):
    """Replaces ReLU by leaky ReLU: ``ReLU()`` becomes ``LeakyReLU()`` and ``activation="relu"``
    becomes ``activation="leaky_relu"``."""
    return _activation_patch(experiment, ReLU, "leaky_relu", LeakyReLU)


@patcher(args=[("factor", t.Float(min_value=0.0), "Multiplier of every convolution's filters (> 0).")])
def scale_width(experiment, factor: float):
    """Multiplies the ``filters`` of every ``Conv2D`` (and ``SeparableConv2D``) by ``factor``,
    rounding, with at least 8 filters."""
    if factor <= 0:
        raise PatchError(f"scale_width: factor must be > 0, got {factor!r} (path=factor)")
    edits = {}
    for path, layer in _instances(experiment, (Conv2D, SeparableConv2D)).items():
        fpath = f"{path}.filters" if path else "filters"
        _require_number("scale_width", fpath, layer.filters)
        edits[fpath] = max(8, int(round(layer.filters * factor)))
    return edits or Unchanged("the experiment has no Conv2D or SeparableConv2D layer to widen")


def _num_classes(dataset: Any) -> int:
    n = getattr(dataset, "num_classes", None)
    if isinstance(n, int) and not isinstance(n, bool):
        return n
    name = type(dataset).type_name
    if name in _KNOWN_CLASSES:
        return _KNOWN_CLASSES[name]
    if name == "Cifar100":
        return 100 if dataset.label_mode == "fine" else 20
    return int(dataset.load().num_classes)


@patcher(args=[("name", t.Str(), "A dataset name, e.g. Cifar10 (see `mldsl plugins`).")])
def change_dataset(experiment, name: str):
    """Swaps the experiment's dataset for ``name()`` (default arguments) and sets the ``units`` of
    the model's last ``Dense`` layer to the new dataset's number of classes."""
    from mldsl.registry import get_registry

    cls = get_registry().resolve(name, kind="dataset")
    try:
        dataset = cls()
    except ValidationError as e:
        raise PatchError(f"change_dataset: {name} needs arguments ({e}); set `data` with a dict patch "
                         f"instead, e.g. {{'data': {name}(path=...)}}") from None
    edits: Dict[str, Any] = {"data": dataset}
    dense = _instances(experiment.sym_get("model") if experiment.sym_has("model") else experiment, (Dense,))
    if dense:
        last = list(dense)[-1]
        prefix = "model" if experiment.sym_has("model") else ""
        path = ".".join(p for p in (prefix, last) if p)
        edits[(path + ".units") if path else "units"] = _num_classes(dataset)
    return edits


@patcher
def filter_search_space(experiment):
    """Turns every ``Conv2D``'s ``filters=f`` into the search space ``oneof([f // 2, f, 2 * f])``."""
    edits = {}
    for path, layer in _instances(experiment, (Conv2D,)).items():
        f = layer.filters
        fpath = f"{path}.filters" if path else "filters"
        _require_number("filter_search_space", fpath, f)
        choices = []
        for v in (f // 2, f, 2 * f):
            if v >= 1 and v not in choices:
                choices.append(v)
        edits[fpath] = oneof(choices)
    return edits or Unchanged("the experiment has no Conv2D layer")


@patcher
def swap_conv_to_separable(experiment):
    """Replaces every ``Conv2D`` by a ``SeparableConv2D`` with the same arguments."""
    if not _instances(experiment, (Conv2D,)):
        return Unchanged("the experiment has no Conv2D layer")

    def rule(key_path, value, parent):
        if type(value) is Conv2D:
            return SeparableConv2D(**{k: v for k, v in value.sym_init_args.items()})
        return value
    return rule


@hookimpl
def mldsl_patchers():
    return [change_lr, scale_lr_with_batch_size, relu_to_elu, relu_to_leaky_relu, scale_width,
            change_dataset, filter_search_space, swap_conv_to_separable]
