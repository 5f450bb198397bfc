"""``training.order``'s one definition (mldsl.data.order) and the per-class evaluation (mldsl.data.per_class),
without a backend."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mldsl.data.order import ORDERS, epoch_order, epoch_orders
from mldsl.data.per_class import per_class_metrics, predicted_classes
from mldsl.errors import DataError


def first(n_epochs, *args, **kwargs):
    return [e for e in itertools.islice(epoch_orders(*args, **kwargs), n_epochs)]


@settings(max_examples=40, deadline=None)
@given(labels=st.lists(st.integers(0, 5), min_size=1, max_size=60), seed=st.integers(0, 2 ** 32 - 1))
def test_by_class_visits_every_example_once_class_after_class(labels, seed):
    labels = np.array(labels)
    for order in first(3, len(labels), "by_class", seed, labels):
        assert order.dtype == np.int64
        assert sorted(order.tolist()) == list(range(len(labels)))        # a permutation
        assert np.all(np.diff(labels[order]) >= 0)                        # class 0's first, then 1's, ...


def test_by_class_reshuffles_within_each_class_every_epoch_from_the_seed():
    labels = np.repeat(np.arange(3), 50)
    a, b, c = first(3, len(labels), "by_class", 7, labels)
    assert not np.array_equal(a, b) and not np.array_equal(b, c)          # a new order inside the classes
    assert not np.array_equal(a[:50], np.arange(50))                      # shuffled, not the data's order
    again = first(3, len(labels), "by_class", 7, labels)
    assert all(np.array_equal(x, y) for x, y in zip((a, b, c), again))    # seeded: the same again
    other = first(1, len(labels), "by_class", 8, labels)[0]
    assert not np.array_equal(a, other)                                   # another seed, another order


def test_sequential_is_the_data_order_every_epoch():
    for order in first(3, 10, "sequential", 5):
        assert order.tolist() == list(range(10))


def test_shuffle_is_the_native_trainers_permutations_as_they_always_were():
    """The permutations the native trainer drew before there was an order: one generator seeded with the
    experiment's seed shuffling arange(n) in place each epoch (so shuffled runs stay bit-identical)."""
    rng = np.random.default_rng(11)
    legacy = np.arange(37, dtype=np.int64)
    for order in first(4, 37, "shuffle", 11):
        rng.shuffle(legacy)
        assert np.array_equal(order, legacy)


def test_epoch_order_is_the_nth_epoch():
    labels = np.arange(20) % 4
    orders = first(3, 20, "by_class", 3, labels)
    assert np.array_equal(epoch_order(20, "by_class", 3, 3, labels), orders[2])
    with pytest.raises(DataError, match="count from 1"):
        epoch_order(20, "shuffle", 3, 0)


@pytest.mark.parametrize("args, message", [
    ((5, "by_klass", 0), "unknown training order 'by_klass'; choose one of: shuffle, sequential, by_class"),
    ((5, "by_class", 0), "needs the class label of every training example"),
    ((5, "by_class", 0, np.zeros(4, int)), "one class label per example: labels of shape (4,) for 5"),
])
def test_bad_arguments_are_errors_when_called(args, message):
    with pytest.raises(DataError) as info:
        epoch_orders(*args)                               # before the first epoch is asked for
    assert message in str(info.value)
    assert ORDERS[0] == "shuffle"                         # the default is first


# -- per-class evaluation -----------------------------------------------------------------------------------
def test_confusion_rows_are_the_true_class_and_columns_the_prediction():
    labels = [0, 0, 0, 1, 1, 2]
    predicted = [0, 1, 1, 1, 1, 0]
    result = per_class_metrics(labels, predicted, 3)
    assert result["classes"] == [0, 1, 2]
    assert result["confusion"] == [[1, 2, 0], [0, 2, 0], [1, 0, 0]]
    assert result["accuracy"] == [pytest.approx(1 / 3), 1.0, 0.0]


def test_classes_with_names_are_named_and_strays_keep_their_index():
    result = per_class_metrics([0, 1, 1], [0, 1, 3], 2, class_names=["cat", "dog"])
    assert result["classes"] == ["cat", "dog", 2, 3] and result["accuracy"][:2] == [1.0, 0.5]


def test_a_class_without_test_examples_has_no_accuracy_and_stray_predictions_are_kept():
    result = per_class_metrics([0, 0, 1], [0, 4, 1], 3)
    assert result["accuracy"] == [0.5, 1.0, None, None, None]      # class 2 has no examples; 4 was predicted
    assert len(result["confusion"]) == 5 and sum(map(sum, result["confusion"])) == 3


@settings(max_examples=40, deadline=None)
@given(pairs=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=80))
def test_weighted_class_accuracies_are_the_accuracy_and_the_matrix_counts_every_example(pairs):
    labels, predicted = map(np.array, zip(*pairs))
    result = per_class_metrics(labels, predicted, 7)
    confusion = np.array(result["confusion"])
    assert confusion.sum() == len(labels)
    counts = confusion.sum(axis=1)
    weighted = sum(a * n for a, n in zip(result["accuracy"], counts) if n)
    assert weighted / len(labels) == pytest.approx(float(np.mean(labels == predicted)))


def test_predicted_classes_are_the_argmax_or_the_rounded_single_output():
    assert predicted_classes(np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])).tolist() == [1, 0]
    assert predicted_classes(np.array([[0.4], [1.6], [-2.0]])).tolist() == [0, 2, 0]
    with pytest.raises(DataError, match="2 predictions for 3 labels"):
        per_class_metrics([0, 1, 1], [0, 1], 2)
