"""Hyper primitives: construction, validation inside typed fields, nesting, JSON."""
import math

import pytest

import mldsl
from mldsl import symbolic as sym
from mldsl.errors import ValidationError
from mldsl.hyper import (FloatValue, IntValue, ManyOf, OneOf, dna_spec, floatv, intv, is_deterministic,
                         manyof, materialize, oneof)

from hyper_fakes import FakeDense, FakeDropout, FakeExperiment, FakeSGD, resolver


def test_top_level_exports():
    assert mldsl.oneof is oneof and mldsl.manyof is manyof
    assert mldsl.floatv is floatv and mldsl.intv is intv
    assert mldsl.dna_spec is dna_spec and mldsl.materialize is materialize


def test_primitives_are_symbolic_objects():
    o = oneof([1, 2, 3], name="x")
    assert isinstance(o, OneOf) and isinstance(o, sym.Object) and isinstance(o, sym.CustomTyping)
    assert list(o.candidates) == [1, 2, 3] and o.name == "x"
    m = manyof(2, ["a", "b", "c"], sorted=True)
    assert isinstance(m, ManyOf) and (m.k, m.distinct, m.sorted) == (2, True, True)
    f = floatv(0.1, 1.0, scale="log")
    assert isinstance(f, FloatValue) and (f.min_value, f.max_value, f.scale) == (0.1, 1.0, "log")
    i = intv(1, 5)
    assert isinstance(i, IntValue) and (i.min_value, i.max_value) == (1, 5)
    assert sym.eq(oneof([1, 2]), oneof([1, 2])) and not sym.eq(oneof([1, 2]), oneof([2, 1]))


@pytest.mark.parametrize("make, message", [
    (lambda: oneof([]), "min size"),
    (lambda: manyof(3, [1, 2]), "3 distinct values out of 2"),
    (lambda: manyof(0, [1, 2]), "out of range"),
    (lambda: floatv(2.0, 1.0), "min_value 2.0 > max_value 1.0"),
    (lambda: floatv(0.0, 1.0, scale="log"), "needs min_value > 0"),
    (lambda: floatv(0.0, 1.0, scale="cubic"), "not in candidate list"),
    (lambda: intv(5, 1), "min_value 5 > max_value 1"),
    (lambda: intv(1.5, 3), "Expected int"),
])
def test_bad_primitive_arguments(make, message):
    with pytest.raises(ValidationError, match=message):
        make()


def test_manyof_without_distinct_may_choose_more_than_candidates():
    assert manyof(3, [1, 2], distinct=False).k == 3


def test_oneof_in_typed_field_checks_every_candidate():
    d = FakeDense(oneof([8, 16]), activation=oneof(["relu", "tanh"]))
    assert isinstance(d.units, OneOf)
    with pytest.raises(ValidationError) as e:
        FakeDense(oneof([8, 0]))
    assert "out of range" in str(e.value) and "path=units.candidates[1]" in str(e.value)
    with pytest.raises(ValidationError, match="not in candidate list"):
        FakeDense(8, activation=oneof(["relu", "gelu"]))
    with pytest.raises(ValidationError, match="Expected int"):
        FakeDense(oneof([8, "16"]))


def test_object_field_candidates_must_be_instances():
    exp = FakeExperiment([FakeDense(4)], optimizer=oneof([FakeSGD(0.1), FakeSGD(0.01)]))
    assert isinstance(exp.optimizer, OneOf)
    with pytest.raises(ValidationError, match="Expected FakeSGD"):
        FakeExperiment([FakeDense(4)], optimizer=oneof([FakeSGD(0.1), FakeDense(3)]))


def test_floatv_and_intv_check_their_range_against_the_spec():
    FakeDropout(floatv(0.1, 0.5))
    with pytest.raises(ValidationError, match=r"floatv\(0.1, 0.95\) cannot be used here.*out of range"):
        FakeDropout(floatv(0.1, 0.95))
    with pytest.raises(ValidationError, match="Expected int but got float"):
        FakeDense(floatv(1.0, 4.0))
    FakeDense(intv(1, 64))
    with pytest.raises(ValidationError, match=r"intv\(0, 64\).*out of range"):
        FakeDense(intv(0, 64))
    with pytest.raises(ValidationError, match="not in candidate list"):
        FakeDense(3, activation=floatv(0.0, 1.0))
    # An int range in a float field is fine (ints are floats there).
    FakeDropout(intv(0, 0))


