"""``mldsl check`` reports, with ``file:line:col``, what would otherwise fail only once a run or every
trial of a search has trained: values the backends cannot use (NaN, infinities, out of Keras' ranges),
misspelt early-stopping rules, objectives naming a metric the experiment does not log, algorithms that
cannot sweep the space. Compiled against the standard library's real components."""
import textwrap

import pytest

from mldsl.dsl.api import check, parse

BASE = textwrap.dedent('''\
    experiment ok = Experiment(
        model=Sequential([Flatten(), Dense(10, activation="softmax")]),
        data=Digits(),
    )
    experiment space = ok with { training.batch_size = oneof([16, 32]) }
''')


def errors_of(tmp_path, registry, text):
    path = tmp_path / "f.mlx"
    path.write_text(BASE + textwrap.dedent(text))
    return [(e.line - BASE.count("\n"), e.column, e.code, e.message, e.suggestion, e.notes)
            for e in check(path, registry=registry)]


@pytest.mark.parametrize("value, message", [
    ("SGD(momentum=nan)", "Value nan is not a number. (path=momentum)"),
    ("SGD(learning_rate=inf)", "Value inf is not a finite number. (path=learning_rate)"),
    ("SGD(learning_rate=-inf)", "Value -inf is not a finite number. (path=learning_rate)"),
    ("Adam(epsilon=inf)", "Value inf is not a finite number. (path=epsilon)"),
    ("RMSprop(momentum=nan)", "Value nan is not a number. (path=momentum)"),
    ("Adagrad(initial_accumulator_value=inf)",
     "Value inf is not a finite number. (path=initial_accumulator_value)"),
])
def test_optimizer_values_must_be_finite(tmp_path, std_registry, value, message):
    errors = errors_of(tmp_path, std_registry, f"experiment e = ok with {{ training.optimizer = {value} }}\n")
    assert [(line, code, msg) for line, _, code, msg, _, _ in errors] == [(1, "E024", message)]


def test_every_bad_argument_of_a_call_is_reported_at_its_value(tmp_path, std_registry):
    errors = errors_of(tmp_path, std_registry, '''\
        let reg = L2(nan)
        let opt = SGD(learning_rate=inf, momentum=nan)
        let es = EarlyStopping(min_delta=inf)
        let bn = BatchNormalization(epsilon=inf)
    ''')
    assert [(line, col, msg) for line, col, _, msg, _, _ in errors] == [
        (1, 14, "Value nan is not a number. (path=l2)"),
        (2, 29, "Value inf is not a finite number. (path=learning_rate)"),
        (2, 43, "Value nan is not a number. (path=momentum)"),
        (3, 34, "Value inf is not a finite number. (path=min_delta)"),
        (4, 37, "Value inf is not a finite number. (path=epsilon)"),
    ]


def test_early_stopping_rule_is_checked(tmp_path, std_registry):
    errors = errors_of(tmp_path, std_registry, '''\
        search s over space {
            trials = 2
            objective = maximize("accuracy")
            early_stopping = edian(after=2)
        }
        search t over space {
            trials = 2
            objective = maximize("accuracy")
            early_stopping = median(after=-5)
        }
        search u over space {
            trials = 2
            objective = maximize("accuracy")
            early_stopping = median(aftr=2)
        }
    ''')
    assert [(line, col, code) for line, col, code, *_ in errors] == [(4, 22, "E041"), (9, 22, "E024"),
                                                                     (14, 29, "E021")]
    assert errors[0][3] == "unknown early-stopping rule 'edian'" and errors[0][4] == "did you mean 'median'?"
    assert errors[1][3] == "median(after=...) must be an integer >= 1, got -5"
    assert errors[2][3] == "median has no parameter 'aftr'" and errors[2][4] == "did you mean 'after'?"


def test_an_early_stopping_rule_that_could_never_act_is_an_error(tmp_path, std_registry):
    # 0 epochs (the untrained model) leaves no epoch to compare at
    errors = errors_of(tmp_path, std_registry, '''\
        experiment five = space with { training.num_epochs = 5 }
        experiment untrained = space with { training.num_epochs = 0 }
        search a over five { trials = 2, objective = minimize("loss"), early_stopping = median(after=6) }
        search b over untrained { trials = 2, objective = minimize("loss"), early_stopping = median(after=1) }
        search c over five { trials = 2, objective = minimize("loss"), early_stopping = median(after=5) }
    ''')
    assert [(line, col, code) for line, col, code, *_ in errors] == [(3, 81, "E040"), (4, 86, "E040")]
    assert errors[0][3].startswith("early_stopping: median(after=6, min_trials=1) never stops a trial")
    assert "at most 0 epoch(s)" in errors[1][3]


def test_objective_must_name_a_metric_the_experiment_logs(tmp_path, std_registry):
    errors = errors_of(tmp_path, std_registry, '''\
        search s over space {
            trials = 2
            objective = maximize("acuracy")
        }
    ''')
    assert errors == [(3, 26, "E041", "the experiment does not log a metric 'acuracy'",
                       "did you mean 'accuracy'?", ["it logs: loss, accuracy (an objective names one of them)"])]
    renamed = errors_of(tmp_path, std_registry, '''\
        experiment named = space with { evaluation.metric = SparseCategoricalAccuracy(name="acc") }
        search s over named { trials = 2, objective = maximize("acc") }
        search t over named { trials = 2, objective = minimize("loss") }
        search u over named { trials = 2, objective = maximize("accuracy") }
    ''')
    assert [(line, msg) for line, _, _, msg, *_ in renamed] == [
        (4, "the experiment does not log a metric 'accuracy'")]


def test_algorithm_must_be_able_to_search_the_space(tmp_path, std_registry):
    errors = errors_of(tmp_path, std_registry, '''\
        experiment cont = ok with { training.optimizer.learning_rate = floatv(0.001, 0.1) }
        search s over cont { algorithm = grid(), trials = 2, objective = minimize("loss") }
        search t over cont { algorithm = grid(grid_size=3), trials = 2, objective = minimize("loss") }
    ''')
    assert [(line, col, code) for line, col, code, *_ in errors] == [(2, 34, "E040")]
    assert errors[0][3].startswith("algorithm grid cannot search this space: ")


def test_a_sound_search_compiles(std_registry):
    module = parse(BASE + 'search s over space {\n  algorithm = evolution(population_size=4, tournament_size=2)\n  trials = 3\n'
                          '  objective = maximize("accuracy")\n  early_stopping = median(after=1)\n}\n',
                   registry=std_registry)
    assert module["s"].early_stopping.kwargs == {"after": 1}
