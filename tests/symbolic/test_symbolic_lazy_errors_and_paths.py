"""Fast paths that must not change what users see: attribute errors build their "did you mean" text
only when read (so ``hasattr`` probes are cheap) yet read exactly as before; parsed key paths are
cached and shared; clones adopt their children directly."""
import pickle
import traceback

import pytest

from mldsl import symbolic as sym
from mldsl.errors import KeyPathError

from symbolic_helpers import SymTDense, make_experiment


def test_object_attribute_error_still_suggests_the_field():
    d = SymTDense(4)
    with pytest.raises(AttributeError) as e:
        d.unitz  # noqa: B018
    assert str(e.value) == "SymTDense has no field or attribute 'unitz'; did you mean 'units'?"
    assert e.value.args == (str(e.value),)
    assert type(e.value).__name__ == "AttributeError"
    assert repr(e.value) == f"AttributeError({str(e.value)!r})"
    text = "".join(traceback.format_exception_only(type(e.value), e.value))
    assert text == f"AttributeError: {e.value}\n"


def test_object_attribute_error_without_close_names_has_no_hint():
    with pytest.raises(AttributeError) as e:
        SymTDense(4).zzzzzz  # noqa: B018
    assert str(e.value) == "SymTDense has no field or attribute 'zzzzzz'"


def test_dict_attribute_error_suggests_the_keys_it_had_when_raised():
    d = sym.Dict(batch_size=32, num_epochs=2)
    with pytest.raises(AttributeError) as e:
        d.batch_sise  # noqa: B018
    d["batch_size_other"] = 1
    del d["batch_size"]
    assert str(e.value) == "Dict has no key or attribute 'batch_sise'; did you mean 'batch_size'?"


def test_probes_and_defaults_still_work():
    exp = make_experiment()
    assert not hasattr(exp, "to_mlx_doc") and not hasattr(exp.training, "to_mlx_doc")
    assert getattr(exp, "nope", 5) == 5 and getattr(exp.training, "nope", 6) == 6
    assert hasattr(exp, "model") and hasattr(exp.training, "batch_size")


def test_attribute_error_pickles_as_a_plain_attribute_error():
    with pytest.raises(AttributeError) as e:
        SymTDense(4).unitz  # noqa: B018
    back = pickle.loads(pickle.dumps(e.value))
    assert type(back) is AttributeError and str(back) == str(e.value)


def test_attribute_error_args_can_be_replaced():
    with pytest.raises(AttributeError) as e:
        SymTDense(4).unitz  # noqa: B018
    e.value.args = ("other",)
    assert str(e.value) == "other" and e.value.args == ("other",)


def test_parsed_paths_are_shared_and_equal_to_fresh_ones():
    a, b = sym.KeyPath.parse("model.layers[1].units"), sym.KeyPath.parse("model.layers[1].units")
    assert a == b == sym.KeyPath(("model", "layers", 1, "units")) == "model.layers[1].units"
    assert hash(a) == hash("model.layers[1].units")
    assert str(a.parent) == "model.layers[1]" and str(a[1:]) == "layers[1].units"
    assert sym.KeyPath() + a == a and str(a + "x") == "model.layers[1].units.x"
    with pytest.raises(KeyPathError):
        a + 1.5  # noqa: B018


@pytest.mark.parametrize("bad", ["a..b", ".a", "a[", "a b"])
def test_bad_paths_fail_every_time(bad):
    for _ in range(2):
        with pytest.raises(KeyPathError):
            sym.KeyPath.parse(bad)


def test_clone_adopts_children_and_keeps_paths():
    exp = make_experiment()
    exp.seal()
    out = exp.clone(deep=True)
    assert sym.eq(out, exp) and out is not exp and not out.is_sealed
    dense = out.model.layers[2]
    assert dense.sym_parent is out.model.layers and dense.sym_path == "model.layers[2]"
    assert out.training.optimizer.sym_path == "training.optimizer"
    assert dense is not exp.model.layers[2] and exp.model.layers[2].sym_parent is exp.model.layers
    out.model.layers[2].units = 3
    assert exp.model.layers[2].units == 10
