"""One decision shared by several places: hyper primitives with the same ``name`` are one decision point
for the whole search stack (DNA spec, grid, random, evolution, TPE, materialize, resumed searches, the
printer), and two of one name written differently are an error naming both places."""
import pytest

import mldsl
from mldsl.engine.search import run_search
from mldsl.engine.store import Store
from mldsl.errors import SearchError
from mldsl.hyper import TPE, Evolution, Grid, Random, dna_spec, iter_dna, materialize, random_dna
from mldsl.service.inspect import space_lines

SHARED = """
let l2 = oneof([1e-4, 1e-3, 1e-2], name="l2")

experiment space = Experiment(
    model = Sequential([
        Flatten(),
        Dense(16, activation="relu", kernel_regularizer=L2(l2)),
        Dense(10, activation="softmax", kernel_regularizer=L2(l2)),
    ]),
    data = Digits(),
    training = {
        batch_size = 64,
        num_epochs = 1,
        optimizer = Adam(learning_rate=floatv(1e-3, 1e-1, scale="log", name="lr")),
        callbacks = [],
    },
)
"""

PLACES = ("model.layers[1].kernel_regularizer.l2", "model.layers[2].kernel_regularizer.l2")


@pytest.fixture(scope="module")
def space():
    return mldsl.parse(SHARED)["space"]


def l2_values(experiment):
    return [experiment.sym_get(place) for place in PLACES]


def test_one_decision_for_both_layers(space):
    spec = dna_spec(space)
    assert len(spec.elements) == 2  # l2 and lr
    shared = spec.elements[0]
    assert (shared.location, shared.shared_locations) == (PLACES[0], [PLACES[1]])
    assert spec.space_size == float("inf")
    lines = space_lines(mldsl.parse(SHARED.replace('scale="log", name="lr"', 'name="lr"')
                                    .replace("floatv(1e-3, 1e-1", "oneof([1e-3, 1e-1]"))["space"])
    assert lines[-1] == "space size: 6"  # `mldsl space`: 3 l2 x 2 lr, not 3 x 3 x 2


def test_a_let_without_a_name_stays_two_decisions():
    unnamed = mldsl.parse(SHARED.replace(', name="l2"', ""))["space"]
    assert len(dna_spec(unnamed).elements) == 3


def test_grid_walks_the_candidates_once():
    space = mldsl.parse(SHARED.replace('floatv(1e-3, 1e-1, scale="log", name="lr")', "0.01"))["space"]
    assert len(list(iter_dna(space))) == 3
    seen = [l2_values(exp) for exp, feedback in mldsl.sample(space, Grid())]
    assert seen == [[1e-4, 1e-4], [1e-3, 1e-3], [1e-2, 1e-2]]


@pytest.mark.parametrize("algorithm", [Random(seed=3), Evolution(population_size=4, tournament_size=2, seed=3),
                                       TPE(n_startup_trials=3, seed=3)], ids=["random", "evolution", "tpe"])
def test_every_sampled_experiment_has_one_value_at_both_places(space, algorithm):
    values = []
    for i, (exp, feedback) in enumerate(mldsl.sample(space, algorithm, num_examples=16)):
        a, b = l2_values(exp)
        assert a == b
        assert len(feedback.dna.to_numbers()) == 2  # one number for l2, one for lr
        values.append(a)
        feedback(float(i % 5))  # evolution mutates and TPE models these
    assert len(set(values)) > 1  # the shared decision does vary


def test_materialize_and_random_dna(space):
    for seed in range(5):
        assert len(set(l2_values(materialize(space, random_dna(space, seed=seed))))) == 1
    assert l2_values(materialize(space, [2, 0.01])) == [1e-2, 1e-2]
    with pytest.raises(SearchError, match="too many numbers"):
        materialize(space, [2, 0.01, 0.01])  # a number per place: the DNA has one for both


def test_the_printer_writes_it_back(space):
    again = mldsl.parse(mldsl.to_mlx(space, name="space"))["space"]
    assert again == space and dna_spec(again) == dna_spec(space)