def test_manyof_needs_a_list_field_of_matching_elements_and_size():
    exp = FakeExperiment([FakeDense(4)], tags=manyof(2, ["a", "b", "c"]))
    assert isinstance(exp.tags, ManyOf)
    with pytest.raises(ValidationError, match="greater than max size 3"):
        FakeExperiment([FakeDense(4)], tags=manyof(4, ["a", "b", "c", "d"]))
    with pytest.raises(ValidationError, match="manyof candidate 1"):
        FakeExperiment([FakeDense(4)], tags=manyof(2, ["a", 3]))
    with pytest.raises(ValidationError, match="as a list of 1: Expected int but got list"):
        FakeDense(manyof(1, [1, 2]))


def test_primitive_as_list_element_and_in_free_form_containers():
    exp = FakeExperiment([FakeDense(4), oneof([FakeDropout(0.1), FakeDense(2)])])
    assert isinstance(exp.layers[1], OneOf)
    with pytest.raises(ValidationError, match="Expected Base"):
        FakeExperiment([oneof([FakeDense(4), 3])])
    d = sym.Dict(a=oneof([1, "x", None]), b=[intv(1, 2)])
    assert not is_deterministic(d)


def test_nested_and_conditional_spaces_validate_inner_primitives():
    # A oneof among components that contain primitives.
    layer = oneof([FakeDense(oneof([8, 16]), activation=oneof(["relu", "elu"])), FakeDropout(floatv(0.0, 0.5))])
    exp = FakeExperiment([layer])
    assert not is_deterministic(exp)
    # An inner primitive is validated against the inner field when the candidate is built.
    with pytest.raises(ValidationError, match="path=rate"):
        FakeDropout(floatv(0.0, 2.0))
    # A oneof of oneofs validates the inner candidates against the outer field.
    FakeDense(oneof([oneof([1, 2]), 3]))
    with pytest.raises(ValidationError, match="out of range"):
        FakeDense(oneof([oneof([1, 0]), 3]))


def test_rebind_and_assignment_accept_primitives():
    exp = FakeExperiment([FakeDense(4)])
    exp.rebind({"batch_size": intv(16, 64), "layers[0].units": oneof([1, 2])})
    assert isinstance(exp.batch_size, IntValue)
    with pytest.raises(ValidationError, match="out of range"):
        exp.rebind({"batch_size": intv(16, 2048)})
    exp.layers[0].activation = oneof(["relu", "tanh"])
    assert isinstance(exp.layers[0].activation, OneOf)


def test_is_deterministic():
    assert is_deterministic(FakeDense(3))
    assert is_deterministic(3) and is_deterministic([1, {"a": 2}])
    assert not is_deterministic(oneof([1]))
    assert not is_deterministic([1, {"a": floatv(0.0, 1.0)}])
    assert not is_deterministic(FakeExperiment([FakeDense(intv(1, 3))]))


def test_json_round_trip_of_a_space():
    exp = FakeExperiment([oneof([FakeDense(intv(4, 8)), FakeDropout(floatv(0.1, 0.5, "log"))])],
                         batch_size=oneof([16, 32]), tags=manyof(2, ["a", "b", "c"], sorted=True))
    j = sym.to_json(exp)
    assert j["batch_size"] == {"_type": "oneof", "candidates": [16, 32], "name": None}
    assert j["tags"]["_type"] == "manyof"
    back = sym.from_json(j, resolver=resolver)
    assert sym.eq(back, exp)
    assert str(dna_spec(back)) == str(dna_spec(exp))


def test_format_shows_primitives():
    text = sym.format(FakeDense(oneof([1, 2])), compact=True)
    assert "OneOf(candidates=[1, 2]" in text


def test_materialize_result_is_concrete_and_validated():
    exp = FakeExperiment([FakeDense(oneof([8, 16]), activation=oneof(["relu", "elu"]))],
                         batch_size=intv(16, 64))
    out = materialize(exp, [1, 0, 40])
    assert is_deterministic(out)
    assert out.layers[0].units == 16 and out.layers[0].activation == "relu" and out.batch_size == 40
    assert isinstance(exp.layers[0].units, OneOf), "the space itself is not changed"
    assert out.sym_parent is None


def test_float_log_materialize():
    out = materialize(FakeDropout(floatv(0.01, 0.5, scale="log")), [0.02])
    assert math.isclose(out.rate, 0.02)
