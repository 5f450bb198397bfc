import pytest

from mldsl import symbolic as sym
from mldsl.errors import IndexOutOfRangeError, SealedError, ValidationError
from mldsl.symbolic import typing as pt

from symbolic_helpers import SymTDense


def test_dict_basics_and_attribute_access():
    d = sym.Dict({"a": 1}, b=[1, 2], c={"x": 1})
    assert d.a == 1 and isinstance(d.b, sym.List) and isinstance(d.c, sym.Dict)
    assert d.c.sym_path == "c" and d.b.sym_parent is d
    d.e = 5
    assert d["e"] == 5
    del d.e
    assert "e" not in d
    with pytest.raises(AttributeError, match="did you mean 'a'"):
        d.aa
    with pytest.raises(AttributeError):
        del d.zz
    with pytest.raises(ValidationError, match="keys must be str"):
        d[1] = 2
    with pytest.raises(KeyError):
        del d["nope"]


def test_dict_with_schema():
    spec = pt.Dict([("lr", pt.Float(0.1, min_value=0.0), "Step."), ("n", pt.Int())])
    d = sym.Dict({"n": 3}, value_spec=spec)
    assert d == {"lr": 0.1, "n": 3} and list(d) == ["lr", "n"] and d.value_spec is spec
    with pytest.raises(ValidationError, match=r"Unknown key 'nn' for Dict; did you mean 'n'\?"):
        d["nn"] = 1
    with pytest.raises(ValidationError, match=r"out of range .*\(path=lr\)"):
        d.lr = -1.0
    with pytest.raises(ValidationError, match="Cannot delete field"):
        del d["lr"]
    d.rebind(lr=sym.MISSING)  # resets to the default
    d.lr = 0.5
    d.rebind({"lr": sym.MISSING})
    assert d.lr == 0.1
    with pytest.raises(ValidationError, match="Required field 'n'|Required value"):
        sym.Dict({}, value_spec=spec)
    with pytest.raises(TypeError):
        sym.Dict({}, value_spec=pt.Int())


def test_dict_mutators():
    d = sym.Dict(a=1, b=2)
    d.update({"c": {"x": 1}}, d=4)
    assert d.c.sym_path == "c" and d.d == 4
    d |= {"e": 5}
    assert d.setdefault("e", 9) == 5 and d.setdefault("f", [1]) == [1]
    assert d.pop("f") == [1] and d.pop("zz", None) is None
    with pytest.raises(KeyError):
        d.pop("zz")
    assert d.popitem() == ("e", 5)
    c = d.copy()
    assert c == d and c is not d and c.c is not d.c
    d.clear()
    assert d == {} and not c.c.sym_parent is None
    with pytest.raises(KeyError):
        d.popitem()
    spec = pt.Dict([("a", pt.Int(1))])
    sd = sym.Dict(value_spec=spec)
    with pytest.raises(ValidationError):
        sd.update(b=1)
    with pytest.raises(ValidationError):
        sd.update(a="x")
    assert sd.a == 1
    sd.update(a=sym.MISSING)
    assert sd.a == 1


def test_dict_equality_and_hash():
    a = sym.Dict(x=1, y=[1, 2])
    assert a == {"y": [1, 2], "x": 1} and a == sym.Dict(y=[1, 2], x=1)
    assert hash(a) == hash(sym.Dict(y=[1, 2], x=1))
    assert a != {"x": 1} and a != [1] and a != sym.Dict(x=1, y=[2, 1])


def test_list_basics():
    lst = sym.List([1, {"a": 2}, [3]])
    assert isinstance(lst[1], sym.Dict) and lst[1].sym_path == "[1]" and lst[2].sym_parent is lst
    lst.append(SymTDense(1))
    assert lst[3].sym_path == "[3]"
    lst.insert(0, "x")
    assert lst[4].sym_path == "[4]" and lst[2].sym_path == "[2]"
    assert lst.pop(0) == "x" and lst[3].sym_path == "[3]"
    lst.remove(1)
    assert lst[0] == {"a": 2} and lst[0].sym_path == "[0]"
    with pytest.raises(ValueError):
        lst.remove(42)
    lst.extend([5, 6])
    lst += [7]
    del lst[-1]
    assert lst[-1] == 6
    lst[-1] = 8
    assert lst[-1] == 8
    lst[0:2] = ["p", "q"]
    assert lst[:2] == ["p", "q"]
    lst.reverse()
    assert lst[-1] == "p"
    c = lst.copy()
    assert c == lst and c is not lst
    lst.clear()
    assert lst == []


def test_list_write_past_end_is_error():
    lst = sym.List([1, 2])
    with pytest.raises(IndexOutOfRangeError, match=r"writing past the end .*\(path=\[2\]\)"):
        lst[2] = 3
    with pytest.raises(IndexError):
        lst[-3] = 3
    holder = sym.Dict(xs=[1])
    with pytest.raises(IndexOutOfRangeError, match=r"\(path=xs\[1\]\)"):
        holder.rebind({"xs[1]": 2})
    with pytest.raises(ValidationError, match="must be an int"):
        holder.rebind({"xs.a": 2})
    assert holder.xs == [1]


def test_list_spec_and_sizes():
    spec = pt.List(pt.Int(min_value=0), min_size=1, max_size=3)
    lst = sym.List([1, 2], value_spec=spec)
    with pytest.raises(ValidationError, match=r"out of range .*\(path=\[2\]\)"):
        lst.append(-1)
    lst.append(3)
    with pytest.raises(ValidationError, match="greater than max size 3"):
        lst.append(4)
    with pytest.raises(ValidationError, match="greater than max size 3"):
        lst.insert(0, 4)
    with pytest.raises(ValidationError, match="out of range"):
        lst[0] = -5
    with pytest.raises(ValidationError, match="less than min size"):
        lst.clear()
    assert lst == [1, 2, 3]
    lst.sort(reverse=True)
    assert lst == [3, 2, 1]
    lst *= 1
    with pytest.raises(TypeError):
        sym.List([], value_spec=pt.Int())


def test_list_duplicates_become_copies():
    d = SymTDense(2)
    lst = sym.List([d, d])
    assert lst[0] is d and lst[1] is not d and lst[1] == d and lst[1].sym_path == "[1]"
    lst *= 2
    assert len(lst) == 4 and len({id(x) for x in lst}) == 4


def test_list_equality_and_hash():
    assert sym.List([1, [2]]) == [1, [2]] and hash(sym.List([1, [2]])) == hash(sym.List([1, [2]]))
    assert sym.List([1]) != (1,) and sym.List([1]) != [1, 2]


def test_sealed_containers():
    d = sym.Dict(a=1, xs=[1, 2]).seal()
    with pytest.raises(SealedError, match=r"\(path=a\)"):
        d.a = 2
    with pytest.raises(SealedError, match=r"\(path=xs\[0\]\)"):
        d.xs[0] = 5
    with pytest.raises(SealedError):
        d.xs.append(3)
    with pytest.raises(SealedError):
        del d["a"]
    with pytest.raises(SealedError):
        d.update(b=1)
    assert d.is_sealed and d.xs.is_sealed
    d.seal(False)
    d.a = 2
    assert d.a == 2


def test_partial_dict():
    spec = pt.Dict([("n", pt.Int())])
    d = sym.Dict({}, value_spec=spec, allow_partial=True)
    assert d.n is sym.MISSING and d.is_partial
    d.n = 3
    assert not d.is_partial
