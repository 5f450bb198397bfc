"""One argument binder for every call: a component, a hyper primitive, a search algorithm, an
early-stopping rule and a patcher report the same errors in the same words (E021 unknown parameter with
did-you-mean, E022 missing, E023 too many / twice / positional after keyword)."""
import pytest

from mldsl.dsl.api import compile_source

from dsl_helpers import fake_registry

BASE = 'experiment base = Experiment(model=Sequential([Dense(4)]))\nlet space = base with { seed = oneof([1, 2]) }\n'


def errors(text):
    _, errs = compile_source(BASE + text, registry=fake_registry())
    return [(e.code, e.message, e.suggestion) for e in errs]


@pytest.mark.parametrize("call, what, wrong, good", [
    ('let x = Dense(4, activaton="relu")', "Dense", "activaton", "activation"),
    ('let x = oneof([1, 2], nme="a")', "oneof", "nme", "name"),
    ('search s over space { algorithm = evolution(populaton_size=4), trials = 2, objective = maximize("a") }',
     "evolution", "populaton_size", "population_size"),
    ('search s over space { trials = 2, objective = maximize("a"), early_stopping = median(aftr=2) }',
     "median", "aftr", "after"),
    ("experiment e = base with set_batch_size(batch_sise=3)", "patcher set_batch_size", "batch_sise", "batch_size"),
])
def test_unknown_parameter_reads_the_same_everywhere(call, what, wrong, good):
    assert errors(call) == [("E021", f"{what} has no parameter '{wrong}'", f"did you mean '{good}'?")]


@pytest.mark.parametrize("call, message", [
    ("let x = Dense()", "missing required parameter 'units' of Dense"),
    ("let x = floatv(0.1)", "missing required parameter 'max_value' of floatv"),
    ("let x = intv(1, 2, 3)", "intv takes at most 2 positional arguments (3 given)"),
    ("let x = Dense(4, units=5)", "parameter 'units' of Dense is given twice"),
    ("let x = oneof(candidates=[1], [2])", "positional argument after keyword arguments"),
    ("experiment e = base with set_training(1, 2, 3)", "patcher set_training takes at most 2 positional "
                                                       "arguments (3 given)"),
])
def test_binding_errors(call, message):
    assert [m for _, m, _ in errors(call)] == [message]
