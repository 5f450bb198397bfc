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


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=experiments(), seed=st.none() | st.integers(0, 2**31 - 1), typed=st.booleans())
def test_cli_python_and_repl_runs_agree(source, seed, typed, tmp_path_factory, monkeypatch, capsys):
    """``seed``: the override each path is given (None: the experiment's own); ``typed``: the REPL gets
    the statement typed in rather than ``:load``-ed."""
    folder = tmp_path_factory.mktemp("paths")
    monkeypatch.chdir(folder)
    monkeypatch.delenv("MLDSL_STORE", raising=False)
    mlx = folder / "exp.mlx"
    mlx.write_text(source)

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
