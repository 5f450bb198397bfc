"""The dataset wrappers Subset, Centered, Standardized and RandomLabels: what they do to the splits of any
dataset, how they nest and their located validation errors (training on them:
tests/backends/test_training_sanity.py)."""
import numpy as np
import pytest

from mldsl.data import DataSplits, transforms
from mldsl.dsl.api import compile_source
from mldsl.errors import DataError, ValidationError
from mldsl.registry import get_registry


def R(name):
    return get_registry().resolve(name)


def synthetic(**kw):
    return R("Synthetic")(num_samples=200, input_shape=[3, 2], num_classes=4, **kw)


def test_subset_draws_a_seeded_part_of_the_training_split_only():
    base = synthetic().load()
    part = R("Subset")(synthetic(), fraction=0.25, seed=3).load()
    assert len(part.x_train) == round(0.25 * len(base.x_train)) == 40
    np.testing.assert_array_equal(part.x_test, base.x_test)
    np.testing.assert_array_equal(part.y_test, base.y_test)
    assert part.num_classes == base.num_classes
    rows = {r.tobytes() for r in base.x_train}
    assert all(r.tobytes() in rows for r in part.x_train)      # real training rows, labels kept with them
    again = R("Subset")(synthetic(), fraction=0.25, seed=3).load()
    other = R("Subset")(synthetic(), fraction=0.25, seed=4).load()
    np.testing.assert_array_equal(part.x_train, again.x_train)
    assert not np.array_equal(part.x_train, other.x_train)
    by_size = R("Subset")(synthetic(), size=7).load()
    assert len(by_size.x_train) == 7 and len(by_size.y_train) == 7


def test_subset_larger_than_the_training_split_names_both_sizes():
    with pytest.raises(DataError, match=r"size 500 .* training split of 160 examples"):
        R("Subset")(synthetic(), size=500).load()


@pytest.mark.parametrize("args, where, message", [
    ("fraction=0", "fraction", "out of range"),
    ("fraction=1.5", "fraction", "out of range"),
    ("size=0", "size", "out of range"),
    ("fraction=0.5, size=3", "size", "not both"),
    ("", "", "needs fraction"),
])
def test_subset_arguments_are_checked_at_their_place_in_the_file(args, where, message):
    src = ("experiment e = Experiment(model = Sequential([Flatten(), Dense(10)]),\n"
           f"    data = Subset(Digits(){', ' + args if args else ''}))\n")
    _, errors = compile_source(src, "s.mlx", registry=get_registry())
    assert len(errors) == 1 and errors[0].code == "E024" and message in errors[0].message
    assert errors[0].line == 2
    column = src.splitlines()[1].index(f"{where}=" if where else "Subset") + 1
    if where:
        column += len(where) + 1            # the caret is at the value
    assert errors[0].column == column
    with pytest.raises(ValidationError):
        R("Subset")(R("Digits")(), **({} if not args else eval(f"dict({args})")))


def test_centered_and_standardized_use_training_statistics_on_both_splits():
    raw = synthetic().load()
    c = R("Centered")(synthetic()).load()
    np.testing.assert_allclose(c.x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(c.x_test, raw.x_test - raw.x_train.mean(axis=0), atol=1e-5)
    s = R("Standardized")(synthetic()).load()
    np.testing.assert_allclose(s.x_train.std(axis=0), 1, atol=1e-4)
    np.testing.assert_allclose(s.x_test, (raw.x_test - raw.x_train.mean(axis=0)) / raw.x_train.std(axis=0),
                               atol=1e-4)
    np.testing.assert_array_equal(s.y_train, raw.y_train)


def test_standardized_leaves_a_constant_feature_centred_without_nan():
    x = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]], np.float32)
    splits = DataSplits(x, np.array([0, 1, 0]), np.array([[2.0, 7.0]], np.float32), np.array([1]), 2)
    out = transforms.standardized(splits)
    assert np.isfinite(out.x_train).all() and np.isfinite(out.x_test).all()
    np.testing.assert_allclose(out.x_train[:, 1], 0)
    np.testing.assert_allclose(out.x_test[0], [-1 / np.std([1, 3, 5]), 2.0], rtol=1e-6)


def test_random_labels_replace_the_training_labels_only_seeded():
    raw = synthetic().load()
    noisy = R("RandomLabels")(synthetic(), seed=1).load()
    np.testing.assert_array_equal(noisy.x_train, raw.x_train)
    np.testing.assert_array_equal(noisy.y_test, raw.y_test)
    assert noisy.y_train.dtype == np.int64 and set(noisy.y_train) == set(range(4))
    assert (noisy.y_train == raw.y_train).mean() < 0.5
    np.testing.assert_array_equal(noisy.y_train, R("RandomLabels")(synthetic(), seed=1).load().y_train)


def test_wrappers_nest_and_work_on_digits():
    nested = R("Standardized")(R("RandomLabels")(R("Subset")(R("Digits")(), size=50), seed=0)).load()
    assert len(nested.x_train) == 50 and nested.input_shape == (8, 8) and nested.num_classes == 10
    assert len(nested.x_test) == len(R("Digits")().load().x_test)
