"""The standard patchers of the std plugin, on the standard components."""
import warnings

import pytest

import mldsl
from mldsl import symbolic as sym
from mldsl.errors import PatchError, RegistryError, UnknownComponentError, ValidationError
from mldsl.hyper import OneOf, Random, dna_spec, floatv, is_deterministic, materialize, oneof, sample
from mldsl.patching import PatchWarning, Patcher, patch

STD_PATCHERS = ["change_dataset", "change_lr", "filter_search_space", "relu_to_elu", "relu_to_leaky_relu",
                "scale_lr_with_batch_size", "scale_width", "swap_conv_to_separable"]


@pytest.fixture(scope="module")
def R():
    registry = mldsl.get_registry()
    return registry.resolve


@pytest.fixture
def mlp(R):
    return R("Experiment")(
        model=R("Sequential")([R("Flatten")(), R("Dense")(64, activation="relu"),
                               R("Dense")(32, activation=R("ReLU")()), R("Activation")("relu"),
                               R("Dense")(10, activation="softmax")]),
        data=R("Digits")(),
        training={"batch_size": 32, "optimizer": R("Adam")(learning_rate=0.001)},
        evaluation={"batch_size": 128})


@pytest.fixture
def cnn(R):
    return R("Experiment")(
        model=R("Sequential")([R("Conv2D")(16, 3, padding="same", activation="relu"), R("MaxPooling2D")(),
                               R("Conv2D")(4, [3, 3]), R("SeparableConv2D")(32, 3), R("Flatten")(),
                               R("Dense")(10, activation="softmax")]),
        data=R("Digits")(),
        training={"optimizer": R("SGD")(learning_rate=0.1, momentum=0.9)},
        evaluation={})


def patched(value, patches):
    """A patched copy, leaving ``value`` (a fixture shared by several checks) as it is."""
    return patch(value.clone(deep=True), patches)


def test_std_patchers_are_registered():
    patchers = mldsl.get_registry().patchers()
    for name in STD_PATCHERS:
        assert isinstance(patchers[name], Patcher), name
        assert patchers[name].__doc__


def test_change_lr_by_key_name_wherever_it_lives(R, mlp):
    out = patched(mlp, "change_lr?0.003")
    assert out.training.optimizer.learning_rate == 0.003
    assert mlp.training.optimizer.learning_rate == 0.001
    space = patched(mlp, {"training.optimizer": oneof([R("SGD")(learning_rate=0.1), R("Adam")()])})
    out = patched(space, "change_lr?learning_rate=0.05")
    assert [c.learning_rate for c in out.training.optimizer.candidates] == [0.05, 0.05]
    with pytest.raises(PatchError, match="no 'learning_rate'"):
        patch(mlp.model, "change_lr?0.1")
    with pytest.raises(ValidationError, match="learning_rate"):
        patched(mlp, "change_lr?0")  # the optimizer's spec requires > 0


def test_scale_lr_with_batch_size(R, mlp):
    out = patched(mlp, "scale_lr_with_batch_size?batch_size=1024")
    assert out.training.batch_size == 1024
    assert out.training.optimizer.learning_rate == pytest.approx(0.001 * 1024 / 32)
    assert out.evaluation.batch_size == 128
    half = patched(mlp, ["scale_lr_with_batch_size?16"])
    assert half.training.optimizer.learning_rate == pytest.approx(0.0005)
    space = patched(mlp, {"training.optimizer.learning_rate": floatv(1e-4, 1e-2)})
    with pytest.raises(PatchError, match="search primitive"):
        patched(space, "scale_lr_with_batch_size?batch_size=64")
    with pytest.raises(PatchError, match="batch_size"):
        patched(mlp, "scale_lr_with_batch_size?batch_size=0")


@pytest.mark.parametrize("name, new_name, new_cls", [("relu_to_elu", "elu", "ELU"),
                                                     ("relu_to_leaky_relu", "leaky_relu", "LeakyReLU")])
def test_relu_replacements_cover_strings_and_components(R, mlp, name, new_name, new_cls):
    out = patched(mlp, name)
    layers = out.model.layers
    assert layers[1].activation == new_name
    assert type(layers[2].activation) is R(new_cls)
    assert layers[3].activation == new_name
    assert layers[4].activation == "softmax"
    assert mlp.model.layers[1].activation == "relu"
    # Inside a search space, a candidate in an activation field is replaced too.
    space = patched(mlp, {"model.layers[1].activation": oneof(["relu", "tanh", R("ReLU")()])})
    out = patched(space, name)
    cands = out.model.layers[1].activation.candidates
    assert cands[0] == new_name and cands[1] == "tanh" and type(cands[2]) is R(new_cls)


