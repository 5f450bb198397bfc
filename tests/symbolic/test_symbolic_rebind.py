import pytest

from mldsl import symbolic as sym
from mldsl.errors import KeyPathError, SealedError, SymbolicError, ValidationError

from symbolic_helpers import SymTDense, SymTDropout, SymTSGD, exp, make_experiment  # noqa: F401


def test_rebind_dict(exp):
    out = exp.rebind({"training.batch_size": 64, "model.layers[0].units": 128}, seed=3)
    assert out is exp
    assert exp.training.batch_size == 64 and exp.model.layers[0].units == 128 and exp.seed == 3


def test_rebind_keypath_keys(exp):
    exp.rebind({sym.KeyPath(["model", "layers", 2, "units"]): 3})
    assert exp.model.layers[2].units == 3


def test_rebind_is_atomic(exp):
    before = exp.clone(deep=True)
    with pytest.raises(ValidationError, match=r"\(path=model.layers\[0\].units\)"):
        exp.rebind({"training.batch_size": 64, "model.layers[0].units": 0})
    assert exp == before


def test_rebind_errors(exp):
    with pytest.raises(ValidationError, match="did you mean 'batch_size'"):
        exp.rebind({"training.batchsize": 1})
    with pytest.raises(KeyPathError, match="did you mean 'model'"):
        exp.rebind({"modle.layers[0].units": 1})
    with pytest.raises(KeyPathError):
        exp.rebind({"": 1})
    with pytest.raises(KeyPathError, match="no children"):
        exp.rebind({"seed.x": 1})
    with pytest.raises(TypeError):
        exp.rebind([1, 2])


def test_rebind_no_change(exp):
    assert exp.rebind({"seed": 0}) is exp
    with pytest.raises(SymbolicError, match="changed nothing"):
        exp.rebind({"seed": 0}, raise_on_no_change=True)
    with pytest.raises(SymbolicError):
        exp.rebind({}, raise_on_no_change=True)


def test_rebind_rule(exp):
    seen = []

    def rule(path, value, parent):
        seen.append(str(path))
        if isinstance(value, SymTDense) and value.units == 10:
            return SymTDense(20, activation="tanh")
        if path == "training.batch_size":
            return value * 2
        return value

    exp.rebind(rule)
    assert exp.model.layers[2] == SymTDense(20, activation="tanh")
    assert exp.training.batch_size == 64
    assert "model.layers[2].units" not in seen  # a replaced subtree is not visited
    assert "model.layers[0].units" in seen


def test_rebind_rule_gets_absolute_paths(exp):
    paths = []
    exp.model.rebind(lambda p, v, parent: paths.append(str(p)) or v)
    assert paths[0] == "model.layers"


def test_rebind_rule_error_is_atomic(exp):
    before = exp.clone()
    with pytest.raises(ValidationError):
        exp.rebind(lambda p, v, parent: 0 if str(p).endswith("units") else v)
    assert exp == before


def test_rebind_sealed(exp):
    exp.seal()
    with pytest.raises(SealedError, match=r"\(path=training.batch_size\)"):
        exp.rebind({"training.batch_size": 1})
    with pytest.raises(SealedError, match=r"\(path=model.layers\[0\].units\)"):
        exp.model.layers[0].units = 1
    with pytest.raises(SealedError):
        exp.rebind({"seed": 1, "training.batch_size": 2})
    exp.seal(False)
    exp.rebind({"seed": 1})


def test_sub_sealed_rejected_even_in_multi_update(exp):
    exp.model.seal()
    with pytest.raises(SealedError):
        exp.rebind({"seed": 5, "model.layers[0].units": 2})
    assert exp.seed == 0


def test_rebind_missing_resets_default(exp):
    exp.rebind(seed=7)
    exp.rebind(seed=sym.MISSING)
    assert exp.seed == 0


def test_rebind_list_element_missing_deletes(exp):
    exp.rebind({"model.layers[1]": sym.MISSING})
    assert len(exp.model.layers) == 2 and exp.model.layers[1].sym_path == "model.layers[1]"


def test_rebind_new_value_identity_and_ownership(exp):
    sgd = SymTSGD(momentum=0.9)
    exp.rebind({"training.optimizer": sgd})
    assert exp.training.optimizer is sgd and sgd.sym_path == "training.optimizer"
    other = make_experiment()
    other.rebind({"training.optimizer": sgd})
    assert other.training.optimizer is not sgd and other.training.optimizer == sgd
    two = make_experiment()
    two.rebind({"seed": 2, "training.optimizer": SymTSGD()})
    assert two.training.optimizer.sym_root is two


def test_old_value_is_detached(exp):
    old = exp.model.layers[0]
    exp.rebind({"model.layers[0]": SymTDropout(0.5)})
    assert old.sym_parent is None and old.sym_path == ""


def test_clone(exp):
    shallow = exp.clone()
    deep = sym.clone(exp, deep=True)
    assert shallow == exp and deep == exp
    assert shallow.model is not exp.model and shallow.model.sym_parent is shallow
    assert deep.model.layers[0].sym_root is deep
    o = exp.clone(override={"training.batch_size": 7})
    assert o.training.batch_size == 7 and exp.training.batch_size == 32
    exp.seal()
    c = exp.clone(override={"seed": 1})
    assert not c.is_sealed and c.seed == 1


def test_clone_leaf_sharing():
    leaf = {"k": object()}
    d = sym.Dict(t=(leaf["k"],))
    assert d.clone().t[0] is leaf["k"]
    assert sym.clone([1, [2]], deep=True) == [1, [2]]
    with pytest.raises(TypeError):
        sym.clone(3, override={"a": 1})


def test_copy_module_uses_clone(exp):
    import copy

    assert copy.copy(exp) == exp and copy.deepcopy(exp) == exp


def test_pickle_roundtrip(exp):
    import pickle

    exp.model.seal()
    p = pickle.loads(pickle.dumps(exp))
    assert p == exp and p.model.layers[1].sym_path == "model.layers[1]" and p.model.is_sealed
    assert pickle.loads(pickle.dumps(sym.MISSING)) is sym.MISSING


def test_sym_nondefault(exp):
    exp.rebind({"training.batch_size": 8, "training.optimizer": SymTSGD(momentum=0.5)})
    nd = exp.sym_nondefault()
    assert nd["training.batch_size"] == 8
    assert nd["training.optimizer"] == SymTSGD(momentum=0.5)  # type differs from the default
    assert nd["model.layers[0].units"] == 512 and nd["model.layers[0].activation"] == "relu"
    assert "model.layers[0].use_bias" not in nd and "seed" not in nd and "training.num_epochs" not in nd
    assert "training.optimizer.momentum" not in nd
    assert SymTDense(1).sym_nondefault() == {"units": 1}


def test_sym_items(exp):
    assert [k for k, _ in exp.sym_items()] == ["model", "training", "seed", "tags"]
    assert exp.model.layers.sym_keys() == [0, 1, 2]
    assert exp.training.sym_values()[0] == 32
