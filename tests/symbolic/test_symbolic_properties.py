"""Property tests: JSON round trip and clone give equal values for generated symbolic trees."""
import copy
import pickle

from hypothesis import HealthCheck, given, settings, strategies as st

from mldsl import symbolic as sym
from mldsl.symbolic import typing as pt


@sym.members([("a", pt.Any(None), "Anything."), ("b", pt.Int(0)), ("c", pt.List(pt.Any(), default=[]))])
class PNode(sym.Object):
    type_name = "symt.prop.Node"


@sym.members([("x", pt.Float(0.0)), ("y", pt.Str("")), ("child", pt.Object(PNode).noneable())])
class PLeafy(sym.Object):
    type_name = "symt.prop.Leafy"


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=8),
    st.floats(allow_nan=True, allow_infinity=True),
)
keys = st.text(min_size=1, max_size=6).filter(lambda k: not k.startswith("_"))
special_keys = st.sampled_from(["_type", "_tuple", "_float", "_dict", "a.b", "x[0]", "with space"])


def trees(leaves):
    def extend(children):
        return st.one_of(
            st.lists(children, max_size=4).map(sym.List),
            st.dictionaries(st.one_of(keys, special_keys), children, max_size=4).map(sym.Dict),
            st.tuples(children, children),
            st.builds(PNode, a=children, b=st.integers(-5, 5), c=st.lists(children, max_size=3)),
            st.builds(PLeafy, x=st.floats(allow_nan=True), y=st.text(max_size=4),
                      child=st.one_of(st.none(), st.builds(PNode, a=children))),
        )

    return st.recursive(leaves, extend, max_leaves=12)


values = trees(scalars)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(values)
def test_json_roundtrip(x):
    back = sym.from_json(sym.to_json(x))
    assert sym.eq(back, x)
    assert sym.eq(sym.from_json_str(sym.to_json_str(x)), x)
    if isinstance(x, sym.Symbolic):
        assert back == x and hash(back) == hash(x)


@SETTINGS
@given(values)
def test_clone_equal(x):
    for deep in (False, True):
        c = sym.clone(x, deep=deep)
        assert sym.eq(c, x)
        if isinstance(x, sym.Symbolic):
            assert c == x and hash(c) == hash(x) and c.sym_parent is None
            # every node of the clone knows its place
            sym.traverse(c, lambda p, v, parent: (not isinstance(v, sym.Symbolic)
                                                  or v.sym_path == p) or (_ for _ in ()).throw(AssertionError(p)))
    assert sym.eq(copy.deepcopy(x), x)


@SETTINGS
@given(values)
def test_paths_resolve_and_diff_empty(x):
    if not isinstance(x, sym.Symbolic):
        return
    for path, value in sym.query(x).items():
        assert sym.eq(x.sym_get(path), value)
    assert not sym.diff(x, x.clone(deep=True))
    assert sym.eq(pickle.loads(pickle.dumps(x)), x)


@SETTINGS
@given(values, values)
def test_diff_consistent_with_eq(a, b):
    assert bool(sym.diff(a, b)) == (not sym.eq(a, b))
