"""The standard library (plugins/mldsl_std): every component registered, constructible, validated,
JSON round-trippable through the registry's resolver, with Keras' names and the contract's defaults."""
import json
import re
import sys

import numpy as np
import pytest

from mldsl import components as c
from mldsl import data
from mldsl import symbolic as sym
from mldsl.errors import DataError, UnknownTypeError, ValidationError
from mldsl.registry import build_registry

EXPECTED = {
    "experiment": ["Experiment"],
    "model": ["Sequential"],
    "layer": ["Activation", "BatchNormalization", "Conv2D", "Dense", "Dropout", "Flatten", "MaxPooling2D",
              "SeparableConv2D"],
    "activation": ["ELU", "GELU", "LeakyReLU", "PReLU", "ReLU", "SELU", "Sigmoid", "Softmax", "Softplus", "Swish",
                   "Tanh"],
    "optimizer": ["Adagrad", "Adam", "RMSprop", "SGD"],
    "loss": ["CategoricalCrossentropy", "MeanSquaredError", "SparseCategoricalCrossentropy"],
    "metric": ["Accuracy", "SparseCategoricalAccuracy"],
    "regularizer": ["L1", "L1L2", "L2"],
    "callback": ["EarlyStopping"],
    "dataset": ["Centered", "Cifar10", "Cifar100", "Csv", "Digits", "Mnist", "Npz", "RandomLabels", "Standardized",
                "Subset", "Synthetic"],
}

