"""The catalogue is the one list of activations, optimizer updates and losses: the compiled cores' enum
codes equal its codes, and every layer above reads its names from it."""
import pathlib
import re

import pytest

from mldsl.kernels import catalogue

KERNELS = pathlib.Path(catalogue.__file__).resolve().parent


def enum_codes(source: str, prefix: str) -> dict:
    """``{"ACT_RELU": 1, ...}``: the entries named ``<prefix>*`` of the ``cdef enum`` blocks of a .pxi/.pyx."""
    text = (KERNELS / source).read_text()
    codes = {}
    for block in re.findall(r"^cdef enum:\n((?:[ \t]+.*\n|\n)+)", text, flags=re.M):
        for name, value in re.findall(r"^\s+(\w+)\s*=\s*(\d+)", block, flags=re.M):
            if name.startswith(prefix):
                codes[name] = int(value)
    return codes


@pytest.mark.parametrize("source, prefix, entries", [
    ("_act.pxi", "ACT_", catalogue.ACTIVATIONS),
    ("_optim.pxi", "OPT_", catalogue.UPDATES),
    ("step.pyx", "LOSS_", catalogue.LOSSES),
], ids=["activations", "updates", "losses"])
def test_compiled_codes_equal_the_catalogue(source, prefix, entries):
    short = {"sparse_categorical_crossentropy": "SPARSE_CE", "categorical_crossentropy": "CE"}
    want = {f"{prefix}{short.get(name, name).upper()}": e.code for name, e in entries.items()}
    assert enum_codes(source, prefix) == want
    assert sorted(want.values()) == list(range(len(want)))       # dense codes: one per entry


def test_enum_parser_reads_a_changed_code(tmp_path, monkeypatch):
    """The check above fails when a code in the .pxi drifts from the catalogue."""
    text = (KERNELS / "_act.pxi").read_text().replace("ACT_SELU = 10", "ACT_SELU = 12")
    (tmp_path / "_act.pxi").write_text(text)
    monkeypatch.setattr(__import__(__name__), "KERNELS", tmp_path)
    assert enum_codes("_act.pxi", "ACT_")["ACT_SELU"] == 12


def test_compiled_modules_and_twin_expose_every_catalogue_activation():
    import mldsl.kernels as K
    from mldsl.kernels import reference as R
    for name in catalogue.ACTIVATIONS:
        for ns in (K, R):
            assert callable(getattr(ns, f"{name}_forward")) and callable(getattr(ns, f"{name}_backward"))
    import inspect
    assert K.selu_forward.__module__.endswith("activations")
    assert list(inspect.signature(K.selu_forward).parameters) == ["x", "out"]
    assert inspect.signature(R.leaky_relu_backward).parameters["alpha"].default == 0.2
    assert "negative_slope" in K.leaky_relu_forward.__doc__


def test_dsl_names_are_keras_names_and_the_language_reads_them():
    from mldsl import components
    assert components.ACTIVATION_NAMES is catalogue.ACTIVATION_NAMES
    for name in catalogue.ACTIVATION_NAMES:
        assert catalogue.ACTIVATIONS[name].keras == name          # a string passes to Keras unchanged
    assert "gelu_tanh" not in catalogue.ACTIVATION_NAMES and {"selu", "softplus"} <= set(catalogue.ACTIVATION_NAMES)


def test_optimizer_entries_choose_rules_and_states():
    from types import SimpleNamespace as NS
    sgd = catalogue.OPTIMIZERS["sgd"]
    assert [sgd.update({**sgd.defaults, **h}).name for h in ({}, {"momentum": 0.9},
                                                              {"momentum": 0.9, "nesterov": True})] == \
        ["sgd", "momentum", "nesterov"]
    rms = NS(name="rmsprop", hyper={**catalogue.OPTIMIZERS["rmsprop"].defaults, "momentum": 0.5})
    assert catalogue.state_buffers(rms) == (("velocity", 0.0), ("momentum_buffer", 0.0))
    ada = NS(name="adagrad", hyper={**catalogue.OPTIMIZERS["adagrad"].defaults, "initial_accumulator_value": 0.3})
    assert catalogue.state_buffers(ada) == (("accumulator", 0.3),)
    for opt in catalogue.OPTIMIZERS.values():
        rule = opt.update(opt.defaults)
        assert set(rule.hyper) <= set(opt.defaults), opt.name
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'; known: sgd, adam"):
        catalogue.optimizer("lbfgs")