def test_relu_patchers_leave_other_relu_strings_alone(R):
    d = sym.Dict(notes="relu", layer=R("Dense")(3, activation="relu"))
    out = patched(d, "relu_to_elu")
    assert out.notes == "relu" and out.layer.activation == "elu"


def test_scale_width(R, cnn):
    out = patched(cnn, "scale_width?factor=2")
    assert [getattr(l, "filters", None) for l in out.model.layers] == [32, None, 8, 64, None, None]
    out = patched(cnn, "scale_width?0.25")
    assert out.model.layers[0].filters == 8 and out.model.layers[2].filters == 8
    assert out.model.layers[5].units == 10
    with pytest.raises(PatchError, match="factor"):
        patched(cnn, "scale_width?factor=0")


def test_change_dataset(R, mlp):
    out = patched(mlp, "change_dataset?name=Cifar100")
    assert type(out.data) is R("Cifar100") and out.model.layers[-1].units == 100
    assert out.model.layers[1].units == 64
    out = patched(mlp, "change_dataset?Synthetic")
    assert type(out.data) is R("Synthetic") and out.model.layers[-1].units == 10
    with pytest.raises(UnknownComponentError, match="did you mean 'Cifar10'"):
        patched(mlp, "change_dataset?name=Cifar11")
    with pytest.raises(PatchError, match="change_dataset: Npz needs arguments"):
        patched(mlp, "change_dataset?Npz")
    with pytest.raises(RegistryError):
        patched(mlp, "change_dataset?Dense")  # not a dataset


def test_filter_search_space_makes_a_valid_space(R, cnn):
    space = patched(cnn, "filter_search_space")
    f0 = space.model.layers[0].filters
    assert isinstance(f0, OneOf) and list(f0.candidates) == [8, 16, 32]
    assert list(space.model.layers[2].filters.candidates) == [2, 4, 8]
    assert space.model.layers[3].filters == 32, "SeparableConv2D is not a Conv2D"
    spec = dna_spec(space)
    assert spec.space_size == 9
    assert is_deterministic(cnn)
    out = materialize(space, [2, 0])
    assert out.model.layers[0].filters == 32 and out.model.layers[2].filters == 2
    small = patched(cnn, {"model.layers[0].filters": 1})
    assert list(patched(small, "filter_search_space").model.layers[0].filters.candidates) == [1, 2]
    examples = [e for e, fb in sample(space, Random(seed=0), 5)]
    assert all(is_deterministic(e) for e in examples)


def test_swap_conv_to_separable(R, cnn):
    out = patched(cnn, "swap_conv_to_separable")
    first = out.model.layers[0]
    assert type(first) is R("SeparableConv2D")
    assert (first.filters, first.kernel_size, first.padding, first.activation) == (16, 3, "same", "relu")
    assert type(out.model.layers[2]) is R("SeparableConv2D") and list(out.model.layers[2].kernel_size) == [3, 3]
    assert type(cnn.model.layers[0]) is R("Conv2D")


def test_a_chain_of_std_patches(R, mlp):
    out = patched(mlp, ["relu_to_elu", "scale_lr_with_batch_size?batch_size=1024",
                      {"training.num_epochs": 3}, "change_lr?0.01"])
    assert out.model.layers[1].activation == "elu"
    assert out.training.batch_size == 1024 and out.training.num_epochs == 3
    assert out.training.optimizer.learning_rate == 0.01


@pytest.mark.parametrize("patch_text, model, why", [
    ("scale_width?factor=2", "mlp", "the experiment has no Conv2D or SeparableConv2D layer to widen"),
    ("filter_search_space", "mlp", "the experiment has no Conv2D layer"),
    ("swap_conv_to_separable", "mlp", "the experiment has no Conv2D layer"),
    ("relu_to_elu", "cnn_without_relu", "the experiment has no ReLU() and no activation='relu'"),
    ("change_lr?0.001", "mlp", "every value it sets is already set"),
])
def test_a_patcher_that_changes_nothing_says_so_and_why(R, mlp, cnn, patch_text, model, why):
    target = {"mlp": mlp, "cnn_without_relu": patched(cnn, {"model.layers[0].activation": "tanh"})}[model]
    before = target.clone(deep=True)
    with pytest.warns(PatchWarning) as caught:
        out = patch(target, patch_text)
    assert [str(w.message) for w in caught] == [f"patcher {_shown(patch_text)!r} changed nothing: {why}"]
    assert sym.eq(out, before)


def _shown(text):
    """How the warning names the patch: its canonical string (``scale_width?factor=2.0``)."""
    return str(mldsl.patching.parse_patch(text))


def test_a_patcher_that_changes_something_does_not_warn(R, cnn):
    with warnings.catch_warnings():
        warnings.simplefilter("error", PatchWarning)
        assert patched(cnn, "scale_width?factor=2").model.layers[0].filters == 32
