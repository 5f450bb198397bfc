"""One run is one protected sequence: Ctrl-C at any step, a folder that cannot be made, a full disk or a
store that cannot be written each end in a finalised row and a message that says what is true."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import killing as K
import mldsl
from mldsl.cli import main
from mldsl.engine import runner as runner_module
from mldsl.engine.runner import RunFailed, RunInterrupted, run_experiment
from mldsl.engine.store import Store



@pytest.fixture
def tiny():
    return mldsl.parse(K.TINY_RUN)["tiny"]


def _ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)


def _interrupt_in(monkeypatch, step):
    """Sends SIGINT to this process at the start of ``step``."""
    from mldsl.backends.native.backend import NativeBackend

    if step == "training":
        original = NativeBackend.run

        def run(self, experiment, *, on_epoch=None):
            def hook(epoch, logs):
                answer = on_epoch(epoch, logs)
                if epoch == 2:
                    _ctrl_c()
                return answer
            return original(self, experiment, on_epoch=hook)
        monkeypatch.setattr(NativeBackend, "run", run)
    elif step == "saving the model":
        original_save = NativeBackend.save_model

        def save_model(self, model, folder):
            path = original_save(self, model, folder)  # half-way: written, not yet in place
            _ctrl_c()
            return path
        monkeypatch.setattr(NativeBackend, "save_model", save_model)
    elif step == "plotting the history":
        original_plot = runner_module.plot_history
        monkeypatch.setattr(runner_module, "plot_history", lambda *a: (_ctrl_c(), original_plot(*a))[1])
    elif step == "recording the outcome":
        original_finish = Store.finish_run

        def finish_run(self, run_id, **kw):
            _ctrl_c()  # arrives while the outcome is being written
            return original_finish(self, run_id, **kw)
        monkeypatch.setattr(Store, "finish_run", finish_run)


@pytest.mark.parametrize("step, status", [("training", "interrupted"), ("saving the model", "interrupted"),
                                          ("plotting the history", "interrupted"),
                                          ("recording the outcome", "completed")])
def test_ctrl_c_at_each_step_leaves_a_final_row_and_says_so(tmp_path, tiny, monkeypatch, step, status):
    _interrupt_in(monkeypatch, step)
    with Store(tmp_path / "mldsl.db") as store:
        with pytest.raises(RunInterrupted) as info:
            run_experiment(tiny, name="tiny", store=store)
        (row,) = store.list_runs()
    stop = info.value
    assert isinstance(stop, KeyboardInterrupt) and stop.record is not None and stop.record.id == row.id
    assert row.status == status == stop.record.status
    assert f"recorded as {status}" in str(stop)
    folder = tmp_path / "runs" / row.id
    assert not [p.name for p in folder.iterdir() if "partial" in p.name]  # nothing half-written
    assert (folder / "history.csv").exists()
    if step == "training":
        assert row.metrics == {} and len(row.history) == 2 and "after 2 of 3 epoch(s)" in row.error
        assert "while training" in str(stop)
    else:  # training had finished: its metrics are part of what was done
        assert row.metrics["accuracy"] > 0.5 and len(row.history) == 3
    if step == "saving the model":
        assert not (folder / "model").exists() and "the model was not saved" in row.error
    if status == "completed":
        assert (folder / "model" / "weights.npz").exists() and (folder / "history.png").exists()


def test_without_a_store_ctrl_c_says_nothing_was_recorded(tiny, monkeypatch):
    _interrupt_in(monkeypatch, "training")
    with pytest.raises(RunInterrupted, match=r"after 2 of 3 epoch\(s\); nothing was recorded") as info:
        run_experiment(tiny, name="tiny")
    assert info.value.record is None


def test_an_artifacts_folder_that_cannot_be_made_fails_the_run_with_a_message(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default store, ./mldsl.db, and its runs/ folder
    mlx = tmp_path / "tiny.mlx"
    mlx.write_text(K.TINY_RUN)
    (tmp_path / "runs").write_text("a file where the runs folder goes")
    assert main(["run", str(mlx)]) == 2
    err = capsys.readouterr().err
    assert "making the artifacts folder for run" in err and "a file stands where a folder is needed" in err
    assert "recorded as failed" in err and "Traceback" not in err
    with Store(tmp_path / "mldsl.db") as store:
        (row,) = store.list_runs()
        assert row.status == "failed" and "Not a directory" in row.error
        with pytest.raises(RunFailed) as info:  # the Python API: the error carries the record
            run_experiment(mldsl.parse(K.TINY_RUN)["tiny"], name="tiny", store=store)
        assert info.value.record.status == "failed" and info.value.record.metrics == {}


def _run_limited(folder: Path, limit: int, *, mlx_text: str, preload_store: bool = False) -> subprocess.CompletedProcess:
    """``mldsl run`` with a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored): writes past ``limit`` bytes
    fail with EFBIG, as on a full disk."""
    mlx = folder / "exp.mlx"
    mlx.write_text(mlx_text)
    if preload_store:
        Store(folder / "mldsl.db").close()
    code = ("import resource, signal, sys\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
            f"from mldsl.cli import main\nsys.exit(main(['run', {str(mlx)!r}]))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=folder)


BIG_MODEL = K.TINY_RUN.replace("Dense(16", "Dense(2048").replace("num_epochs = 3", "num_epochs = 1")


def test_a_full_disk_while_saving_the_model_fails_the_run_with_a_message(tmp_path):
    done = _run_limited(tmp_path, 300_000, mlx_text=BIG_MODEL)  # the store fits, the 540 kB model does not
    assert done.returncode == 2, done.stderr
    assert "saving the model for run" in done.stderr and "File too large" in done.stderr
    assert "recorded as failed (its metrics are kept)" in done.stderr and "Traceback" not in done.stderr
    with Store(tmp_path / "mldsl.db") as store:
        (row,) = store.list_runs()
    assert row.status == "failed" and row.metrics["accuracy"] > 0 and "File too large" in row.error
    folder = tmp_path / "runs" / row.id
    assert not (folder / "model").exists() and not (folder / "model.partial").exists()


def test_a_full_disk_before_the_store_exists_is_a_message_and_no_row(tmp_path):
    done = _run_limited(tmp_path, 8_192, mlx_text=K.TINY_RUN)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "mldsl.db" in done.stderr and ("disk" in done.stderr or "File too large" in done.stderr)
    assert not (tmp_path / "mldsl.db").exists() and not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_a_store_that_cannot_record_the_outcome_leaves_a_run_shown_as_crashed(tmp_path):
    """The store fails just when the outcome is written: a message saying so, and once the process has
    ended the run reads as crashed."""
    mlx = tmp_path / "exp.mlx"
    mlx.write_text(K.TINY_RUN)
    code = ("import sys\nfrom mldsl.engine.store import Store\nfrom mldsl.errors import StoreError\n"
            "def broken(self, run_id, **kw):\n"
            "    raise StoreError(f'writing the store {self.path} failed: the disk is full')\n"
            "Store.finish_run = broken\n"
            f"from mldsl.cli import main\nsys.exit(main(['run', {str(mlx)!r}]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "the run finished (" in done.stderr and "accuracy=" in done.stderr  # its figures are not lost
    assert "the disk is full" in done.stderr and "will show run" in done.stderr and "as crashed" in done.stderr
    with Store(tmp_path / "mldsl.db") as store:
        (row,) = store.list_runs()
    assert row.status == "crashed" and f"pid" in row.error


def test_a_store_path_under_a_file_is_a_message(tmp_path, capsys):
    mlx = tmp_path / "exp.mlx"
    mlx.write_text(K.TINY_RUN)
    (tmp_path / "f").write_text("x")
    assert main(["run", str(mlx), "--store", str(tmp_path / "f" / "mldsl.db")]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and "Traceback" not in err


def test_the_record_keeps_why_the_backend_ran_it_and_its_warnings(tmp_path, tiny, monkeypatch, capsys):
    from mldsl.backends.native.backend import NativeBackend

    original = NativeBackend.run

    def run(self, experiment, *, on_epoch=None):
        result = original(self, experiment, on_epoch=on_epoch)
        result.backend_reason = "auto: native runs every component"
        result.warnings = ["the loss rose 4x over the last epochs (diverging)"]
        return result

    monkeypatch.setattr(NativeBackend, "run", run)
    with Store(tmp_path / "mldsl.db") as store:
        outcome = run_experiment(tiny, name="tiny", store=store)
        again = store.get_run(outcome.record.id)
    assert again.backend_reason == "auto: native runs every component"
    assert again.warnings == ["the loss rose 4x over the last epochs (diverging)"]
    assert main(["runs", "show", again.id, "--store", str(tmp_path / "mldsl.db")]) == 0
    out = capsys.readouterr().out
    assert "backend chosen: auto: native runs every component" in out and "warning: the loss rose" in out
    assert f"process: pid {os.getpid()}" in out
