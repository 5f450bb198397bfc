import pytest

from mldsl import symbolic as sym
from mldsl.errors import KeyPathError

KP = sym.KeyPath


@pytest.mark.parametrize("text,keys", [
    ("", ()),
    ("a", ("a",)),
    ("model.layers[1].units", ("model", "layers", 1, "units")),
    ("[0].a", (0, "a")),
    ('a["x.y"]', ("a", "x.y")),
    ("a['q']", ("a", "q")),
    ("a[-1]", ("a", -1)),
])
def test_parse(text, keys):
    assert KP.parse(text).keys == keys


@pytest.mark.parametrize("bad", [".a", "a..b", "a[", "a[x]", "a]b", "a b"])
def test_parse_errors(bad):
    with pytest.raises(KeyPathError):
        KP.parse(bad)


def test_str_roundtrip_and_ops():
    p = KP(["model", "layers", 1, "units"])
    assert str(p) == "model.layers[1].units" and p == "model.layers[1].units"
    assert KP.parse(str(KP(["a", "x.y", 2]))) == KP(["a", "x.y", 2])
    assert str(KP(["a b"])) == '["a b"]'
    assert p.key == "units" and p.parent == "model.layers[1]" and p.depth == 4
    assert KP() .is_root and not KP() and KP().key is None
    assert KP("a") + "b" + 0 == "a.b[0]" and KP("a") + KP(["b"]) == "a.b"
    assert hash(KP.parse("a.b")) == hash("a.b")
    assert p[:2] == "model.layers" and list(KP("a")) == ["a"]
    assert KP.parse("a").is_prefix_of("a.b") and not KP.parse("b").is_prefix_of("a.b")
    assert sorted([KP.parse("b"), KP.parse("a[1]"), KP.parse("a[0]")]) == ["a[0]", "a[1]", "b"]
    assert repr(KP.parse("a[1]")) == "KeyPath('a[1]')"
    with pytest.raises(AttributeError):
        p._keys = ()
    with pytest.raises(KeyPathError):
        KP([1.5])
    with pytest.raises(KeyPathError):
        KP.parse(1.5)
    assert KP.from_value(None) == "" and KP.from_value(3) == "[3]" and KP.from_value(("a", 1)) == "a[1]"
