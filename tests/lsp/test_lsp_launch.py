"""The `mldsl lsp` verb without the server's dependency, pygls staying out of everything else, and the
document analysis behind the features."""
import subprocess
import sys

import pytest

from mldsl.cli import main
from mldsl.lsp.analysis import analyse, name_at
from mldsl.service.completion import complete_mlx


def test_without_pygls_the_verb_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pygls", None)
    monkeypatch.delitem(sys.modules, "mldsl.lsp.server", raising=False)
    assert main(["lsp"]) == 2
    shown = capsys.readouterr().err.strip()
    assert shown == 'error: the language server needs pygls and Pygments: pip install "mldsl[lsp]"'


def test_import_mldsl_and_the_other_verbs_do_not_import_pygls(tmp_path):
    (tmp_path / "e.mlx").write_text("let x = [1, 2]\n")
    code = ("import sys\nimport mldsl\nfrom mldsl.cli import main, build_parser\nbuild_parser()\n"
            f"main(['check', {str(tmp_path / 'e.mlx')!r}])\n"
            "print(sorted(m for m in ('pygls', 'lsprotocol') if m in sys.modules) or 'clean')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "clean", out.stdout + out.stderr


GOOD = "experiment base = Experiment(model=Sequential([Dense(3)]), data=Digits())\n"


def test_while_the_text_has_errors_the_last_good_definitions_fill_in():
    first = analyse(GOOD, "<doc>")
    broken = GOOD.replace("Dense(3)", "Dens(3)") + "experiment e = base with {\n    training.optim"
    second = analyse(broken, "<doc>", first)
    assert second.errors and "base" not in second.module and "base" in second
    assert second.kind("base") == "experiment" and second.value("base") is first.module["base"]
    labels = [s.text for s in complete_mlx(broken, second)]
    assert labels[0] == "training.optimizer"
    # and once the text compiles again, only what it defines counts
    assert "base" not in analyse("let y = 1\n", "<doc>", second)


@pytest.mark.parametrize("offset, expected", [(0, "let"), (3, "let"), (4, "x"), (6, None), (8, None)])
def test_name_at(offset, expected):
    token = name_at("let x = 1", offset)
    assert (token.text if token else None) == expected
