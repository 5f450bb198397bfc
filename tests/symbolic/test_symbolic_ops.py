
from mldsl import symbolic as sym
from mldsl.symbolic import typing as pt

from symbolic_helpers import SymTAdam, SymTDense, SymTDropout, SymTSGD, exp, make_experiment  # noqa: F401


def test_eq_ne_free_functions():
    assert sym.eq(float("nan"), float("nan")) and sym.eq((1, [2]), (1, [2]))
    assert sym.ne(SymTDense(1), SymTDense(2)) and not sym.eq((1,), [1])
    assert sym.eq({"a": [1]}, sym.Dict(a=[1])) and sym.eq(sym.Dict(a=[1]), {"a": [1]})


def test_diff_equal_is_empty(exp):
    d = sym.diff(exp, exp.clone(deep=True))
    assert not d and repr(d) == "Diff()" and d.flatten() == {}


def test_diff_tree(exp):
    other = exp.clone(deep=True, override={"training.batch_size": 256, "model.layers[2].units": 5})
    d = sym.diff(exp, other)
    assert d
    assert repr(d) == ("SymTExperiment(model=SymTSequential(layers=[2: SymTDense(units=Diff(left=10, right=5))]), "
                       "training={batch_size=Diff(left=32, right=256)})")
    assert d.flatten() == {"model.layers[2].units": (10, 5), "training.batch_size": (32, 256)}
    text = str(d)
    assert "batch_size=Diff(left=32, right=256)" in text and "\n" in text
    assert "seed" not in text and "layers[0]" not in text
    assert d.children["training"].children["batch_size"].is_leaf


def test_diff_type_change_and_lengths():
    a = sym.Dict(opt=SymTAdam(), xs=[1, 2], only_left=1)
    b = sym.Dict(opt=SymTSGD(), xs=[1], only_right=2)
    d = sym.diff(a, b)
    flat = d.flatten()
    assert flat["opt"] == (SymTAdam(), SymTSGD())
    assert flat["xs[1]"] == (2, sym.MISSING)
    assert flat["only_left"] == (1, sym.MISSING) and flat["only_right"] == (sym.MISSING, 2)
    assert "opt=Diff(left=SymTAdam(learning_rate=0.001), right=SymTSGD(" in repr(d)
    assert repr(sym.diff(1, 2)) == "Diff(left=1, right=2)"
    assert sym.diff(1, 2) == sym.Diff(1, 2)


def test_query_by_path_and_where(exp):
    q = sym.query(exp, r"units")
    assert q == {"model.layers[0].units": 512, "model.layers[2].units": 10}
    assert list(sym.query(exp, r"^model\.layers\[\d+\]$")) == ["model.layers[0]", "model.layers[1]",
                                                               "model.layers[2]"]
    dense = sym.query(exp, where=lambda v: isinstance(v, SymTDense))
    assert list(dense) == ["model.layers[0]", "model.layers[2]"]
    by_parent = sym.query(exp, where=lambda v, parent: isinstance(parent, SymTDropout))
    assert by_parent == {"model.layers[1].rate": 0.2}
    both = sym.query(exp, "layers", where=lambda v: v == 10)
    assert both == {"model.layers[2].units": 10}
    # a selected node is not entered unless asked
    assert list(sym.query(exp, "layers")) == ["model.layers"]
    assert "model.layers[0].units" in sym.query(exp, "layers", enter_selected=True)
    everything = sym.query(exp)
    assert "" not in everything and "model.layers[0].use_bias" in everything


def test_traverse_orders(exp):
    pre, post = [], []
    sub = exp.model
    assert sym.traverse(sub, lambda p, v, parent: pre.append(str(p)),
                        lambda p, v, parent: post.append(str(p)))
    assert pre[:3] == ["", "layers", "layers[0]"] and post[-1] == "" and post[-2] == "layers"
    assert pre.index("layers[0].units") > pre.index("layers[0]")
    assert post.index("layers[0].units") < post.index("layers[0]")


def test_traverse_stop_descent_and_stop_all(exp):
    seen = []

    def pre(p, v, parent):
        seen.append(str(p))
        return not isinstance(v, SymTDense)

    sym.traverse(exp, pre)
    assert "model.layers[0]" in seen and "model.layers[0].units" not in seen
    stopped = []
    ok = sym.traverse(exp, postorder_visitor_fn=lambda p, v, parent: stopped.append(str(p)) or str(p) != "seed")
    assert ok is False and stopped[-1] == "seed" and "tags" not in stopped


def test_traverse_parent_argument(exp):
    parents = {}
    sym.traverse(exp, lambda p, v, parent: parents.__setitem__(str(p), parent))
    assert parents["model.layers[1]"] is exp.model.layers and parents[""] is None
    assert sym.traverse(3, lambda p, v, parent: True) is True


def test_format_compact(exp):
    assert repr(SymTDense(3, "relu")) == "SymTDense(units=3, activation='relu', use_bias=True)"
    assert sym.format(SymTDense(3), compact=True, hide_default_values=True) == "SymTDense(units=3)"
    assert repr(sym.Dict(a=1, b="x")) == "{a=1, b='x'}"
    assert repr(sym.List([1, (2, 3)])) == "[1, (2, 3)]"
    assert repr(sym.Dict({"a b": 1})) == "{'a b'=1}"
    assert sym.format(float("nan")) == "float('nan')" and sym.format((1,)) == "(1,)"
    assert sym.format(len) == "len" and sym.format("s") == "'s'"


def test_format_multiline(exp):
    text = sym.format(exp)
    assert text.splitlines()[0] == "SymTExperiment("
    assert "  model=SymTSequential(" in text and "      SymTDense(\n        units=512," in text
    assert text.endswith(")") and str(exp) == text
    assert sym.format(sym.List([1, 2])) == "[1, 2]"
    assert sym.format(sym.Dict()) == "{}"


def test_format_verbose_and_hide_defaults(exp):
    text = exp.format(verbose=True, hide_default_values=True)
    assert "  # The model.\n  model=SymTSequential(" in text
    assert "# Number of output units.\n        units=512," in text
    assert "use_bias" not in text and "seed" not in text and "batch_size" not in text
    assert "training={}" in text
    plain = exp.format()
    assert "#" not in plain and "use_bias=True" in plain
    exp.rebind({"training.batch_size": 8})
    assert "# Examples per step.\n    batch_size=8" in exp.format(verbose=True, hide_default_values=True)


def test_format_multiline_docstring():
    @sym.members([("x", pt.Int(1), "First line.\nSecond line.")])
    class Doc(sym.Object):
        pass

    assert Doc().format(verbose=True) == "Doc(\n  # First line.\n  # Second line.\n  x=1\n)"


def test_as_symbolic_wraps_plain_containers_only():
    from mldsl import symbolic as sym

    d = sym.as_symbolic({"a": [1, 2]})
    assert isinstance(d, sym.Dict) and isinstance(d["a"], sym.List) and d.sym_get("a[1]") == 2
    assert isinstance(sym.as_symbolic([1, {"b": 2}]), sym.List)
    node = sym.Dict(x=1)
    assert sym.as_symbolic(node) is node and sym.as_symbolic(3) == 3 and sym.as_symbolic("s") == "s"
