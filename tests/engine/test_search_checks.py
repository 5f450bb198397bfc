"""A search is checked whole before its first trial: the objective must be a metric the trials log, and
the early-stopping rule must fit their epochs (the Python API and every executor; `check` does .mlx)."""
import pytest

import search_testlib as L
from mldsl.cli import main
from mldsl.engine.search import check_search, run_search
from mldsl.engine.store import Store
from mldsl.errors import SearchError

BASE = dict(name="s", algorithm="random", trials=2, seed=0)


@pytest.mark.parametrize("executor", ["inprocess", "local"])
def test_a_misspelt_objective_fails_before_any_trial(tmp_path, executor):
    path = tmp_path / "s.db"
    with pytest.raises(SearchError, match=r"objective 'acuracy' is not a metric the trials log \(they log: "
                                          r"accuracy, loss\); did you mean 'accuracy'\?; nothing was run"):
        run_search(L.symbolic_space(), objective="acuracy", store=str(path), executor=executor, workers=2, **BASE)
    with Store(path) as store:
        assert store.list_studies() == []  # no study, no trial: nothing trained


def test_an_early_stopping_rule_that_cannot_fire_fails_before_any_trial():
    with pytest.raises(SearchError, match=r"median\(after=3, min_trials=1\) never stops a trial: .* at most 2 "
                                          r"epoch\(s\); lower `after` or drop early_stopping"):
        run_search(L.symbolic_space(), objective="accuracy", early_stopping="median(after=3)", **BASE)
    with pytest.raises(SearchError, match="unknown early-stopping rule 'edian'; did you mean 'median'"):
        run_search(L.symbolic_space(), objective="accuracy", early_stopping="edian(after=1)", **BASE)


def test_the_check_reads_every_candidate():
    import mldsl

    space = mldsl.parse(L.SYMBOLIC_MLX + """
experiment wide = space with {
    training.num_epochs = oneof([1, 4])
    evaluation.metric = oneof([Accuracy(name="acc_a"), Accuracy(name="acc_b")])
}
""")["wide"]
    check_search(space, "acc_b", None)
    check_search(space, "loss", None)
    from mldsl.hyper.early_stopping import median

    check_search(space, "acc_a", median(after=4))  # some trials train 4 epochs
    with pytest.raises(SearchError, match="they log: acc_a, acc_b, loss"):
        check_search(space, "accuracy", None)


def test_a_custom_evaluate_decides_its_own_metrics():
    res = run_search(L.symbolic_space(), objective="anything", evaluate=L.ev_symbolic, **BASE)
    assert {t.status for t in res.trials} == {"failed"}  # its metrics are only known when it runs


def test_the_cli_reports_it_without_training(tmp_path, capsys):
    mlx = tmp_path / "s.mlx"
    mlx.write_text(L.SYMBOLIC_MLX + 'search s over space {\n trials = 2\n objective = maximize("acuracy")\n}\n')
    assert main(["search", str(mlx), "-q"]) == 2
    err = capsys.readouterr().err
    assert "'acuracy'" in err and "Traceback" not in err  # said by the engine, or by the language's checks
    store = tmp_path / "mldsl.db"
    if store.exists():
        with Store(store) as s:
            assert all(not s.trials(study) for study in s.list_studies())