# The contract's defaults (Keras' names); MISSING = required.
M = sym.MISSING
DEFAULTS = {
    "Sequential": {"layers": M},
    "Dense": {"units": M, "activation": None, "use_bias": True, "kernel_initializer": "glorot_uniform",
              "kernel_regularizer": None},
    "Dropout": {"rate": M, "seed": None},
    "Flatten": {},
    "Activation": {"activation": M},
    "Conv2D": {"filters": M, "kernel_size": M, "strides": 1, "padding": "valid", "activation": None},
    "SeparableConv2D": {"filters": M, "kernel_size": M, "strides": 1, "padding": "valid", "activation": None},
    "MaxPooling2D": {"pool_size": 2, "strides": None, "padding": "valid"},
    "BatchNormalization": {"momentum": 0.99, "epsilon": 1e-3},
    "ReLU": {}, "PReLU": {}, "Sigmoid": {}, "Tanh": {}, "Softmax": {}, "Swish": {},
    "ELU": {"alpha": 1.0}, "LeakyReLU": {"negative_slope": 0.3}, "GELU": {"approximate": False},
    "SGD": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    "Adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "RMSprop": {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7},
    "Adagrad": {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    "SparseCategoricalCrossentropy": {"from_logits": False}, "CategoricalCrossentropy": {"from_logits": False},
    "MeanSquaredError": {},
    "SparseCategoricalAccuracy": {"name": "accuracy"}, "Accuracy": {"name": "accuracy"},
    "L1": {"l1": 0.01},
    "L1L2": {"l1": 0.0, "l2": 0.0},
    "L2": {"l2": 0.01},
    "EarlyStopping": {"monitor": "val_loss", "patience": 0, "min_delta": 0.0, "mode": "auto",
                      "restore_best_weights": False},
    "Digits": {"test_split": 0.2, "seed": 0}, "Mnist": {"path": None, "test_size": None},
    "Cifar10": {"path": None}, "Cifar100": {"path": None, "label_mode": "fine"},
    "Synthetic": {"num_samples": 1000, "input_shape": [20], "num_classes": 10, "seed": 0},
    "Npz": {"path": M}, "Csv": {"path": M, "label_column": -1, "test_split": 0.2, "seed": 0},
    "Subset": {"dataset": M, "fraction": None, "size": None, "seed": 0}, "Centered": {"dataset": M},
    "Standardized": {"dataset": M}, "RandomLabels": {"dataset": M, "seed": 0},
    "Experiment": {"model": M, "data": M, "seed": 0, "backend": "auto"},
}


@pytest.fixture(scope="module")
def reg():
    return build_registry(autoload=False)  # mldsl's own std plugin only


def _make(reg, name):
    """An instance of every std component, with the required arguments filled in."""
    R = reg.resolve
    required = {
        "Sequential": lambda: R("Sequential")([R("Flatten")(), R("Dense")(4)]),
        "Dense": lambda: R("Dense")(8, activation="relu", kernel_regularizer=R("L2")(0.1)),
        "Dropout": lambda: R("Dropout")(0.5),
        "Activation": lambda: R("Activation")(R("LeakyReLU")(0.1)),
        "Conv2D": lambda: R("Conv2D")(4, [3, 3], padding="same"),
        "SeparableConv2D": lambda: R("SeparableConv2D")(4, 3, strides=[2, 1]),
        "Npz": lambda: R("Npz")("data.npz"),
        "Csv": lambda: R("Csv")("data.csv"),
        "Subset": lambda: R("Subset")(R("Digits")(), fraction=0.5),
        **{name: lambda name=name: R(name)(R("Digits")()) for name in ("Centered", "Standardized", "RandomLabels")},
        "Experiment": lambda: R("Experiment")(model=R("Sequential")([R("Dense")(3)]), data=R("Synthetic")()),
    }
    return required.get(name, lambda: R(name)())()


def test_std_registers_exactly_the_contract_components_with_their_kinds(reg):
    std = {r.name: r for r in reg.plugins()}["std"]
    assert std.ok and std.dist_name == "mldsl", std.errors
    for kind, names in EXPECTED.items():
        assert reg.names(kind) == names, kind
        for name in names:
            cls = reg.resolve(name, kind)
            assert cls.type_name == name == cls.__name__ and cls.kind == kind
            assert issubclass(cls, c.Component) and issubclass(cls, sym.Object)
    assert reg.contributions("std")["datasets"] == EXPECTED["dataset"]


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_schema_defaults_follow_the_contract(reg, name):
    fields = reg.resolve(name).__schema__.fields
    assert list(fields) == list(DEFAULTS[name]) or name == "Experiment"
    for key, default in DEFAULTS[name].items():
        spec = fields[key].value_spec
        if default is M:
            assert not spec.has_default, (name, key)
        else:
            actual = spec.default
            assert (actual.sym_eq(default) if hasattr(actual, "sym_eq") else actual == default), (name, key)
            assert type(actual) is type(default) or isinstance(actual, list), (name, key, actual)


@pytest.mark.parametrize("name", sorted(n for names in EXPECTED.values() for n in names))
def test_every_component_constructs_documents_and_round_trips_json(reg, name):
    obj = _make(reg, name)
    cls = type(obj)
    assert cls.__doc__ and cls.__doc__.strip()
    for key, field in cls.__schema__.fields.items():
        assert field.description, f"{name}.{key} has no docstring"
    text = json.dumps(sym.to_json(obj))
    back = sym.from_json(json.loads(text), resolver=reg.json_resolver)
    assert type(back) is cls and back == obj and sym.eq(back, obj)


def test_experiment_defaults_match_the_contract(reg):
    R = reg.resolve
    e = R("Experiment")(model=R("Sequential")([R("Dense")(10)]), data=R("Digits")())
    assert (e.seed, e.backend) == (0, "auto")
    t, ev = e.training, e.evaluation
    assert (t.batch_size, t.num_epochs, t.validation_split, list(t.callbacks)) == (32, 1, 0.0, [])
    assert t.loss == R("SparseCategoricalCrossentropy")() and t.optimizer == R("Adam")()
    assert t.optimizer.learning_rate == 0.001
    assert (ev.batch_size, ev.metric) == (256, R("SparseCategoricalAccuracy")())
    assert ev.metric.name == "accuracy"
    assert (t.order, ev.per_class) == ("shuffle", False)
    assert (t.eval_every, t.report_every) == (0, 1)
    assert sorted(t) == sorted(["batch_size", "num_epochs", "loss", "optimizer", "validation_split", "callbacks",
                                "order", "eval_every", "report_every"])
    assert sorted(ev) == ["batch_size", "metric", "per_class"]


@pytest.mark.parametrize("path, value, message", [
    ("training.batch_size", 0, "Value 0 is out of range (min=1, max=None). (path=training.batch_size)"),
    ("training.num_epochs", -1, "(path=training.num_epochs)"),
    ("training.validation_split", 1.0, "(path=training.validation_split)"),
    ("evaluation.batch_size", 0, "(path=evaluation.batch_size)"),
    ("model.layers[0].units", 0, "(path=model.layers[0].units)"),
    ("model.layers[0].activation", "relux", "did you mean 'relu'"),
    ("model.layers[1].rate", 1.0, "Value 1.0 is out of range [0.0, 1.0). (path=model.layers[1].rate)"),
    ("model.layers[1].rate", -0.1, "(path=model.layers[1].rate)"),
    ("training.optimizer.learning_rate", 0.0, "(path=training.optimizer.learning_rate)"),
    ("training.optimizer.beta_1", 1.0, "(path=training.optimizer.beta_1)"),
    ("backend", "jax", "(path=backend)"),
    ("data.test_split", 1.5, "(path=data.test_split)"),
    ("training.loss", "mse", "(path=training.loss)"),
    ("training.optimizer", 0.01, "(path=training.optimizer)"),
])
def test_out_of_range_and_wrong_values_are_rejected_with_the_path(reg, path, value, message):
    R = reg.resolve
    e = R("Experiment")(model=R("Sequential")([R("Dense")(10, activation="relu"), R("Dropout")(0.2)]),
                        data=R("Digits")())
    before = e.clone(deep=True)
    with pytest.raises(ValidationError) as err:
        e.rebind({path: value})
    assert message in str(err.value)
    assert e == before  # nothing changed


@pytest.mark.parametrize("make, path", [
    (lambda R: R("Dense")(0), "units"),
    (lambda R: R("Dropout")(1.0), "rate"),
    (lambda R: R("Conv2D")(8, [3, 3, 3]), "kernel_size"),
    (lambda R: R("MaxPooling2D")(0), "pool_size"),
    (lambda R: R("BatchNormalization")(epsilon=0.0), "epsilon"),
    (lambda R: R("LeakyReLU")(-1.0), "negative_slope"),
    (lambda R: R("EarlyStopping")(mode="up"), "mode"),
    (lambda R: R("EarlyStopping")(patience=-1), "patience"),
    (lambda R: R("SparseCategoricalAccuracy")(name="my acc"), "name"),
    (lambda R: R("Synthetic")(input_shape=[]), "input_shape"),
    (lambda R: R("Cifar100")(label_mode="medium"), "label_mode"),
    (lambda R: R("Sequential")([]), "layers"),
    (lambda R: R("Sequential")([R("Adam")()]), "layers[0]"),
])
def test_constructor_validation_names_the_field(reg, make, path):
    with pytest.raises(ValidationError, match=re.escape(f"(path={path})")):
        make(reg.resolve)


def test_activations_are_strings_or_components(reg):
    R = reg.resolve
    for act in list(c.ACTIVATION_NAMES) + [None]:
        assert R("Dense")(3, activation=act).activation == act
    for name in EXPECTED["activation"]:
        layer = R("Dense")(3, activation=R(name)())
        assert isinstance(layer.activation, c.Activation)
    fn = {name: R(name).function_name for name in EXPECTED["activation"]}
    assert fn["ReLU"] == "relu" and fn["LeakyReLU"] == "leaky_relu" and fn["PReLU"] is None
    assert set(v for v in fn.values() if v) <= set(c.ACTIVATION_NAMES)
    with pytest.raises(ValidationError):
        R("Dense")(3, activation=R("Adam")())


def test_unknown_keyword_names_the_nearest_valid_key(reg):
    with pytest.raises(ValidationError, match="did you mean 'learning_rate'"):
        reg.resolve("Adam")(learning_rat=0.1)


def test_datasets_load_through_mldsl_data(reg, tmp_path, monkeypatch):
    R = reg.resolve
    s = R("Synthetic")(num_samples=50, input_shape=[3], num_classes=2, seed=3).load()
    assert isinstance(s, data.DataSplits) and s.x_train.shape == (40, 3)
    np.testing.assert_array_equal(s.x_train, data.load_synthetic(50, [3], 2, 3).x_train)
    assert R("Digits")(test_split=0.5, seed=1).load().num_classes == 10
    np.savez(tmp_path / "d.npz", x=np.arange(20.0).reshape(10, 2), y=np.arange(10) % 2)
    assert R("Npz")(str(tmp_path / "d.npz")).load().num_classes == 2
    (tmp_path / "d.csv").write_text("".join(f"{i},{i % 2}\n" for i in range(10)))
    assert len(R("Csv")(str(tmp_path / "d.csv"), test_split=0.3).load().x_test) == 3
    data.write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((12, 28, 28), np.uint8))
    data.write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(12, dtype=np.uint8) % 10)
    s = R("Mnist")(path=str(tmp_path), test_size=4).load()
    assert (len(s.x_train), len(s.x_test)) == (8, 4)
    x = np.zeros((3, 32, 32, 3), np.uint8)
    np.savez(tmp_path / "c.npz", x_train=x, y_train=[1, 2, 3], x_test=x, y_test=[0, 0, 9])
    assert R("Cifar10")(path=str(tmp_path / "c.npz")).load().x_test.shape == (3, 32, 32, 3)
    with pytest.raises(DataError, match="missing.npz"):
        R("Npz")(str(tmp_path / "missing.npz")).load()


def test_json_naming_python_callables_is_refused_without_importing(reg):
    for name in ("os.system", "__import__", "eval", "subprocess.run", "antigravity.fly"):
        doc = {"_type": "Experiment", "model": {"_type": name, "command": "echo hacked"}}
        before = set(sys.modules)
        with pytest.raises(UnknownTypeError) as err:
            sym.from_json(doc, resolver=reg.json_resolver)
        assert name in str(err.value)
        assert set(sys.modules) == before


def test_float_range_spec():
    spec = c.FloatRange(0.0, 0.0, 1.0, max_inclusive=False)
    assert spec.apply(0) == 0.0 and spec.apply(0.999) == 0.999
    for bad in (1.0, -0.01, float("nan")):
        with pytest.raises(ValidationError, match=r"\(path=x\)"):
            spec.apply(bad, "x")
    assert "max_inclusive=False" in repr(spec)
    positive = c.FloatRange(1.0, min_value=0.0, min_inclusive=False)
    with pytest.raises(ValidationError, match=r"out of range \(0.0, inf\)"):
        positive.apply(0.0)
