"""mldsl.patching: @patcher, PatcherCall, patch() with patcher calls, dicts, strings and rules."""
from typing import List, Optional

import pytest

import mldsl
from mldsl import symbolic as sym
from mldsl.errors import PatchError, RegistryError, ValidationError
from mldsl.hyper import oneof
from mldsl.patching import PatcherCall, Patcher, parse_patch, patch, patcher, resolve_patch

t = sym.typing


@sym.members([("learning_rate", t.Float(0.1, min_value=0.0), "lr"), ("momentum", t.Float(0.0), "m")])
class POpt(sym.Object):
    type_name = "tests.patching.POpt"


@sym.members([("units", t.Int(min_value=1), "units"), ("activation", t.Str("relu"), "act")])
class PLayer(sym.Object):
    type_name = "tests.patching.PLayer"


@sym.members([
    ("layers", t.List(t.Object(PLayer)), "layers"),
    ("training", t.Dict([("batch_size", t.Int(32, min_value=1), "bs"),
                         ("optimizer", t.Object(POpt, default=POpt()), "opt")]), "training"),
    ("name", t.Str("exp"), "name"),
])
class PExp(sym.Object):
    type_name = "tests.patching.PExp"


def make_exp():
    return PExp([PLayer(4), PLayer(8, activation="tanh")], training={"batch_size": 64})


# Patchers defined by the tests (looked up by name as process-local patchers).
@patcher
def tp_set_units(experiment, units: int, index: int = 0):
    """Sets the units of one layer."""
    return {f"layers[{index}].units": units}


@patcher(name="tp_rename")
def _rename(experiment, name: str, suffix: Optional[str] = None):
    return {"name": name + (suffix or "")}


@patcher
def tp_double_units(experiment):
    """A rule: every layer's units doubled."""
    def rule(key_path, value, parent):
        if isinstance(parent, PLayer) and key_path.key == "units":
            return value * 2
        return value
    return rule


@patcher
def tp_in_place(experiment, flag: bool = True):
    experiment.rebind({"name": f"in_place_{flag}"})


@patcher
def tp_replace(experiment, units: int = 1):
    return PExp([PLayer(units)])


@patcher(args=[("scale", t.Float(min_value=0.5, max_value=4.0), "A bounded scale.")])
def tp_scale(experiment, scale: float = 1.0):
    return {"training.batch_size": int(experiment.training.batch_size * scale)}


@patcher
def tp_lists(experiment, sizes: List[int], fast: bool = False, note: str = "x"):
    return {f"layers[{i}].units": s for i, s in enumerate(sizes)}


@patcher
def tp_broken(experiment):
    raise RuntimeError("boom")


@patcher
def tp_bad_return(experiment):
    return 42


class FakeRegistry:
    """A registry with only the patchers given (what the real one returns from its tables) and no
    plugin records."""

    def __init__(self, **patchers):
        self._p = patchers

    def plugins(self):
        return []

    def patcher(self, name):
        if name not in self._p:
            raise RegistryError(f"unknown patcher {name!r}")
        return self._p[name]

    def patchers(self):
        return dict(self._p)


def test_exports():
    assert mldsl.patcher is patcher and mldsl.patch is patch


def test_patcher_signature_and_typed_arguments():
    assert isinstance(tp_set_units, Patcher) and tp_set_units.name == "tp_set_units"
    assert list(tp_set_units.args) == ["units", "index"]
    assert "Sets the units" in tp_set_units.__doc__
    assert _rename.name == "tp_rename"
    p = tp_set_units(16)
    assert isinstance(p, PatcherCall) and p.args == {"units": 16, "index": 0}
    assert repr(p) == "tp_set_units(units=16, index=0)"
    assert p.to_string() == "tp_set_units?units=16"
    with pytest.raises(PatchError, match="bad argument units='16'.*Expected int"):
        tp_set_units("16")
    with pytest.raises(PatchError, match="needs argument 'units'"):
        tp_set_units()
    with pytest.raises(PatchError, match="has no argument 'unit'; did you mean 'units'"):
        tp_set_units(unit=3)
    with pytest.raises(PatchError, match="takes 2 argument"):
        tp_set_units(1, 2, 3)
    with pytest.raises(PatchError, match=r"out of range \(min=0.5, max=4.0\)"):
        tp_scale(8.0)
    assert isinstance(PatchError("x"), ValidationError)


