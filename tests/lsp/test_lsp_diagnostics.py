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
