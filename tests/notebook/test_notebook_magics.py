"""``%load_ext mldsl`` in IPython's own shell: the session across cells, the line magics, errors shown as
the command line shows them (no traceback), and the rich display of mldsl's values."""
import subprocess
import sys

import pytest

from mldsl.notebook.errors import CellError

DIGITS = '''experiment d = Experiment(
    model=Sequential([Flatten(), Dense(16, activation="relu"), Dense(10, activation="softmax")]),
    data=Digits(),
    training={ batch_size = 64, num_epochs = 2, optimizer = Adam(learning_rate=0.01) },
)
'''


def cell(ip, body, line=""):
    return ip.run_cell_magic("mlx", line, body)


def failure(ip, source):
    """The rendering of the error a cell raises (what the notebook shows instead of a traceback)."""
    result = ip.run_cell(source)
    assert isinstance(result.error_in_exec, CellError), result.error_in_exec
    return "\n".join(result.error_in_exec._render_traceback_())


def test_import_mldsl_imports_no_ipython():
    code = ("import sys, mldsl, mldsl.notebook\n"
            "assert callable(mldsl.load_ipython_extension)\n"
            "assert 'IPython' not in sys.modules, 'IPython imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_statements_persist_across_cells_and_redefine(shell):
    cell(shell, DIGITS)
    cell(shell, "experiment d2 = d with { training.batch_size = 32 }")
    d2 = shell.run_line_magic("mlx", "d2")
    assert d2.training.batch_size == 32 and d2.training.num_epochs == 2
    cell(shell, DIGITS.replace("num_epochs = 2", "num_epochs = 5"))  # d2 keeps the value it had
    assert shell.run_line_magic("mlx", "d").training.num_epochs == 5
    assert shell.run_line_magic("mlx", "d2").training.num_epochs == 2
    assert cell(shell, "d2").training.batch_size == 32  # a cell holding an expression gives its value


def test_python_values_reach_the_session_through_the_line(shell):
    shell.user_ns["width"] = 48
    shell.run_cell("%mlx let width = $width")
    assert shell.run_line_magic("mlx", "width") == 48


def test_a_bad_cell_shows_the_caret_and_the_suggestion_not_a_traceback(shell):
    cell(shell, DIGITS)
    shown = failure(shell, "%%mlx\nexperiment e = d with {\n    training.batch_sise = 3\n}\n")
    assert "<cell" in shown and ":2:5: error" in shown, shown
    assert "    training.batch_sise = 3" in shown and "^^^" in shown
    assert "did you mean 'batch_size'?" in shown
    assert "Traceback" not in shown and "File \"" not in shown
    with pytest.raises(CellError, match="'e' is not defined"):
        shell.run_line_magic("mlx", "show e")  # nothing of the failed cell was kept


def test_unknown_names_and_commands_suggest(shell):
    cell(shell, DIGITS)
    assert "did you mean 'd'?" in failure(shell, "%mlx show dd")
    assert "did you mean 'show'?" in failure(shell, "%mlx :show d")
    assert "%mlx run" in failure(shell, "%mlx run")  # the usage names the magic, not the REPL's :run


def test_show_names_and_space_print_through_the_repl_commands(shell, capsys):
    cell(shell, DIGITS + 'experiment s = d with { model.layers[1].units = oneof([8, 16, 32]) }\n')
    shell.run_line_magic("mlx", "names")
    shell.run_line_magic("mlx", "space s")
    out = capsys.readouterr().out
    assert "d     experiment  Experiment" in out
    assert "space size: 3" in out


def test_help_lists_the_commands_as_magics(shell, capsys):
    shell.run_line_magic("mlx", "help")
    out = capsys.readouterr().out
    assert "%mlx run NAME [--no-store]" in out and "%mlx diff A B" in out and "%%mlx cells" in out
    assert "quit" not in out and ":show" not in out
    shell.run_line_magic("mlx", "help show")
    assert "print a value as .mlx" in capsys.readouterr().out


def test_diff_is_a_table_of_paths(shell):
    cell(shell, DIGITS + "experiment d2 = d with { training.batch_size = 32 }\n")
    view = shell.run_line_magic("mlx", "diff d d2")
    assert view.table().rows == [["training.batch_size", "64", "32"]]
    html = view._repr_html_()
    assert "<table>" in html and "<td style='text-align:left'>training.batch_size</td>" in html
    assert "d and d are equal" in repr(shell.run_line_magic("mlx", "diff d d"))


def test_symbolic_values_display_as_highlighted_mlx(shell):
    cell(shell, DIGITS)
    value = shell.run_line_magic("mlx", "d")
    html = shell.display_formatter.formatters["text/html"](value)
    assert "Experiment" in html and "<span style=" in html  # Pygments' inline styles
    assert html.count("Dense") == 2
    text = shell.display_formatter.formatters["text/plain"](value)
    assert text.startswith("Experiment(") and "Dense(16" in text


def test_run_shows_metrics_and_the_history_plot_and_records_the_run(shell, work):
    cell(shell, DIGITS)
    view = shell.run_line_magic("mlx", "run d --seed 1")
    metrics = dict(view.metrics.rows)
    assert 0.0 <= float(metrics["accuracy"]) <= 1.0 and "loss" in metrics
    html = view._repr_html_()
    assert "<img alt='d: history' src='data:image/png;base64,iVBOR" in html
    assert f"recorded in {work / 'mldsl.db'}" in repr(view)
    from mldsl.engine.store import Store

    with Store(work / "mldsl.db") as store:
        [run] = store.list_runs()
    assert run.status == "completed" and run.name == "d" and run.source == "<notebook>"


def test_search_shows_its_trials_and_defines_the_best(shell, work):
    cell(shell, DIGITS.replace("num_epochs = 2", "num_epochs = 1")
         + "experiment s = d with { model.layers[1].units = oneof([8, 16]) }\n"
         + 'search tune over s { algorithm = grid() trials = 2 objective = maximize("accuracy") }\n')
    view = shell.run_line_magic("mlx", "search tune")
    assert [row[3] for row in view.trials.rows] == ["completed", "completed"]
    assert "<img alt='tune: trials'" in view._repr_html_()
    assert "search 'tune': 2 trials (2 completed)" in repr(view)
    best = shell.run_line_magic("mlx", "tune_best")
    assert best.model.layers[1].units in (8, 16)


def test_the_interrupted_run_is_recorded_and_reported_without_a_traceback(shell, work, monkeypatch):
    from mldsl.engine.store import Store
    from mldsl.notebook import output

    def interrupt(self, epoch, logs):  # Ctrl-C ("interrupt kernel") arrives during the first epoch's report
        raise KeyboardInterrupt

    monkeypatch.setattr(output.NotebookEpochProgress, "__call__", interrupt)
    cell(shell, DIGITS)
    shown = failure(shell, "%mlx run d")
    assert shown.startswith("interrupted while") and "is recorded as interrupted" in shown, shown
    with Store(work / "mldsl.db") as store:
        [run] = store.list_runs()
    assert run.status == "interrupted"


def test_unloading_removes_the_display(shell):
    cell(shell, DIGITS)
    value = shell.run_line_magic("mlx", "d")
    shell.run_line_magic("unload_ext", "mldsl")
    try:
        assert shell.display_formatter.formatters["text/html"](value) is None
    finally:
        shell.run_line_magic("load_ext", "mldsl")
