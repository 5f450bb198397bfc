"""DNA, DNA specs (printing, space_size, enumeration, numbers) and materialize."""
import itertools
import math
import random

import pytest
from hypothesis import given, settings, strategies as st

from mldsl import symbolic as sym
from mldsl.errors import SearchError
from mldsl.hyper import (DNA, Choices, FloatDecision, IntDecision, Space, dna_spec, floatv, intv, iter_dna,
                         manyof, materialize, oneof, random_dna)

from hyper_fakes import FakeDense, FakeDropout, FakeExperiment, FakeSGD


def make_space():
    return FakeExperiment(
        [FakeDense(oneof([8, 16, 32]), activation=oneof(["relu", "elu"])),
         oneof([FakeDropout(floatv(0.1, 0.5)), FakeDense(intv(1, 3))])],
        optimizer=oneof([FakeSGD(0.1), FakeSGD(floatv(1e-4, 1e-1, scale="log"))]),
        batch_size=intv(16, 64),
        tags=manyof(2, ["a", "b", "c"], sorted=True))


def grid_space():
    return FakeExperiment(
        [FakeDense(oneof([8, 16]), activation=oneof(["relu", "elu", "tanh"])),
         oneof([FakeDropout(0.1), FakeDense(intv(1, 3))])],
        batch_size=oneof([16, 32]),
        tags=manyof(2, ["a", "b", "c"], distinct=False))


# -- DNA ----------------------------------------------------------------------------------------------
def test_dna_value_children_equality_and_hash():
    a = DNA(None, [DNA(1, [DNA(0.5)]), DNA(3)])
    b = DNA(None, [DNA(1, [DNA(0.5)]), DNA(3)])
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != DNA(None, [DNA(1, [DNA(0.5)]), DNA(2)])
    assert DNA(1) != DNA(1.0), "an index and a float value are different decisions"
    assert a.to_numbers() == [1, 0.5, 3] == a.to_json()
    assert a.at((0, 0)) == DNA(0.5)
    assert a.replace((1,), DNA(7)) == DNA(None, [DNA(1, [DNA(0.5)]), DNA(7)])
    assert repr(a) == "DNA([(1, 0.5), 3])"
    with pytest.raises(TypeError):
        DNA("x")
    with pytest.raises(TypeError):
        DNA(True)


# -- spec ---------------------------------------------------------------------------------------------
def test_dna_spec_prints_like_pyglove():
    spec = dna_spec(FakeExperiment([FakeDense(oneof([8, 16]), activation=oneof(["relu", "elu"]))],
                                   optimizer=oneof([FakeSGD(0.1), FakeSGD(floatv(1e-4, 1e-1, scale="log"))]),
                                   batch_size=intv(16, 64)))
    assert str(spec) == """\
Space({
  0 = 'layers[0].units': Choices(num_choices=1, [
    (0): 8
    (1): 16
  ])
  1 = 'layers[0].activation': Choices(num_choices=1, [
    (0): 'relu'
    (1): 'elu'
  ])
  2 = 'optimizer': Choices(num_choices=1, [
    (0): FakeSGD(learning_rate=0.1)
    (1): FakeSGD(learning_rate=FloatValue(min_value=0.0001, max_value=0.1, scale='log')) -> Space({
      0 = 'learning_rate': Float(min_value=0.0001, max_value=0.1, scale='log')
    })
  ])
  3 = 'batch_size': Int(min_value=16, max_value=64)
})"""


def test_decision_ids_and_locations():
    spec = dna_spec(make_space())
    ids = [d.id for d in spec.decision_points()]
    assert ids == ["layers[0].units", "layers[0].activation", "layers[1]", "layers[1][=0/2].rate",
                   "layers[1][=1/2].units", "optimizer", "optimizer[=1/2].learning_rate", "batch_size", "tags"]
    tags = spec.elements[-1]
    assert isinstance(tags, Choices) and (tags.num_choices, tags.distinct, tags.sorted) == (2, True, True)


def test_space_size():
    assert dna_spec(FakeDense(oneof([1, 2, 3]), activation=oneof(["relu", "elu"]))).space_size == 6
    assert dna_spec(FakeDense(3)).space_size == 1
    assert dna_spec(intv(3, 7)).space_size == 5
    assert dna_spec(floatv(0.0, 1.0)).space_size == math.inf
    assert dna_spec(make_space()).space_size == math.inf
    # A conditional sub-space adds its size to its candidate's: 1 + 3.
    assert dna_spec(oneof([FakeDropout(0.1), FakeDense(intv(1, 3))])).space_size == 4
    assert dna_spec(grid_space()).space_size == 2 * 3 * 4 * 2 * 9


