import math
import re

import pytest

from mldsl import symbolic as sym
from mldsl.errors import ValidationError
from mldsl.symbolic import typing as pt

from symbolic_helpers import SymTAdam, SymTDense


def err(spec, value, path="a.b", at=None):
    with pytest.raises(ValidationError) as e:
        spec.apply(value, path)
    assert str(e.value).endswith(f"(path={path if at is None else at})")
    return str(e.value)


def test_mldsl_typing_reexports_the_value_specs():
    import sys

    import mldsl
    import mldsl.typing

    assert mldsl.typing is sys.modules["mldsl.typing"]  # a plain module, not an alias in sys.modules
    assert mldsl.typing.__name__ == "mldsl.typing"
    assert set(mldsl.typing.__all__) == set(pt.__all__)
    assert all(getattr(mldsl.typing, name) is getattr(pt, name) for name in pt.__all__)
    assert mldsl.symbolic is sym


def test_int():
    s = pt.Int(min_value=1)
    assert s.apply(3) == 3 and not s.has_default and s.default is sym.MISSING
    assert err(s, 0, "training.batch_size") == \
        "Value 0 is out of range (min=1, max=None). (path=training.batch_size)"
    assert "Expected int but got bool" in err(s, True)
    assert "Expected int but got float" in err(s, 1.5)
    assert "Expected int but got str: '3'" in err(s, "3")
    assert pt.Int(max_value=3).apply(-10) == -10
    assert err(pt.Int(max_value=3), 4).startswith("Value 4 is out of range (min=None, max=3).")
    with pytest.raises(ValidationError, match="Invalid default"):
        pt.Int(0, min_value=1)
    with pytest.raises(ValidationError):
        pt.Int(min_value=3, max_value=1)


def test_required_and_default():
    assert "Required value is not specified" in err(pt.Int(), sym.MISSING)
    assert pt.Int().apply(sym.MISSING, allow_partial=True) is sym.MISSING
    assert pt.Int(5).apply(sym.MISSING) == 5


def test_float():
    s = pt.Float(min_value=0, max_value=1)
    v = s.apply(1)
    assert v == 1.0 and isinstance(v, float)
    assert "out of range" in err(s, 1.01)
    assert "Expected float but got bool" in err(s, False)
    assert math.isnan(pt.Float().apply(float("nan")))


def test_str_bool_callable_any():
    assert pt.Str(regex="[a-z]+$").apply("abc") == "abc"
    assert "does not match regex" in err(pt.Str(regex="[a-z]+$"), "aB1")
    assert "Expected str" in err(pt.Str(), 1)
    assert pt.Bool().apply(False) is False
    assert "Expected bool but got int: 1; this field takes true or false" in err(pt.Bool(), 1)
    assert pt.Callable().apply(len) is len
    assert "Expected callable" in err(pt.Callable(), 3)
    assert pt.Any().apply(None) is None and pt.Any().apply(3) == 3
    assert isinstance(pt.Any().apply([1, {"a": 2}]), sym.List)
    assert isinstance(pt.Any().apply([1, {"a": 2}])[1], sym.Dict)


def test_noneable():
    s = pt.Int(min_value=1)
    assert "Value cannot be None" in err(s, None)
    n = s.noneable()
    assert n.is_noneable and n.default is None and n.apply(None) is None and n.apply(sym.MISSING) is None
    assert not s.is_noneable  # the original is unchanged
    assert pt.Int(4).noneable().default == 4
    assert pt.Str(None).is_noneable


def test_enum():
    s = pt.Enum("relu", ["relu", "elu", None])
    assert s.apply("elu") == "elu" and s.apply(None) is None and s.default == "relu"
    msg = err(s, "reluu")
    assert "not in candidate list" in msg and "did you mean 'relu'" in msg
    assert "not in candidate list" in err(pt.Enum(1, [1, 2]), True)
    with pytest.raises(ValidationError):
        pt.Enum("x", ["a"])
    with pytest.raises(ValidationError):
        pt.Enum(sym.MISSING, [])


