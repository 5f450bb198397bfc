"""`mldsl check` and `mldsl search` say, before anything runs, which components an experiment's or a search
space's backend cannot run: an error for an explicitly named backend, a note for ``auto`` (those run on
keras, or fail without TensorFlow)."""
import os
import subprocess
import sys

import pytest

import mldsl
from mldsl.backends import base
from mldsl.errors import SearchError
from mldsl.registry import get_registry

SOURCE = '''
experiment fixed = Experiment(model = Sequential([Conv2D(4, 3), Flatten(), Dense(10, activation="softmax")]),
                              data = Digits(), backend = "native")
experiment space = Experiment(model = Sequential([Flatten(), oneof([Dense(8, activation=oneof(["relu", PReLU()])),
                              Dense(4)]), Dense(10, activation="softmax")]), data = Digits())
search explore over space { trials = 2, objective = maximize("accuracy") }
experiment strict = space with { backend = "native" }
search strict_search over strict { trials = 2, objective = maximize("accuracy") }
'''


def _mldsl(*args, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLDSL_")}
    return subprocess.run([sys.executable, "-m", "mldsl", *args], capture_output=True, text=True, timeout=240,
                          cwd=cwd, env=env)


def test_check_reports_components_the_backend_cannot_run(tmp_path):
    (tmp_path / "exp.mlx").write_text(SOURCE)
    res = _mldsl("check", "exp.mlx", cwd=tmp_path)
    lines = res.stderr.splitlines()
    assert "exp.mlx:fixed: error[E050]: backend native: native cannot run Conv2D at model.layers[0]" in lines
    assert ("exp.mlx:space: note: backend auto: the trials that choose PReLU (at "
            "model.layers[1].candidates[0].activation.candidates[1]) will run on keras; native cannot run it") in lines
    assert ("exp.mlx:strict: error[E050]: backend native: native cannot run PReLU at "
            "model.layers[1].candidates[0].activation.candidates[1]") in lines
    assert res.returncode == 2                               # an explicitly named backend that cannot run it
    (tmp_path / "auto.mlx").write_text(SOURCE.split("experiment strict")[0].replace('backend = "native"', ""))
    res = _mldsl("check", "auto.mlx", cwd=tmp_path)
    assert res.returncode == 0 and "auto.mlx: ok" in res.stdout           # notes only
    assert "auto.mlx:fixed: note: backend auto: this experiment will run on keras, because native cannot run " \
           "Conv2D at model.layers[0]" in res.stderr


def test_search_with_an_explicit_backend_refuses_before_the_first_trial(tmp_path):
    (tmp_path / "exp.mlx").write_text(SOURCE)
    res = _mldsl("search", "exp.mlx:strict_search", "--store", "s.db", cwd=tmp_path)
    assert res.returncode == 2
    assert "the search space has choices its backend cannot run:" in res.stderr
    assert "native cannot run PReLU at space.model.layers[1].candidates[0].activation.candidates[1]" in res.stderr
    assert not (tmp_path / "s.db").exists() or "strict_search" not in _mldsl("trials", "s.db", cwd=tmp_path).stdout


@pytest.mark.parametrize("tensorflow, says", [(True, "will run on keras"),
                                              (False, 'will fail: TensorFlow is not installed (pip install '
                                                      '"mldsl[keras]")')])
def test_search_with_auto_says_which_choices_run_on_keras(monkeypatch, capsys, tensorflow, says):
    from mldsl.service.studies import space_notes
    monkeypatch.setattr(base, "tensorflow_installed", lambda: tensorflow)
    monkeypatch.setattr(base, "gpu_visible", lambda: False)
    space = mldsl.parse(SOURCE)["space"]
    assert space_notes(space) == [(f"backend auto: the trials that choose PReLU (at model.layers[1].candidates[0].activation."
                   f"candidates[1]) {says}; native cannot run it")]
    strict = mldsl.parse(SOURCE)["strict"]
    with pytest.raises(SearchError, match="choices its backend cannot run"):
        space_notes(strict)


def test_nothing_to_say_when_a_gpu_makes_auto_pick_keras(monkeypatch):
    monkeypatch.setattr(base, "tensorflow_installed", lambda: True)
    monkeypatch.setattr(base, "gpu_visible", lambda: True)
    assert base.backend_notes(mldsl.parse(SOURCE)["space"], get_registry(), concrete=False) == ([], False)


def test_check_reports_a_setting_wrong_on_any_backend_as_an_error(tmp_path):
    (tmp_path / "es.mlx").write_text(
        'experiment e = Experiment(model = Sequential([Flatten(), Dense(10, activation="softmax")]), data = Digits(), '
        'training = {callbacks = [EarlyStopping(monitor="val_loss")]})\n')
    res = _mldsl("check", "es.mlx", cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "es.mlx:e: error[E050]: EarlyStopping monitors 'val_loss' (at training.callbacks[0]) but there is no " \
           "validation data" in res.stderr