@pytest.mark.parametrize("distinct, sorted_", list(itertools.product([True, False], repeat=2)))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_manyof_space_size_matches_enumeration(distinct, sorted_, k):
    # Candidates with sub-spaces of sizes 1, 2 and 3.
    space = manyof(k, [0, oneof([1, 2]), intv(1, 3)], distinct=distinct, sorted=sorted_)
    spec = dna_spec(space)
    dnas = list(spec.iter_dna())
    assert len(dnas) == len(set(dnas)) == spec.space_size
    for d in dnas:
        spec.validate(d)
        m = d.children[0]
        idx = [c.value for c in (m.children if k > 1 else [m])]
        assert len(idx) == k
        if distinct:
            assert len(set(idx)) == k
        if sorted_:
            assert idx == sorted(idx)


def test_iter_dna_is_exhaustive_and_materializes_distinct_values():
    space = grid_space()
    dnas = list(iter_dna(space))
    assert len(dnas) == len(set(dnas)) == dna_spec(space).space_size
    values = {sym.to_json_str(materialize(space, d)) for d in dnas}
    assert len(values) == len(dnas)


def test_iter_dna_needs_grid_size_for_floats():
    with pytest.raises(SearchError, match="continuous dimension 'layers\\[1\\]\\[=0/2\\].rate'.*grid_size"):
        list(iter_dna(make_space()))
    spec = dna_spec(FakeDropout(floatv(0.1, 0.5)))
    assert [d.children[0].value for d in spec.iter_dna(grid_size=3)] == pytest.approx([0.1, 0.3, 0.5])
    log = FloatDecision(1e-3, 1e-1, "log")
    assert log.grid_values(3) == pytest.approx([1e-3, 1e-2, 1e-1])
    assert IntDecision(0, 10).grid_values(3) == [0, 5, 10]
    assert IntDecision(0, 2).grid_values(5) == [0, 1, 2]


def test_numbers_round_trip_and_errors():
    space = make_space()
    spec = dna_spec(space)
    rng = random.Random(0)
    for _ in range(50):
        d = spec.random_dna(rng)
        spec.validate(d)
        assert spec.from_numbers(d.to_numbers()) == d
        assert DNA.from_json(d.to_json(), spec) == d
    with pytest.raises(SearchError, match="not enough numbers"):
        spec.from_numbers([0, 0])
    with pytest.raises(SearchError, match="too many numbers"):
        dna_spec(FakeDense(oneof([1, 2]))).from_numbers([0, 1])
    with pytest.raises(SearchError, match=r"candidate index in \[0, 1\]"):
        dna_spec(FakeDense(oneof([1, 2]))).from_numbers([2])
    with pytest.raises(SearchError, match="expected an int in"):
        dna_spec(FakeDense(intv(1, 2))).from_numbers([5])
    with pytest.raises(SearchError, match="choices must be distinct"):
        dna_spec(FakeExperiment([FakeDense(1)], tags=manyof(2, ["a", "b"]))).from_numbers([1, 1])
    with pytest.raises(SearchError, match="choices must be sorted"):
        dna_spec(FakeExperiment([FakeDense(1)], tags=manyof(2, ["a", "b"], sorted=True))).from_numbers([1, 0])
    # JSON turns 0.5-like values into floats and ints stay ints; an int is fine for a float decision.
    assert dna_spec(floatv(0.0, 2.0)).from_numbers([1]) == DNA(None, [DNA(1.0)])


def test_dna_dict():
    space = make_space()
    spec = dna_spec(space)
    d = spec.from_numbers([2, 1, 1, 3, 1, 0.01, 40, 0, 2])
    assert spec.dna_dict(d) == {
        "layers[0].units": 2, "layers[0].activation": 1, "layers[1]": 1, "layers[1][=1/2].units": 3,
        "optimizer": 1, "optimizer[=1/2].learning_rate": 0.01, "batch_size": 40, "tags": [0, 2]}


