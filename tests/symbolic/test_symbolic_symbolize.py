from typing import Optional

import pytest

from mldsl import symbolic as sym
from mldsl.errors import ValidationError
from mldsl.symbolic import typing as pt

from symbolic_helpers import SymTDense


@sym.symbolize
def scaled(x: int, factor: float = 2.0, *, name: str = "s"):
    """Scale x.

    Args:
      x: The value.
      factor: The multiplier,
        spanning two lines.
    """
    return (x * factor, name)


class Box:
    """A plain class."""

    def __init__(self, width: int, label: Optional[str] = None, tags: list = ()):
        self.width = width
        self.area = width * width
        self.label_upper = (label or "").upper()

    def double(self):
        return self.width * 2


SymBox = sym.symbolize(Box)


def test_symbolize_function_schema():
    assert issubclass(scaled, sym.Functor)
    fields = scaled.__schema__.fields
    assert list(fields) == ["x", "factor", "name"]
    assert isinstance(fields["x"].value_spec, pt.Int) and not fields["x"].value_spec.has_default
    assert fields["factor"].value_spec.default == 2.0
    assert fields["x"].description == "The value."
    assert fields["factor"].description == "The multiplier, spanning two lines."


def test_functor_call_and_partial_binding():
    f = scaled(factor=3.0)
    assert f.x is sym.MISSING
    assert f(2) == (6.0, "s") and f(x=1, name="n") == (3.0, "n")
    assert scaled(1)() == (2.0, "s")
    with pytest.raises(ValidationError, match="missing argument"):
        f()
    with pytest.raises(ValidationError, match="Expected int"):
        f("a")
    with pytest.raises(ValidationError, match="did you mean 'factor'"):
        f(1, facter=2)
    with pytest.raises(TypeError):
        scaled(1)(2)
    with pytest.raises(ValidationError, match=r"Expected int .*\(path=x\)"):
        scaled("a")


def test_functor_symbolic_ops():
    f = scaled(1, factor=4.0)
    assert f == scaled(1, factor=4.0) and f.clone(override={"x": 2})() == (8.0, "s")
    back = sym.from_json(f.to_json())
    assert back == f and back() == (4.0, "s")
    assert repr(f) == "scaled(x=1, factor=4.0, name='s')"


def test_symbolize_positional_only():
    def pos(a, /, b=1):
        return a - b

    P = sym.symbolize(pos)
    assert P(5)() == 4 and P(b=2)(5) == 3


def test_symbolize_class():
    b = SymBox(3, label="hi")
    assert isinstance(b, Box) and isinstance(b, sym.Object)
    assert b.area == 9 and b.label_upper == "HI" and b.double() == 6
    assert list(SymBox.__schema__.fields) == ["width", "label", "tags"]
    b.rebind(width=4)
    assert b.area == 16 and b.width == 4  # the original __init__ re-runs
    with pytest.raises(ValidationError, match=r"Expected int .*\(path=width\)"):
        SymBox("x")
    assert sym.from_json(b.to_json()) == b and b.clone().area == 16
    assert sym.symbolize(SymTDense) is SymTDense


def test_symbolize_decorator_with_type_name():
    @sym.symbolize(type_name="short.Thing")
    class Thing:
        def __init__(self, n: int = 1):
            self.n = n

    assert Thing.type_name == "short.Thing" and sym.lookup_type("short.Thing") is Thing
    assert sym.from_json({"_type": "short.Thing", "n": 2}).n == 2

    @sym.symbolize(type_name="short.fn")
    def fn(a=1):
        return a

    assert fn.type_name == "short.fn" and fn()() == 1


def test_symbolize_class_without_init_and_varargs():
    class Empty:
        pass

    E = sym.symbolize(Empty)
    assert E() == E() and list(E.__schema__.fields) == []

    def va(a, *args, **kwargs):
        return a

    assert list(sym.symbolize(va).__schema__.fields) == ["a"]
    with pytest.raises(ValidationError):
        sym.symbolize(3)


class OneOf(sym.Object, sym.CustomTyping):
    """A minimal hyper-primitive-like value that checks every candidate against the field spec."""

    def custom_apply(self, path, value_spec, allow_partial):
        for i, c in enumerate(self.candidates):
            value_spec.apply(c, path, allow_partial)
        return True, self


OneOf = sym.members([("candidates", pt.List(pt.Any()), "Choices.")])(OneOf)


def test_custom_typing_accepts_and_checks_candidates():
    d = SymTDense(OneOf([1, 2]), activation=OneOf(["relu", None]))
    assert isinstance(d.units, OneOf) and d.units.sym_path == "units" and d.units.sym_parent is d
    with pytest.raises(ValidationError, match=r"Value 0 is out of range .*\(path=units\)"):
        SymTDense(OneOf([1, 0]))
    with pytest.raises(ValidationError, match="not in candidate list"):
        SymTDense(1, activation=OneOf(["relu", "nope"]))
    d.rebind(units=OneOf([4]))
    assert sym.from_json(d.to_json()) == d
    assert pt.Union([pt.Int(), pt.Str()]).apply(OneOf([1, "a"])).candidates == [1, "a"]


def test_custom_typing_false_continues_normal_validation():
    class Wrapped(sym.CustomTyping):
        def __init__(self, v):
            self.v = v

        def custom_apply(self, path, value_spec, allow_partial):
            return False, self.v

    assert pt.Int(min_value=1).apply(Wrapped(3)) == 3
    with pytest.raises(ValidationError, match="out of range"):
        pt.Int(min_value=1).apply(Wrapped(0))
    with pytest.raises(NotImplementedError):
        sym.CustomTyping().custom_apply(sym.KeyPath(), pt.Int(), False)
