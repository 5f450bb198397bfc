"""The REPL's statements and :commands, run in-process through ``Repl.handle``."""
import io
import json

import pytest

from mldsl.repl.shell import FAILED, OK, QUIT, Repl

EXPERIMENT = ('experiment m = Experiment(model=Sequential([Flatten(), Dense(hidden, activation="relu"), '
              'Dense(10, activation="softmax")]), data=Synthetic(num_samples=120, input_shape=[20], '
              'num_classes=10), training={num_epochs=1})')


class Shell:
    def __init__(self):
        self.out, self.err = io.StringIO(), io.StringIO()
        self.repl = Repl(out=self.out, err=self.err, color=False)

    def __call__(self, text, status=OK):
        self.out.seek(0)
        self.out.truncate()
        self.err.seek(0)
        self.err.truncate()
        got = self.repl.handle(text)
        assert got == status, f"{text!r} -> {got}; err={self.err.getvalue()}"
        return self.out.getvalue() if status != FAILED else self.err.getvalue()

    @property
    def session(self):
        return self.repl.session


@pytest.fixture
def sh():
    shell = Shell()
    shell("let hidden = 16")
    shell(EXPERIMENT)
    return shell


def test_repl_statements_accumulate_and_show(sh):
    assert sh.session.names() == ["hidden", "m"]
    assert sh.session.kind("m") == "experiment"
    assert 'Dense(16, activation="relu")' in sh(":show m")
    assert sh(":show m.model.layers[1].units") == "16\n"
    assert sh(":show m model.layers[2]") == 'Dense(10, activation="softmax")\n'
    assert "use_bias=true" in sh(":show m model.layers[2] --verbose")  # every value, with the docs
    sh("experiment b = m with { training.batch_size = 64 }")
    assert sh(":show b training --hide-defaults") == "{ batch_size = 64 }\n"
    assert "# Examples per gradient step." in sh(":show b training --verbose")
    # an expression shows its value
    assert sh("Dense(3)") == "Dense(3)\n"
    assert sh("hidden") == "16\n"
    # the session is one valid program
    import mldsl

    assert list(mldsl.parse(sh.session.source())) == ["hidden", "m", "b"]


@pytest.mark.parametrize("flags", ["", "--verbose", "--hide-defaults", "--verbose --hide-defaults"])
def test_repl_show_prints_mlx_that_compiles_back_with_every_option(sh, flags):
    """:show --verbose and --hide-defaults print .mlx through the printer, as `mldsl show` does (they
    printed the symbolic format, which is not .mlx), so the text compiles back to an equal value."""
    import mldsl

    from mldsl.dsl.printer import to_mlx

    whole = sh.session.value("m")
    verbose = "--verbose" in flags
    hide = "--hide-defaults" in flags or not verbose  # the REPL's default leaves out values at their default
    for path in ("", "model", "training"):
        text = sh(f":show m {path} {flags}")
        shown = mldsl.parse(f"let shown = {text}")["shown"]
        if path != "training":  # canonical, as `mldsl show` prints (a bare dict has no field docs)
            assert text == to_mlx(shown, hide_defaults=hide, verbose=verbose), text
        if path:  # a part without its defaults means the same in its place (a field's schema fills them)
            rebuilt = whole.clone(deep=True)
            rebuilt.rebind({path: shown})
            shown = rebuilt
        assert shown == whole, text


def test_repl_bad_input_leaves_session_unchanged(sh):
    before = sh.session.source()
    err = sh("experiment m = Experiment(model=Dense(unit=3), data=Digits())", FAILED)
    assert "<repl>:1:39: error[E021]" in err and "^^^^" in err and "did you mean 'units'?" in err
    assert sh.session.source() == before
    err = sh("let y = (", FAILED)
    assert "<repl>:1" in err
    assert "error" in sh(":show m nope", FAILED)
    assert "unknown command" in sh(":frobnicate", FAILED)
    assert sh.repl.handle(":quit") == QUIT and sh.repl.handle(":q") == QUIT


def test_repl_redefinition_keeps_earlier_values(sh):
    sh("let hidden = 32")
    sh("experiment m2 = m with { model.layers[1].units = hidden }")
    assert sh(":show m.model.layers[1].units") == "16\n"  # m keeps the value it was built with
    assert sh(":show m2.model.layers[1].units") == "32\n"
    sh("let m = 1")  # a name may change kind
    assert sh.session.kind("m") == "let"
    assert sh(":show m2.model.layers[1].units") == "32\n"