def test_materialize_nested_conditional_and_manyof():
    space = make_space()
    out = materialize(space, [2, 1, 1, 3, 1, 0.01, 40, 0, 2])
    assert sym.eq(out, FakeExperiment([FakeDense(32, activation="elu"), FakeDense(3)],
                                      optimizer=FakeSGD(0.01), batch_size=40, tags=["a", "c"]))
    out = materialize(space, [0, 0, 0, 0.25, 0, 16, 1, 2])
    assert sym.eq(out, FakeExperiment([FakeDense(8, activation="relu"), FakeDropout(0.25)],
                                      optimizer=FakeSGD(0.1), batch_size=16, tags=["b", "c"]))
    # The same with a DNA object.
    d = dna_spec(space).from_numbers([0, 0, 0, 0.25, 0, 16, 1, 2])
    assert sym.eq(materialize(space, d), out)


def test_materialize_root_primitive_and_plain_containers():
    assert materialize(oneof([1, 2, 3]), 2) == 3
    assert materialize(oneof([1, 2, 3]), [1]) == 2
    assert sym.eq(materialize(oneof([FakeDense(1), FakeDense(intv(2, 4))]), [1, 3]), FakeDense(3))
    assert list(materialize(manyof(2, ["a", "b", "c"]), [2, 0])) == ["c", "a"]
    out = materialize([oneof([1, 2]), {"x": floatv(0.0, 1.0)}], [1, 0.5])
    assert sym.eq(out, sym.List([2, {"x": 0.5}]))
    assert sym.eq(materialize(FakeDense(3), []), FakeDense(3))


def test_materialize_rejects_bad_dna():
    with pytest.raises(SearchError):
        materialize(FakeDense(oneof([1, 2])), [5])
    with pytest.raises(SearchError):
        materialize(FakeDense(oneof([1, 2])), DNA(None, [DNA(0), DNA(1)]))
    with pytest.raises(SearchError):
        materialize(FakeDense(oneof([1, 2])), "0")


def test_random_dna_helper_is_seeded():
    space = make_space()
    assert random_dna(space, seed=3) == random_dna(space, seed=3)
    assert len({random_dna(space, seed=s) for s in range(20)}) > 10


def test_ids_of_identical_candidate_sub_spaces_differ():
    spec = dna_spec(oneof([FakeDense(intv(1, 3)), FakeDense(intv(1, 3))]))
    assert [d.id for d in spec.decision_points()] == ["", "[=0/2].units", "[=1/2].units"]


def test_raw_space_builds_and_enumerates_without_symbolic_values():
    spec = Space([Choices(1, [Space(), Space([IntDecision(0, 1, location="y")])], ["a", "b"], location="x"),
                  IntDecision(1, 2, location="z")])
    assert spec.space_size == 6
    assert len(list(spec.iter_dna())) == 6
    assert [d.id for d in spec.decision_points()] == ["x", "x[=1/2].y", "z"]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2 ** 32))
def test_mutate_changes_exactly_one_decision(seed):
    # A space without conditional sub-spaces: exactly one entry of the decision dict changes.
    space = FakeExperiment([FakeDense(oneof([8, 16, 32]), activation=oneof(["relu", "elu"]))],
                           optimizer=FakeSGD(floatv(0.001, 0.1)), batch_size=intv(16, 64),
                           tags=manyof(2, ["a", "b", "c", "d"], sorted=True))
    spec = dna_spec(space)
    rng = random.Random(seed)
    parent = spec.random_dna(rng)
    child = spec.mutate(parent, rng)
    spec.validate(child)
    before, after = spec.dna_dict(parent), spec.dna_dict(child)
    changed = [k for k in before if before[k] != after[k]]
    assert len(changed) == 1, (before, after)
    if changed[0] == "tags":
        assert len(set(before["tags"]) & set(after["tags"])) == 1


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2 ** 32))
def test_mutate_keeps_conditional_dnas_valid(seed):
    spec = dna_spec(make_space())
    rng = random.Random(seed)
    d = spec.random_dna(rng)
    for _ in range(5):
        child = spec.mutate(d, rng)
        spec.validate(child)
        assert child != d or spec.space_size == 1
        d = child


def test_mutate_of_a_fixed_space_returns_the_same_dna():
    spec = dna_spec(FakeDense(oneof([1])))
    d = spec.first_dna()
    assert spec.mutate(d, random.Random(0)) == d
