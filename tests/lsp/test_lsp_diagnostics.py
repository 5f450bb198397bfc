"""Which diagnostics carry quick-fix replacements: only a name misspelt where the help proposes names."""
import pytest

pytest.importorskip("lsprotocol")

from mldsl.dsl.diagnostics import MlxError  # noqa: E402
from mldsl.lsp.diagnostics import message_of, replacements_for  # noqa: E402


def error(suggestion, column=9, end_column=13, notes=()):
    return MlxError("m", code="E020", filename="f.mlx", line=1, column=column, end_column=end_column,
                    suggestion=suggestion, notes=notes)


@pytest.mark.parametrize("suggestion, expected", [
    ("did you mean 'Dense'?", ["Dense"]),
    ("did you mean 'Dense' or 'Dropout'?", ["Dense", "Dropout"]),
    ("'Dens' is a component: did you mean 'Dens()'?", []),  # not a name to put in place
    ("did you mean 'Dens(...)'?", []),
    (None, []),
])
def test_replacements_come_from_a_did_you_mean_of_names(suggestion, expected):
    assert replacements_for(error(suggestion), ["let d = Dens(3)"]) == expected


def test_no_replacement_when_the_span_is_not_one_name():
    assert replacements_for(error("did you mean 'relu'?", 9, 15), ['let d = "rleu"']) == []
    assert replacements_for(error("did you mean 'x'?", 9, 13), []) == []  # a line the text lacks


def test_the_message_holds_the_help_and_notes_as_check_prints_them():
    shown = message_of(error("did you mean 'Dense'?", notes=["a note"]))
    assert shown == "m\nhelp: did you mean 'Dense'?\nnote: a note"


def test_what_an_explicit_backend_cannot_run_is_an_e050_on_the_definitions_name():
    """`mldsl check` reports it after compiling (exit 2); the language server showed nothing."""
    from mldsl.lsp.analysis import analyse
    from mldsl.lsp.diagnostics import diagnostics

    text = ('let cnn = Sequential([Conv2D(4, [3, 3]), Flatten(), Dense(10, activation="softmax")])\n'
            'experiment native_cnn = Experiment(model=cnn, data=Digits(), backend="native")\n'
            'experiment auto_cnn = Experiment(model=cnn, data=Digits())\n')
    found = diagnostics(analyse(text, "<doc>"))
    assert [d.code for d in found] == ["E050"]  # `auto` picks keras: a note for `check`, no error
    r = found[0].range
    assert (r.start.line, r.start.character, r.end.character) == (1, 11, 21)
    assert found[0].message.startswith("native_cnn: backend native: native cannot run Conv2D")
    broken = diagnostics(analyse(text.replace("Dense(", "Dnse("), "<doc>"))
    assert [d.code for d in broken] == ["E020"]  # as `check`: the backends are looked at once it compiles
