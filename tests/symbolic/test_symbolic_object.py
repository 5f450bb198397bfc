import pytest

from mldsl import symbolic as sym
from mldsl.errors import KeyPathError, ValidationError
from mldsl.symbolic import typing as pt

from symbolic_helpers import exp  # noqa: F401
from symbolic_helpers import SymTAdam, SymTDense, SymTDropout, SymTExperiment, SymTSequential


def test_positional_keyword_defaults():
    d = SymTDense(10, activation="relu")
    assert (d.units, d.activation, d.use_bias) == (10, "relu", True)
    assert SymTDense(units=3).activation is None
    assert dict(d.sym_init_args) == {"units": 10, "activation": "relu", "use_bias": True}
    assert isinstance(d.sym_init_args, sym.Dict)


def test_too_many_positional_and_duplicate():
    with pytest.raises(ValidationError, match="takes 3 positional"):
        SymTDense(1, None, True, 4)
    with pytest.raises(ValidationError, match="multiple values for field 'units'"):
        SymTDense(1, units=2)


def test_unknown_keyword_names_nearest():
    with pytest.raises(ValidationError) as e:
        SymTDense(units=1, activaton="relu")
    assert "did you mean 'activation'?" in str(e.value)
    assert str(e.value).endswith("(path=activaton)")


def test_missing_required():
    with pytest.raises(ValidationError, match=r"Required field 'units' of SymTDense is missing. \(path=units\)"):
        SymTDense()
    with pytest.raises(ValidationError, match="Required fields 'a', 'b' of Two are missing"):
        @sym.members([("a", pt.Int()), ("b", pt.Int())])
        class Two(sym.Object):
            pass
        Two()


def test_range_error_carries_path(exp):
    with pytest.raises(ValidationError) as e:
        exp.rebind({"training.batch_size": 0})
    assert str(e.value) == "Value 0 is out of range (min=1, max=None). (path=training.batch_size)"
    assert e.value.path == "training.batch_size"
    assert exp.training.batch_size == 32


def test_nested_construction_error_path():
    with pytest.raises(ValidationError, match=r"\(path=training.batch_size\)"):
        SymTExperiment(model=SymTSequential([]), training={"batch_size": -1})
    with pytest.raises(ValidationError, match=r"\(path=training.batchsize\)") as e:
        SymTExperiment(model=SymTSequential([]), training={"batchsize": 3})
    assert "did you mean 'batch_size'?" in str(e.value)


def test_inheritance_and_schema():
    @sym.members([("extra", pt.Str("x"), "Extra field.")])
    class Wide(SymTDense):
        pass

    assert list(Wide.__schema__.fields) == ["units", "activation", "use_bias", "extra"]
    w = Wide(4, extra="y")
    assert w.extra == "y" and w.units == 4
    f = Wide.__schema__.fields["units"]
    assert (f.key, f.description) == ("units", "Number of output units.")
    text = str(Wide.__schema__)
    assert "units: Int(min_value=1)" in text and "# Number of output units." in text

    @sym.members([("units", pt.Int(5))])
    class Override(SymTDense):
        pass

    assert list(Override.__schema__.fields) == ["units", "activation", "use_bias"]
    assert Override().units == 5


def test_type_name_registration():
    assert SymTDense.type_name == "symt.Dense"
    assert sym.lookup_type("symt.Dense") is SymTDense

    class Plain(sym.Object):
        pass

    assert Plain.type_name == f"{__name__}.test_type_name_registration.<locals>.Plain"
    assert sym.lookup_type(Plain.type_name) is Plain


def test_attribute_assignment_validates(exp):
    layer = exp.model.layers[0]
    layer.units = 7
    assert exp.sym_get("model.layers[0].units") == 7
    with pytest.raises(ValidationError, match=r"\(path=model.layers\[0\].units\)"):
        layer.units = 0
    with pytest.raises(ValidationError, match="did you mean 'units'"):
        layer.unit = 3
    with pytest.raises(AttributeError, match="did you mean 'units'"):
        layer.unitz


