"""Resuming a study whose recorded DNA does not fit the space's decisions -- e.g. one recorded before hyper
primitives sharing a ``name=`` became one decision, so its trials hold a number per primitive -- says
so (N recorded vs M now), why it happens and what to do, instead of a bare "too many numbers"."""
import pytest

from mldsl.cli import main
from mldsl.dsl.api import parse
from mldsl.engine.search import run_search
from mldsl.engine.store import Store
from mldsl.errors import SearchError

MLX = """
let width = oneof([8, 16], name="width")
experiment base = Experiment(
    model = Sequential([Flatten(), Dense(width, activation="relu"), Dense(width, activation="relu"),
                        Dense(10, activation="softmax")]),
    data = Digits(),
    training = { num_epochs = 1 },
)
search s over base {
    algorithm = random(seed=1)
    trials = 3
    objective = maximize("accuracy")
}
"""


def record_old_style_trial(path):
    """Trial 0 as the older mldsl recorded it: one number per `oneof` (two), through the store API."""
    with Store(path) as store:
        study = store.get_study("s")
        claim = store.claim_trial(study, 0, [1, 0], "experiment s_trial_0 = ...")
        assert claim.state == "claimed"
        store.finish_trial(study, 0, status="completed", attempt=claim.attempt, reward=0.5,
                           metrics={"accuracy": 0.5})


def check_message(text):
    assert "cannot resume study 's': its recorded trials do not match the search space's decisions" in text
    assert "trial 0 recorded 2 number(s) [1, 0] but the space now has 1 decision(s) (width)" in text
    assert "sharing a name=" in text and "Start a new study: give the search another name" in text
    assert "--store" in text


def test_run_search_says_the_recorded_trials_do_not_fit_the_decisions(tmp_path):
    space = parse(MLX)["base"]
    path = tmp_path / "s.db"
    kw = dict(name="s", algorithm="random", objective="accuracy", store=str(path), seed=1,
              evaluate=lambda experiment, report: {"accuracy": 0.5})
    assert run_search(space, trials=0, **kw).trials == []  # the study, as this space records it
    record_old_style_trial(path)
    with pytest.raises(SearchError) as info:
        run_search(space, trials=3, **kw)
    check_message(str(info.value))
    with Store(path) as store:  # nothing lost: the old trial is still there
        assert [t.dna for t in store.trials(store.get_study("s"))] == [[1, 0]]


def test_cli_resume_exits_2_with_the_message_and_a_new_name_works(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.mlx").write_text(MLX)
    assert main(["search", "f.mlx", "--store", "s.db", "--trials", "0", "-q"]) == 1  # 1: no trial completed
    record_old_style_trial(tmp_path / "s.db")
    capsys.readouterr()
    assert main(["search", "f.mlx", "--store", "s.db", "-q"]) == 2
    err = capsys.readouterr().err
    check_message(err)
    assert "Traceback" not in err
    (tmp_path / "f.mlx").write_text(MLX.replace("search s ", "search s2 "))  # what the message advises
    assert main(["search", "f.mlx", "--store", "s.db", "--trials", "1", "-q"]) == 0


def test_a_dna_of_the_space_that_the_algorithm_does_not_propose_keeps_the_changed_algorithm_message(tmp_path):
    space = parse(MLX)["base"]
    path = tmp_path / "s.db"
    kw = dict(name="s", algorithm="random", objective="accuracy", store=str(path), seed=1,
              evaluate=lambda experiment, report: {"accuracy": 0.5})
    run_search(space, trials=1, **kw)
    with Store(path) as store:  # trial 1 recorded with a DNA that fits the space but is not the proposal
        study = store.get_study("s")
        proposal = run_search(space, trials=2, name="t", algorithm="random", objective="accuracy", seed=1,
                              evaluate=kw["evaluate"]).trials[1].dna
        claim = store.claim_trial(study, 1, [1 - proposal[0]], "x")
        store.finish_trial(study, 1, status="completed", attempt=claim.attempt, reward=0.1)
    with pytest.raises(SearchError, match="trial 1 was DNA .* but the algorithm now proposes .*the algorithm or "
                                          "space changed"):
        run_search(space, trials=3, **kw)
