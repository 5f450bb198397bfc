"""One experiment run three ways -- ``mldsl run FILE:NAME --json``, ``mldsl.run(...)`` and the REPL's
``:run NAME`` -- trains the same model: equal final metrics, equal history, equal store rows.

Generated experiments (Hypothesis) vary the width, activation, optimizer and learning rate, batch size,
epochs, ``training.order``, ``evaluation.per_class`` and ``eval_every``, on 200 digits (native backend,
deterministic with the experiment's seed)."""
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mldsl
from mldsl.cli import main
from mldsl.engine.store import Store
from mldsl.repl.shell import OK, Repl

#: Per-epoch keys that measure time, not training.
TIMING_KEYS = {"seconds"}
#: Store columns that say when, where and through which front end a run was made, not what it trained.
CIRCUMSTANCE_COLUMNS = {"id", "source", "patches", "artifacts", "started", "finished", "duration", "host",
                        "pid"}

optimizers = st.one_of(
    st.builds(lambda lr: f"SGD(learning_rate={lr})", st.sampled_from([0.5, 0.1, 0.01])),
    st.builds(lambda lr, m: f"SGD(learning_rate={lr}, momentum={m})", st.sampled_from([0.1, 0.05]),
              st.sampled_from([0.5, 0.9])),
    st.builds(lambda lr: f"Adam(learning_rate={lr})", st.sampled_from([0.01, 0.001, 3e-3])),
    st.builds(lambda lr: f"RMSprop(learning_rate={lr})", st.sampled_from([0.01, 0.001])),
    st.builds(lambda lr: f"Adagrad(learning_rate={lr})", st.sampled_from([0.1, 0.01])),
)


@st.composite
def experiments(draw):
    """``.mlx`` text defining ``experiment e``: a small MLP on 200 digits, 1-2 epochs."""
    units = draw(st.integers(1, 24))
    activation = draw(st.sampled_from(["relu", "tanh", "sigmoid", "elu", "gelu", "swish", "softplus"]))
    second = draw(st.none() | st.tuples(st.integers(2, 12), st.sampled_from(["relu", "tanh"])))
    layers = [f'Dense({units}, activation="{activation}")']
    if second:
        layers.append(f'Dense({second[0]}, activation="{second[1]}")')
    epochs = draw(st.integers(1, 2))
    training = [f"batch_size = {draw(st.sampled_from([1, 7, 32, 64, 200, 256]))}",
                f"num_epochs = {epochs}",
                f"optimizer = {draw(optimizers)}",
                f'order = "{draw(st.sampled_from(["shuffle", "sequential", "by_class"]))}"',
                f"eval_every = {draw(st.integers(0, epochs))}"]
    if draw(st.booleans()):
        training.append("validation_split = 0.2")
    per_class = draw(st.booleans())
    seed = draw(st.integers(0, 2**31 - 1))
    return (f"experiment e = Experiment(\n"
            f"    model = Sequential([Flatten(), {', '.join(layers)}, Dense(10, activation=\"softmax\")]),\n"
            f"    data = Subset(Digits(), size=200),\n"
            f"    training = {{ {', '.join(training)} }},\n"
            f"    evaluation = {{ per_class = {'true' if per_class else 'false'} }},\n"
            f"    seed = {seed},\n"
            f")\n")


def without_timing(history):
    return [{k: v for k, v in row.items() if k not in TIMING_KEYS} for row in history]


def json_roundtrip(value):
    """``value`` as it reads back from JSON (``--json`` and the store write JSON)."""
    return json.loads(json.dumps(value, default=float))


def store_row(store_path, run_id):
    with Store(store_path) as store:
        row = store.get_run(run_id).to_dict()
    row["history"] = without_timing(row["history"])
    return {k: v for k, v in row.items() if k not in CIRCUMSTANCE_COLUMNS}