def test_patcher_definition_errors():
    with pytest.raises(ValidationError, match="first parameter"):
        patcher(name="tp_noarg")(lambda: None)
    with pytest.raises(ValidationError, match="invalid patcher name '<lambda>'"):
        patcher(lambda experiment: None)
    with pytest.raises(ValidationError, match=r"\*args"):
        @patcher
        def tp_varargs(experiment, *rest):
            pass
    with pytest.raises(ValidationError, match="not parameters"):
        @patcher(args=[("nope", t.Int())])
        def tp_wrong_override(experiment, x: int):
            pass


def test_patch_with_patcher_calls_dicts_and_rules_in_order():
    exp = make_exp()
    out = patch(exp, [tp_set_units(5), {"training.batch_size": 128}, tp_double_units,
                      lambda kp, v, parent: "elu" if v == "tanh" else v])
    assert out is exp  # edited in place and returned, as pg.patch does
    assert [l.units for l in out.layers] == [10, 16]
    assert out.training.batch_size == 128 and out.layers[1].activation == "elu"
    # Order matters: set then double != double then set.
    a = patch(make_exp(), [tp_double_units, tp_set_units(5)])
    assert [l.units for l in a.layers] == [5, 16]


def test_patch_edits_in_place_and_a_clone_keeps_the_original():
    exp = make_exp()
    same = patch(exp, [tp_set_units(5), {"name": "b"}])
    assert same is exp and exp.layers[0].units == 5 and exp.name == "b"
    original = make_exp()
    copy = patch(original.clone(deep=True), [tp_set_units(5)])
    assert copy.layers[0].units == 5 and original.layers[0].units == 4
    assert tp_set_units.patch(original, 11) is original and original.layers[0].units == 11
    assert tp_set_units(12).patch(original) is original and original.layers[0].units == 12


def test_two_argument_and_three_argument_rules():
    exp = patch(make_exp(), lambda k, v: v * 3 if k.key == "units" else v)  # (key_path, value)
    assert [l.units for l in exp.layers] == [12, 24]
    exp = patch(make_exp(), [lambda k, v, p: "relu6" if isinstance(p, PLayer) and v == "tanh" else v])
    assert exp.layers[1].activation == "relu6"
    assert make_exp().rebind(lambda k, v: 1 if k.key == "units" else v).layers[1].units == 1


def test_a_one_argument_function_is_not_taken_for_a_rule():
    def undecorated(experiment):
        return {"name": "x"}

    with pytest.raises(PatchError, match=r"a rule takes \(key_path, value\) or \(key_path, value, parent\)"
                                         r".*undecorated takes 1.*decorate it with @mldsl.patcher"):
        patch(make_exp(), undecorated)
    with pytest.raises(TypeError, match="a rule takes"):
        make_exp().rebind(lambda v: v)


def test_patch_single_items_and_other_returns():
    assert patch(make_exp(), "tp_set_units?3").layers[0].units == 3
    assert patch(make_exp(), {"name": "b"}).name == "b"
    assert patch(make_exp(), tp_in_place).name == "in_place_True"
    assert patch(make_exp(), "tp_in_place?flag=false").name == "in_place_False"
    exp = make_exp()
    replaced = patch(exp, [tp_replace(units=7), tp_set_units(9)])
    assert replaced is not exp and len(replaced.layers) == 1 and replaced.layers[0].units == 9
    assert exp.layers[0].units == 4  # replaced, not edited


def test_patch_strings_parse_and_coerce_arguments():
    exp = make_exp
    assert patch(exp(), "tp_set_units?units=12&index=1").layers[1].units == 12
    assert patch(exp(), "tp_set_units?12&1").layers[1].units == 12
    assert patch(exp(), "tp_set_units?12&index=1").layers[1].units == 12
    assert patch(exp(), "tp_set_units?units=3.0").layers[0].units == 3  # integral float -> int
    assert patch(exp(), "tp_rename?name=123").name == "123"              # str parameter keeps the text
    assert patch(exp(), "tp_rename?name=a%26b&suffix=None").name == "a&b"
    assert patch(exp(), "tp_rename?name='quoted'&suffix=_x").name == "quoted_x"
    assert patch(exp(), "tp_scale?scale=2").training.batch_size == 128
    assert patch(exp(), "tp_scale?2.5").training.batch_size == 160
    out = patch(exp(), "tp_lists?sizes=[1, 2]&fast=yes")
    assert [l.units for l in out.layers] == [1, 2]
    p = parse_patch("tp_lists?sizes=[1,2]&fast=1&note=7")
    assert p.args == {"sizes": [1, 2], "fast": True, "note": "7"}
    assert parse_patch(" tp_set_units ? units = 4 ").args["units"] == 4