def test_repl_patch_diff_query(sh):
    sh("patch big { training.batch_size = 256 }")
    sh("experiment m2 = m with big")
    out = sh(":diff m m2")
    assert "256" in out and "32" in out
    assert sh(":diff m m") == "m and m are equal\n"
    assert sh(":query m units") == "model.layers[1].units = 16\nmodel.layers[2].units = 10\n"
    out = sh(":patch m big { model.layers[1].units = 3 } --as m3")
    assert "m3 (defined)" in out
    assert sh(":show m3.training.batch_size") == "256\n"
    assert sh(":show m3.model.layers[1].units") == "3\n"
    assert sh(":show m.training.batch_size") == "32\n"
    out = sh(":patch m { training.num_epochs = 4 } --print")
    assert "num_epochs = 4" in out
    assert sh(":show m.training.num_epochs") == "1\n"
    sh(":patch m big")  # updates m itself
    assert sh(":show m.training.batch_size") == "256\n"


def test_repl_space(sh):
    sh("experiment sp = m with { model.layers[1].units = oneof([4, 8, 16]), "
       "training.optimizer = oneof([Adam(), SGD()]) }")
    out = sh(":space sp")
    assert "space size: 6" in out
    assert "has no hyper primitives" in sh(":space m")


def test_repl_save_and_load(sh, tmp_path):
    sh(f":save m {tmp_path / 'm.mlx'}")
    sh(f":save m {tmp_path / 'm.json'}")
    sh(f":save {tmp_path / 'all.mlx'}")
    assert (tmp_path / "m.mlx").read_text().startswith("experiment m = Experiment(")
    json.loads((tmp_path / "m.json").read_text())
    other = Shell()
    assert "loaded" in other(f":load {tmp_path / 'all.mlx'}")
    assert other.session.names() == ["hidden", "m"]
    other(f":load {tmp_path / 'm.json'}")
    assert other(":diff m m") == "m and m are equal\n"
    assert "m and m_json" not in other(":names")
    assert other.session.kind("m") == "experiment"
    bad = tmp_path / "bad.mlx"
    bad.write_text("let a = 1\nlet b = Dense(unit=2)\n")
    err = other(f":load {bad}", FAILED)
    assert f"{bad}:2:15: error[E021]" in err
    assert "no such file" in other(":load /nonexistent/x.mlx", FAILED)


def test_repl_run_and_search(sh, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = sh(":run m")
    assert "accuracy" in out and "recorded in" in out
    assert (tmp_path / "mldsl.db").exists()
    out = sh(":run m --no-store --seed 3")
    assert "not recorded" in out
    sh("experiment sp = m with { model.layers[1].units = oneof([4, 8]) }")
    out = sh(":search sp --trials 2 --no-store")
    assert "best: trial" in out
    assert "sp_best" in sh.session.names()
    assert "nothing to search" in sh(":search m --trials 1", FAILED)
    assert "not an experiment" in sh(":run hidden", FAILED)


def test_repl_import_and_redefine_an_imported_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "common.mlx").write_text("let width = 5\npatch wide { model.layers[0].units = 99 }\n")
    sh = Shell()
    sh('import "common.mlx"')
    sh("experiment e = Experiment(model=Sequential([Dense(width)]), data=Digits())")
    sh("experiment w = e with wide")
    sh("let width = 7")  # imported names may be redefined too
    assert sh(":show width") == "7\n"
    assert sh(":show e.model") == "Sequential([Dense(5)])\n"
    assert sh(":show w.model") == "Sequential([Dense(99)])\n"
    assert sh.session.names("patch") == ["wide"]


def test_repl_patch_arguments_split():
    from mldsl.repl.commands import split_patch_args

    assert split_patch_args("big scale_lr(batch_size = 1024)  { a.b = 1, c = [1, 2] }") == [
        "big", "scale_lr(batch_size = 1024)", "{ a.b = 1, c = [1, 2] }"]
    assert split_patch_args("a, b") == ["a", "b"]
    assert split_patch_args("scale_lr?batch_size=1024 'x?y=2'") == ['"scale_lr?batch_size=1024"', "'x?y=2'"]
