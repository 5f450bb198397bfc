"""``materialize`` copies the space without copying the primitives it replaces (a clone ``memo``) and
sets the decided values without rebind's trial clone: the space must stay intact, and a decided value
that does not fit its field must still be rejected, naming the path."""
import copy

import pytest

from mldsl import symbolic as sym
from mldsl.errors import ValidationError
from mldsl.hyper import find_primitives, floatv, intv, materialize, oneof
from mldsl.symbolic._util import path_error

from hyper_fakes import Base, FakeDense, FakeDropout, FakeExperiment, FakeSGD

t = sym.typing


class NotAQuarter(t.Float):
    """A float spec that rejects 0.25: ``floatv`` only probes its bounds and midpoint, so a decided
    value can still fail here."""

    def _apply(self, value, path, allow_partial):
        value = super()._apply(value, path, allow_partial)
        if value == 0.25:
            raise path_error("0.25 is not allowed.", path)
        return value


@sym.members([("rate", NotAQuarter(min_value=0.0, max_value=1.0), "Rate.")])
class Picky(Base):
    type_name = "tests.hyper.Picky"


def _space():
    return FakeExperiment([FakeDense(oneof([8, 16]), activation=oneof(["relu", "elu"])),
                           oneof([FakeDropout(floatv(0.1, 0.5)), FakeDense(intv(1, 4))])],
                          optimizer=FakeSGD(floatv(0.001, 0.1)), batch_size=intv(16, 64))


def _attachment(space):
    return [(str(path), p, p.sym_parent, p.sym_path) for path, p in find_primitives(space)]


def test_materialize_leaves_the_space_and_its_primitives_attached():
    space = _space()
    before = copy.deepcopy(space)
    attached = _attachment(space)
    for dna in ([1, 0, 0, 0.3, 0.05, 20], [0, 1, 1, 3, 0.002, 64]):
        out = materialize(space, dna)
        assert not find_primitives(out)
        assert sym.eq(space, before)
        assert _attachment(space) == attached
        for path, p, parent, p_path in attached:
            assert space.sym_get(path) is p and p.sym_parent is parent and p.sym_path == p_path
    assert materialize(space, [1, 0, 0, 0.3, 0.05, 20]).layers[1].rate == 0.3


def test_materialized_values_are_owned_by_the_result():
    space = _space()
    out = materialize(space, [0, 1, 1, 3, 0.002, 64])
    assert out.layers[0].units == 8 and out.layers[0].activation == "elu"
    assert isinstance(out.layers[1], FakeDense) and out.layers[1].units == 3
    assert out.layers[1].sym_parent is out.layers and out.layers[1].sym_path == "layers[1]"
    assert out.optimizer.sym_parent is out and out.optimizer.learning_rate == 0.002
    assert out.sym_parent is None
    # the result is an ordinary tree: changing it leaves the space alone
    out.rebind({"layers[0].units": 12, "batch_size": 17})
    assert space.layers[0].units.candidates[0] == 8 and out.layers[0].units == 12


def test_a_decided_value_that_does_not_fit_is_rejected_and_the_space_is_unchanged():
    space = FakeExperiment([FakeDense(intv(1, 4)), Picky(floatv(0.0, 1.0))], batch_size=intv(16, 64))
    before = copy.deepcopy(space)
    attached = _attachment(space)
    with pytest.raises(ValidationError, match=r"0\.25 is not allowed\. \(path=layers\[1\]\.rate\)"):
        materialize(space, [2, 0.25, 32])
    assert sym.eq(space, before) and _attachment(space) == attached
    assert materialize(space, [2, 0.5, 32]).layers[1].rate == 0.5


def test_clone_memo_keeps_a_node_uncopied_and_replacing_it_does_not_detach_it():
    space = FakeExperiment([FakeDense(oneof([8, 16]))])
    primitive = space.layers[0].units
    copy_ = space._sym_clone(True, {id(primitive): primitive})
    assert copy_.layers[0].units is primitive and primitive.sym_parent is space.layers[0]
    copy_.layers[0].units = 16
    assert copy_.layers[0].units == 16
    assert primitive.sym_parent is space.layers[0] and primitive.sym_path == "layers[0].units"
