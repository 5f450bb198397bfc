"""Early-stopping rules: the median rule and how rules are read from strings, dicts and .mlx calls."""
import pickle

import pytest

from mldsl.hyper.early_stopping import MedianStopping, median, resolve_rule
from mldsl.engine.trial import curve_of, epoch_value
from mldsl.errors import SearchError


def test_median_rule_compares_with_completed_trials_at_the_same_epoch():
    rule = median(after=2)
    reference = [[0.1, 0.5, 0.7], [0.2, 0.6, 0.8], [0.3, 0.7]]
    assert rule.should_stop(1, 0.0, reference, "maximize") is None        # before `after`
    assert rule.should_stop(2, 0.65, reference, "maximize") is None       # above the median 0.6
    reason = rule.should_stop(2, 0.55, reference, "maximize")
    assert reason.startswith("stopped at epoch 2") and "below the median 0.6 of 3" in reason
    assert rule.should_stop(3, 0.74, reference, "maximize")               # median of [0.7, 0.8]
    assert rule.should_stop(4, 0.0, reference, "maximize") is None        # nobody reached epoch 4
    assert rule.should_stop(2, 0.55, reference, "minimize") is None       # lower is better
    assert "above the median" in rule.should_stop(2, 0.65, reference, "minimize")
    assert rule.should_stop(2, 0.1, [], "maximize") is None               # no reference yet
    assert median(after=1, min_trials=4).should_stop(1, 0.0, reference, "maximize") is None


def test_rules_are_read_from_strings_dicts_and_calls_and_pickle():
    assert resolve_rule(None) is None
    assert resolve_rule("median(after=3)") == MedianStopping(after=3)
    assert resolve_rule("median") == MedianStopping()
    assert resolve_rule({"name": "median", "after": 1}) == MedianStopping(after=1)

    import search_testlib as L

    import mldsl

    compiled = mldsl.parse(L.SYMBOLIC_MLX + 'search s over space {\n trials = 2\n objective = maximize("accuracy")\n'
                           ' early_stopping = median(after=2)\n}\n')["s"].early_stopping
    assert resolve_rule(compiled) == MedianStopping(after=2)  # what the .mlx compiler hands over
    with pytest.raises(SearchError, match="cannot read early-stopping rule 42"):
        resolve_rule(42)
    rule = median(after=2)
    assert pickle.loads(pickle.dumps(rule)) == rule and str(rule) == "median(after=2, min_trials=1)"
    assert rule.to_json() == {"name": "median", "after": 2, "min_trials": 1}


def test_bad_rules_are_clear_errors():
    with pytest.raises(SearchError, match="did you mean 'median'"):
        resolve_rule("mediam(after=2)")
    with pytest.raises(SearchError, match="integer >= 1"):
        resolve_rule("median(after=0)")
    with pytest.raises(SearchError, match="bad arguments"):
        resolve_rule("median(patience=2)")


def test_the_objective_per_epoch_prefers_validation():
    assert epoch_value({"accuracy": 0.5, "val_accuracy": 0.4}, "accuracy") == 0.4
    assert epoch_value({"accuracy": 0.5}, "accuracy") == 0.5
    assert epoch_value({"loss": 1.0}, "accuracy") is None
    history = [{"epoch": 1, "acc": 0.1}, {"epoch": 3, "acc": float("nan")}]
    assert curve_of(history, "acc") == [0.1, None, None]