def test_reserved_field_names():
    with pytest.raises(ValidationError, match="reserved"):
        sym.members([("format", pt.Int())])
    with pytest.raises(ValidationError, match="reserved"):
        sym.members([("_x", pt.Int())])
    with pytest.raises(TypeError):
        sym.members([("a", int)])


def test_members_needs_object_subclass():
    with pytest.raises(TypeError):
        sym.members([("a", pt.Int())])(dict)


def test_parent_and_path(exp):
    layer = exp.model.layers[1]
    assert str(layer.sym_path) == "model.layers[1]"
    assert layer.sym_parent is exp.model.layers
    assert layer.sym_root is exp
    assert exp.sym_path == sym.KeyPath()
    assert exp.training.sym_path == "training"
    assert exp.sym_has("model.layers[2].units") and not exp.sym_has("model.layers[3]")


def test_sym_get_errors(exp):
    with pytest.raises(KeyPathError, match="did you mean 'layers'"):
        exp.sym_get("model.layer")
    with pytest.raises(KeyPathError, match="out of range"):
        exp.sym_get("model.layers[9]")
    with pytest.raises(KeyPathError, match="no children"):
        exp.sym_get("seed.x")
    assert exp.sym_get("nope", default=None) is None


def test_shared_child_is_copied_not_moved():
    d = SymTDense(3)
    s1 = SymTSequential([d])
    s2 = SymTSequential([d])
    assert s1.layers[0] is d and s2.layers[0] is not d and s2.layers[0] == d
    assert d.sym_parent is s1.layers


def test_self_cycle_is_prevented():
    x = sym.Dict(a=1)
    x.b = x
    assert x.b is not x and x.b == {"a": 1}


def test_default_objects_are_not_shared():
    a = SymTExperiment(model=SymTSequential([]))
    b = SymTExperiment(model=SymTSequential([]))
    assert a.training.optimizer is not b.training.optimizer
    a.training.optimizer.learning_rate = 0.5
    assert b.training.optimizer.learning_rate == 0.001


def test_partial_objects():
    d = SymTDense.partial(activation="relu")
    assert d.units is sym.MISSING and d.is_partial and d.allow_partial
    assert "units=MISSING" in repr(d)
    d.rebind(units=4)
    assert d.units == 4 and not d.is_partial
    e = SymTExperiment.partial(training={"batch_size": 3})
    assert e.model is sym.MISSING
    with pytest.raises(ValidationError):
        SymTDense(4).rebind(units=sym.MISSING)


def test_on_bound_hook():
    calls = []

    @sym.members([("x", pt.Int(0))])
    class Hooked(sym.Object):
        def _on_bound(self):
            calls.append(self.x)

    h = Hooked(1)
    h.rebind(x=2)
    h.clone()
    assert calls == [1, 2, 2]


def test_eq_hash():
    a, b = SymTDense(3, "relu"), SymTDense(3, "relu")
    assert a == b and hash(a) == hash(b) and sym.eq(a, b) and not sym.ne(a, b)
    assert a != SymTDense(4, "relu")
    assert a.sym_eq(b) and a.sym_ne(SymTDropout(0.1))
    assert len({a, b}) == 1


def test_dropout_float_conversion():
    assert SymTDropout(0).rate == 0.0 and isinstance(SymTDropout(1).rate, float)
    with pytest.raises(ValidationError, match=r"Value 1.5 is out of range \(min=0.0, max=1.0\). \(path=rate\)"):
        SymTDropout(1.5)


def test_class_without_members():
    class Flatten(sym.Object):
        pass

    assert Flatten() == Flatten() and repr(Flatten()) == "Flatten()"


def test_object_spec_rejects_wrong_type(exp):
    with pytest.raises(ValidationError, match=r"Expected SymTSequential but got str: 'x'. \(path=model\)"):
        exp.model = "x"


def test_delattr_field_refused():
    d = SymTDense(1)
    with pytest.raises(ValidationError):
        del d.units
    assert SymTAdam().learning_rate == 0.001
