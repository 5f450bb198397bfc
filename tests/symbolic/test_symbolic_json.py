import json
import math

import pytest

import mldsl
from mldsl import symbolic as sym
from mldsl.errors import SerializationError, UnknownTypeError, ValidationError
from mldsl.symbolic import typing as pt

from symbolic_helpers import SymTDense, SymTExperiment, exp, make_experiment  # noqa: F401


def test_json_shape(exp):
    j = exp.to_json()
    assert j["_type"] == "symt.Experiment"
    assert j["model"]["layers"][0] == {"_type": "symt.Dense", "units": 512, "activation": "relu",
                                       "use_bias": True}
    assert j["training"]["batch_size"] == 32 and j["tags"] == []
    json.dumps(j)  # plain JSON
    assert sym.to_json((1, 2)) == {"_tuple": [1, 2]}
    assert sym.to_json(float("nan")) == {"_float": "nan"}
    assert sym.to_json([float("inf"), -float("inf")]) == [{"_float": "inf"}, {"_float": "-inf"}]
    assert sym.to_json(sym.Dict({"_type": 1})) == {"_dict": {"_type": 1}}


def test_roundtrip(exp):
    back = sym.from_json(exp.to_json())
    assert back == exp and type(back) is SymTExperiment
    assert back.model.layers[0].sym_path == "model.layers[0]"
    assert isinstance(back.training, sym.Dict) and back.training.value_spec is not None
    for v in [(1, "a"), float("nan"), {"_type": [1]}, [1, {"x": (2,)}], None, True, "s", 1.5]:
        assert sym.eq(sym.from_json(json.loads(json.dumps(sym.to_json(v)))), v)


def test_defaults_may_be_omitted_and_hidden(exp):
    small = exp.to_json(hide_default_values=True)
    assert "seed" not in small and "use_bias" not in small["model"]["layers"][0]
    assert sym.from_json(small) == exp
    assert sym.from_json({"_type": "symt.Dense", "units": 3}) == SymTDense(3)


def test_json_str_and_files(tmp_path, exp):
    text = sym.to_json_str(exp)
    assert sym.from_json_str(text) == exp
    p = tmp_path / "exp.json"
    assert sym.save(exp, p) == str(p)
    assert json.loads(p.read_text())["_type"] == "symt.Experiment"
    assert sym.load(p) == exp and mldsl.load(p) == exp
    assert exp.save(tmp_path / "method.json") == str(tmp_path / "method.json")  # pg's Symbolic.save
    assert mldsl.load(tmp_path / "method.json") == exp
    assert sym.to_json_str(float("nan")) == '{"_float": "nan"}'


def test_load_errors(tmp_path):
    with pytest.raises(SerializationError, match="Cannot read"):
        sym.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SerializationError, match="bad.json: invalid JSON"):
        sym.load(bad)


def test_validation_on_load_carries_json_path():
    doc = {"_type": "symt.Experiment", "model": {"_type": "symt.Sequential", "layers": [
        {"_type": "symt.Dense", "units": 0}]}}
    with pytest.raises(ValidationError, match=r"out of range .*\(path=model.layers\[0\].units\)"):
        sym.from_json(doc)
    with pytest.raises(ValidationError, match=r"did you mean 'units'"):
        sym.from_json({"_type": "symt.Dense", "unit": 1})


def test_unknown_type_named():
    with pytest.raises(UnknownTypeError) as e:
        sym.from_json({"_type": "symt.Dence", "units": 1})
    assert "'symt.Dence'" in str(e.value) and "did you mean 'symt.Dense'" in str(e.value)
    assert e.value.type_name == "symt.Dence"
    with pytest.raises(UnknownTypeError, match="'nope'"):
        sym.lookup_type("nope")


def test_malformed_markers():
    for doc in [{"_type": 3}, {"_float": "1e5"}, {"_tuple": 1}, {"_tuple": [], "x": 1}, {"_dict": 1}]:
        with pytest.raises(SerializationError):
            sym.from_json(doc)
    with pytest.raises(SerializationError):
        sym.from_json(object())


def test_unserializable_values():
    with pytest.raises(SerializationError, match=r"Cannot convert object .*\(path=a\)"):
        sym.to_json(sym.Dict(a=object()))
    with pytest.raises(SerializationError, match="keys must be str"):
        sym.to_json({1: 2})
    with pytest.raises(SerializationError):
        sym.to_json([sym.MISSING])
    with pytest.raises(SerializationError):
        sym.to_json(sym.MISSING)


def test_partial_roundtrip():
    d = SymTDense.partial(activation="elu")
    j = d.to_json()
    assert "units" not in j
    with pytest.raises(ValidationError, match="Required field 'units'"):
        sym.from_json(j)
    assert sym.from_json(j, allow_partial=True) == d


def test_resolver_first():
    @sym.members([("units", pt.Int())])
    class Other(sym.Object):
        pass

    got = sym.from_json({"_type": "symt.Dense", "units": 2}, resolver=lambda n: Other if n == "symt.Dense" else None)
    assert type(got) is Other
    assert type(sym.from_json({"_type": "symt.Dense", "units": 2}, resolver=lambda n: None)) is SymTDense


def test_register_type():
    @sym.members([("a", pt.Int(0))])
    class Aliased(sym.Object):
        pass

    assert sym.register_type("alias.A", Aliased) is Aliased
    assert sym.lookup_type("alias.A") is Aliased
    assert type(sym.from_json({"_type": "alias.A"})) is Aliased
    from mldsl.errors import RegistryError

    with pytest.raises(RegistryError):
        sym.register_type("x", dict)
    with pytest.raises(RegistryError):
        sym.register_type("", Aliased)
    assert "alias.A" in sym.registered_types()


def test_nan_fields_roundtrip():
    @sym.members([("x", pt.Float())])
    class F(sym.Object):
        pass

    f = F(float("nan"))
    back = sym.from_json_str(sym.to_json_str(f))
    assert math.isnan(back.x) and back == f and hash(back) == hash(f)