def test_mismatched_definitions_are_a_located_error():
    text = SHARED.replace("kernel_regularizer=L2(l2)),\n        Dense(10",
                          'kernel_regularizer=L2(l2)),\n        Dense(10, kernel_regularizer=L2(oneof([1.0], name="l2"))),'
                          "\n        Dense(10", 1)
    with pytest.raises(mldsl.MlxError) as info:
        mldsl.parse(text, filename="bad.mlx")
    message = str(info.value)
    assert "bad.mlx:8:" in message and "named 'l2' but differ" in message
    assert PLACES[0] in message and "model.layers[2].kernel_regularizer.l2" in message
    assert "the other is at bad.mlx:7:" in message


def test_mismatched_definitions_in_a_with_block_point_at_both_values():
    text = SHARED + """experiment other = space with {
    model.layers[1].units = intv(8, 64, name="w")
    model.layers[2].units = intv(8, 32, name="w")
}
"""
    with pytest.raises(mldsl.MlxError) as info:
        mldsl.parse(text, filename="bad.mlx")
    error = info.value
    line = SHARED.count("\n") + 2  # the with block's lines, not the `space with` it derives from
    assert (error.line, error.column) in ((line, 29), (line + 1, 29)) and "named 'w' but differ" in str(error)
    assert {f"bad.mlx:{line}:29", f"bad.mlx:{line + 1}:29"} - {f"bad.mlx:{error.line}:{error.column}"} == \
        {error.notes[0].split(" at ")[-1]}


def test_mismatched_definitions_in_python_name_both_paths():
    space = mldsl.Dict(a=mldsl.oneof([1, 2], name="k"), b=mldsl.oneof([1, 3], name="k"))
    with pytest.raises(SearchError, match=r"named 'k' but differ.*'a'.*'b'"):
        dna_spec(space)
    same = mldsl.Dict(a=mldsl.floatv(0.0, 1.0, name="k"), b=mldsl.floatv(0.0, 1.0, name="k"))
    point = materialize(same, random_dna(same, seed=1))
    assert point.a == point.b


def test_one_name_in_two_branches_of_a_choice_is_an_error():
    space = mldsl.Dict(opt=mldsl.oneof([mldsl.Dict(lr=mldsl.floatv(0.1, 1.0, name="lr")),
                                        mldsl.Dict(lr=mldsl.floatv(0.1, 1.0, name="lr"))]))
    with pytest.raises(SearchError, match="different branches"):
        dna_spec(space)


def test_a_stored_and_resumed_search_keeps_one_decision(space, tmp_path):
    path = tmp_path / "mldsl.db"

    def evaluate(experiment, report):
        a, b = l2_values(experiment)
        assert a == b
        return {"accuracy": -a}

    kwargs = dict(name="shared", algorithm="evolution", objective="accuracy", store=str(path), evaluate=evaluate,
                  seed=2)
    run_search(space, trials=4, **kwargs)
    result = run_search(space, trials=8, **kwargs)  # resumed: the algorithm is rebuilt from the records
    with Store(path) as store:
        trials = store.trials(store.get_study("shared"))
    assert len(trials) == 8 and all(t.status == "completed" for t in trials)
    for trial in trials:
        assert len(trial.dna) == 2
        recorded = mldsl.parse(trial.experiment_mlx)
        assert len(set(l2_values(next(iter(recorded.values()))))) == 1
    assert result.best is not None


def test_the_practical_search_example_samples_one_l2_lambda_for_every_layer():
    from pathlib import Path

    module = mldsl.load_mlx(Path(__file__).parents[2] / "examples" / "practical_search.mlx")
    search = module["practical_search"]
    spec = dna_spec(search.space)
    assert [e.name for e in spec.elements] == ["l2_lambda", "learning_rate"]
    assert len(spec.elements[0].shared_locations) == 2
    for exp, feedback in mldsl.sample(search.space, Random(seed=0), num_examples=5):
        factors = {layer.kernel_regularizer.l2 for layer in exp.model.layers[1:]}
        assert len(factors) == 1
        feedback(0.0)