def test_list_spec():
    s = pt.List(pt.Int(min_value=0), min_size=1, max_size=2)
    v = s.apply([1, 2], "xs")
    assert isinstance(v, sym.List) and v == [1, 2] and v.value_spec is s
    assert err(s, [1, -1], "xs", at="xs[1]") == "Value -1 is out of range (min=0, max=None). (path=xs[1])"
    assert "Length 0 is less than min size 1" in err(s, [])
    assert "Length 3 is greater than max size 2" in err(s, [1, 2, 3])
    assert "Expected list but got tuple" in err(s, (1,))
    assert pt.List(pt.Int(), default=[1]).apply(sym.MISSING) == [1]


def test_dict_spec():
    s = pt.Dict([("a", pt.Int(1), "A."), ("b", pt.Str())])
    assert not s.has_default
    v = s.apply({"b": "x"}, "d")
    assert isinstance(v, sym.Dict) and v == {"a": 1, "b": "x"}
    msg = err(s, {"b": "x", "aa": 1}, "d", at="d.aa")
    assert "Unknown key 'aa' for Dict; did you mean 'a'?" in msg
    assert "Expected dict" in err(s, [1])
    assert pt.Dict([("a", pt.Int(1))]).apply(sym.MISSING) == {"a": 1}
    free = pt.Dict()
    assert free.apply({"x": [1]}) == {"x": [1]} and free.has_default
    assert "Dict keys must be str" in err(free, {1: 2}, "")


def test_object_spec():
    s = pt.Object(SymTDense)
    d = SymTDense(1)
    assert s.apply(d) is d
    assert "Expected SymTDense but got SymTAdam" in err(s, SymTAdam())
    dflt = pt.Object(SymTAdam, default=SymTAdam())
    a, b = dflt.apply(sym.MISSING), dflt.apply(sym.MISSING)
    assert a == b and a is not b  # defaults are copied
    with pytest.raises(TypeError):
        pt.Object("SymTDense")


def test_union():
    s = pt.Union([pt.Int(min_value=1), pt.Enum("a", ["a", "b"])])
    assert s.apply(3) == 3 and s.apply("b") == "b"
    # only the Int candidate accepts the type: its error is reported
    assert err(s, 0) == "Value 0 is out of range (min=1, max=None). (path=a.b)"
    assert "matches none of the candidates" in err(s, 1.5)
    assert pt.Union([pt.Int(), pt.Str().noneable()]).apply(None) is None


def test_spec_repr_and_schema_printing():
    assert repr(pt.Int(32, min_value=1)) == "Int(default=32, min_value=1)"
    assert repr(pt.List(pt.Int(), min_size=1)) == "List(Int(), min_size=1)"
    assert repr(pt.Str(regex="a")) == "Str(regex='a')"
    assert repr(pt.Int().noneable()) == "Int(default=None, noneable=True)"
    assert "Union([Int(), Str()])" == repr(pt.Union([pt.Int(), pt.Str()]))
    assert pt.Object(SymTDense).format() == "Object(SymTDense)"
    text = SymTDense.__schema__.format()
    assert text.splitlines()[0] == "Schema(SymTDense):"
    assert "units: Int(min_value=1)  # Number of output units." in text
    assert "units" in SymTDense.__schema__ and len(SymTDense.__schema__) == 3
    assert SymTDense.__schema__.get_field("use_bias").value_spec.default is True


def test_from_annotation():
    from typing import Literal, Optional

    assert isinstance(pt.from_annotation(int), pt.Int)
    assert pt.from_annotation(Optional[int]).is_noneable
    assert isinstance(pt.from_annotation(list[int]).element_spec, pt.Int)
    assert pt.from_annotation(Literal["a", "b"]).values == ["a", "b"]
    assert isinstance(pt.from_annotation(SymTDense), pt.Object)
    assert isinstance(pt.from_annotation(int | str), pt.Union)
    assert isinstance(pt.from_annotation(dict), pt.Dict)
    assert pt.from_annotation(float, 2.0).default == 2.0


def test_field_make_errors():
    with pytest.raises(TypeError):
        pt.Field.make(("a",))
    with pytest.raises(TypeError):
        pt.Field("", pt.Int())
    assert re.search("Field", repr(pt.Field("a", pt.Int(), "doc")))