def _experiment_file(source, prefix, tmp_path_factory, monkeypatch):
    """A fresh folder (the working directory, no MLDSL_STORE) holding ``source`` as ``exp.mlx``."""
    folder = tmp_path_factory.mktemp(prefix)
    monkeypatch.chdir(folder)
    monkeypatch.delenv("MLDSL_STORE", raising=False)
    mlx = folder / "exp.mlx"
    mlx.write_text(source)
    return folder, mlx


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=experiments(), seed=st.none() | st.integers(0, 2**31 - 1), typed=st.booleans())
def test_cli_python_and_repl_runs_agree(source, seed, typed, tmp_path_factory, monkeypatch, capsys):
    """``seed``: the override each path is given (None: the experiment's own); ``typed``: the REPL gets
    the statement typed in rather than ``:load``-ed."""
    folder, mlx = _experiment_file(source, "paths", tmp_path_factory, monkeypatch)

    # the command line
    capsys.readouterr()
    seed_flag = [] if seed is None else ["--seed", str(seed)]
    assert main(["run", f"{mlx}:e", "--backend", "native", "--store", str(folder / "cli.db"), "--json",
                 *seed_flag]) == 0
    cli = json.loads(capsys.readouterr().out)
    # ... and run again from its record
    assert main(["run", "--rerun", cli["run_id"], "--store", str(folder / "cli.db"), "--json"]) == 0
    rerun = json.loads(capsys.readouterr().out)

    # Python, from the file and from the compiled value
    from_file = mldsl.run(f"{mlx}:e", backend="native", store=folder / "py.db", seed=seed)
    from_value = mldsl.run(mldsl.load_mlx(str(mlx))["e"], backend="native", store=False, seed=seed)

    # the REPL
    out, err = io.StringIO(), io.StringIO()
    repl = Repl(out=out, err=err, color=False)
    assert repl.handle(source if typed else f':load "{mlx}"') == OK, err.getvalue()
    assert repl.handle(f":run e --backend native --store {folder / 'repl.db'} {' '.join(seed_flag)}") == OK, \
        err.getvalue()
    with Store(folder / "repl.db") as store:
        (repl_run,) = store.list_runs()

    expected_metrics = json_roundtrip(from_value.metrics)
    expected_history = json_roundtrip(without_timing(from_value.history))
    for label, metrics, history in [
        ("cli", cli["metrics"], cli["history"]),
        ("rerun", rerun["metrics"], rerun["history"]),
        ("python", json_roundtrip(from_file.metrics), json_roundtrip(from_file.history)),
        ("repl", repl_run.metrics, repl_run.history),
    ]:
        assert metrics == expected_metrics, (label, source)
        assert without_timing(history) == expected_history, (label, source)
    assert cli["seed"] == rerun["seed"] == repl_run.seed
    assert cli["backend"] == rerun["backend"] == from_file.backend == from_value.backend == repl_run.backend == "native"

    rows = {"cli": store_row(folder / "cli.db", cli["run_id"]),
            "python": store_row(folder / "py.db", from_file.run_id),
            "repl": store_row(folder / "repl.db", repl_run.id)}
    assert rows["cli"]["status"] == "completed"
    assert rows["cli"]["seed"] == (seed if seed is not None else int(source.split("seed = ")[1].split(",")[0]))
    assert rows["cli"]["metrics"] == expected_metrics
    assert rows["python"] == rows["cli"], source
    assert rows["repl"] == rows["cli"], source


#: Edits of ``experiment e``: a key path and a value, as ``.mlx``.
EDITS = st.lists(st.one_of(
    st.tuples(st.just("training.batch_size"), st.sampled_from(["16", "50"])),
    st.tuples(st.just("model.layers[1].units"), st.integers(1, 9).map(str)),
    st.tuples(st.just("training.optimizer"), st.sampled_from(["Adam(learning_rate=0.02)", "SGD(learning_rate=0.3)"])),
    st.tuples(st.just("training.order"), st.sampled_from(['"sequential"', '"by_class"'])),
    st.tuples(st.just("evaluation.per_class"), st.sampled_from(["true", "false"])),
    st.tuples(st.just("data"), st.just("Subset(Digits(), size=120, seed=3)")),
), min_size=1, max_size=3, unique_by=lambda edit: edit[0])


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=experiments(), edits=EDITS)
def test_an_edited_experiment_runs_the_same_from_set_with_and_clone(source, edits, tmp_path_factory, monkeypatch,
                                                                    capsys):
    """The same edits as ``mldsl run --set PATH=VALUE``, as the REPL's ``experiment e2 = e with { ... }``
    then ``:run e2``, and as ``mldsl.run(e.clone(override=...))``: the same experiment recorded, the same
    metrics and history."""
    folder, mlx = _experiment_file(source, "edits", tmp_path_factory, monkeypatch)

    capsys.readouterr()
    sets = [arg for path, value in edits for arg in ("--set", f"{path}={value}")]
    assert main(["run", f"{mlx}:e", *sets, "--backend", "native", "--store", str(folder / "s.db"), "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)

    out, err = io.StringIO(), io.StringIO()
    repl = Repl(out=out, err=err, color=False)
    assert repl.handle(f':load "{mlx}"') == OK, err.getvalue()
    block = " ".join(f"{path} = {value}" for path, value in edits)
    assert repl.handle(f"experiment e2 = e with {{ {block} }}") == OK, err.getvalue()
    assert repl.handle(f":run e2 --backend native --store {folder / 's.db'}") == OK, err.getvalue()

    override = {path: mldsl.parse(f"let v = {value}")["v"] for path, value in edits}
    edited = mldsl.load_mlx(str(mlx))["e"].clone(deep=True, override=override)
    python = mldsl.run(edited, backend="native", store=folder / "s.db", name="e3")
    edited.rebind({"backend": "native"})  # a record says what ran: the backend given to run

    with Store(folder / "s.db") as store:
        runs = {r.name: r for r in store.list_runs()}
    assert sorted(runs) == ["e", "e2", "e3"]
    experiments_run = {name: mldsl.parse(r.experiment_mlx)[name] for name, r in runs.items()}
    assert experiments_run["e"] == edited, (edits, runs["e"].experiment_mlx)
    assert experiments_run["e2"] == edited, (edits, runs["e2"].experiment_mlx)
    assert experiments_run["e3"] == edited
    expected = json_roundtrip(python.metrics), json_roundtrip(without_timing(python.history))
    assert (cli["metrics"], without_timing(cli["history"])) == expected, edits
    for name, row in runs.items():
        assert (row.metrics, without_timing(row.history)) == expected, (name, edits)