@pytest.mark.parametrize("text, error, message", [
    ("tp_set_unit?units=3", RegistryError, "unknown patch or patcher 'tp_set_unit'; did you mean 'tp_set_units'"),
    ("tp_set_units?units=abc", PatchError, "bad argument units='abc'"),
    ("tp_set_units?unit=3", PatchError, "has no argument 'unit'; did you mean 'units'"),
    ("tp_set_units?units=0", ValidationError, r"out of range.*path=layers\[0\].units"),
    ("tp_set_units?units=3&units=4", PatchError, "given twice"),
    ("tp_set_units?index=1&3", PatchError, "positional value '3' after a keyword"),
    ("tp_set_units?1&2&3", PatchError, "takes 2 argument"),
    ("tp_scale?scale=9", PatchError, "out of range"),
    ("bad name?x=1", PatchError, "bad patch 'bad name\\?x=1'"),
    ("", PatchError, "bad patch"),
    ("tp_broken", PatchError, "patcher 'tp_broken' failed: RuntimeError: boom"),
    ("tp_bad_return", PatchError, "returned int 42"),
])
def test_patch_errors_name_the_problem(text, error, message):
    with pytest.raises(error, match=message):
        patch(make_exp(), [text])


def test_all_strings_are_checked_before_any_patch_runs():
    calls = []

    @patcher
    def tp_record(experiment):
        calls.append(1)

    with pytest.raises(RegistryError):
        patch(make_exp(), ["tp_record", "tp_nope"])
    assert calls == []


def test_bad_patch_items():
    with pytest.raises(PatchError, match="cannot apply int"):
        patch(make_exp(), [3])
    with pytest.raises(PatchError, match="cannot patch a int"):
        patch(3, [{"a": 1}])
    with pytest.raises(PatchError, match="empty path replaces the whole value, so it must be the only edit"):
        patch(make_exp(), [{"": PExp([PLayer(1)]), "name": "x"}])


@patcher
def tp_replace_root(experiment, units: int = 3):
    return {"": PExp([PLayer(units)])}


def test_an_empty_path_replaces_the_whole_value_as_in_pyglove():
    exp = make_exp()
    out = patch(exp, [tp_replace_root(units=2), {"name": "n"}])
    assert out is not exp and [l.units for l in out.layers] == [2] and out.name == "n"
    assert patch(make_exp(), {"": PExp([PLayer(5)])}).layers[0].units == 5


def test_patch_can_write_search_primitives():
    out = patch(make_exp(), {"layers[0].units": oneof([2, 4])})
    assert not mldsl.is_deterministic(out)
    with pytest.raises(ValidationError, match="out of range"):
        patch(make_exp(), {"layers[0].units": oneof([0, 4])})


def test_lookup_prefers_local_patchers_then_the_registry():
    @patcher(name="tp_shadow")
    def local(experiment):
        return {"name": "local"}

    def plugin_fn(experiment):
        return {"name": "plugin"}

    reg = FakeRegistry(tp_shadow=plugin_fn, tp_other=tp_set_units, **{"plug.tp_shadow": plugin_fn})
    assert patch(make_exp(), "tp_shadow", registry=reg).name == "local"
    assert patch(make_exp(), "plug.tp_shadow", registry=reg).name == "plugin"  # qualified: the plugin's
    assert patch(make_exp(), "tp_shadow", registry=FakeRegistry()).name == "local"
    assert resolve_patch("tp_other", registry=reg) is tp_set_units
    with pytest.raises(RegistryError, match="did you mean 'tp_other'"):
        resolve_patch("tp_othr", registry=reg)
    reg_bad = FakeRegistry(tp_weird=42)
    with pytest.raises(RegistryError, match="not a patcher"):
        resolve_patch("tp_weird", registry=reg_bad)


def test_patch_string_round_trip():
    for p in [tp_set_units(3, index=1), _rename("a b&c", suffix="!"), tp_lists([1, 2], fast=True)]:
        again = parse_patch(p.to_string())
        assert again == p, (p.to_string(), again.args, p.args)
