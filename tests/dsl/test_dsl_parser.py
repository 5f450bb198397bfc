"""The grammar, the IR and syntax-error recovery."""
import math

import pytest

from mldsl.dsl import ir
from mldsl.dsl.parser import decode_string, get_lark, parse_program
from mldsl.symbolic import KeyPath


def value_of(text):
    program = parse_program(f"let x = {text}\n")
    assert not program.errors, program.errors
    return program.statements[0].value


@pytest.mark.parametrize("text, expected", [
    ("42", 42), ("-7", -7), ("+3", 3), ("1e-3", 1e-3), ("2.5", 2.5), (".5", 0.5), ("1.", 1.0),
    ("1E+20", 1e20), ("true", True), ("True", True), ("false", False), ("False", False),
    ("none", None), ("None", None), ('"relu"', "relu"), ("'relu'", "relu"),
    (r'"a\"b\n\t\\"', 'a"b\n\t\\'), (r"'\u00e9\x41'", "éA"), ("inf", math.inf), ("-inf", -math.inf),
])
def test_literals(text, expected):
    node = value_of(text)
    assert isinstance(node, ir.Literal)
    assert node.value == expected and type(node.value) is type(expected)
    assert node.text == (text.lower() if text in ("True", "False", "None") else text)


def test_nan_literal():
    assert math.isnan(value_of("nan").value)


def test_calls_lists_dicts_and_refs():
    node = value_of('std.Dense(512, activation="relu", extra=[1, {a = 2, "b c" = 3}],)')
    assert isinstance(node, ir.Call) and node.callee == "std.Dense"
    assert [a.name for a in node.args] == [None, "activation", "extra"]
    lst = node.args[2].value
    assert isinstance(lst, ir.ListExpr) and isinstance(lst.items[1], ir.DictExpr)
    keys = lst.items[1].entries
    assert keys[0].key.segments == ("a",) and keys[1].key.value == "b c"
    assert isinstance(value_of("hidden"), ir.Ref)


def test_statements_and_with_chain():
    src = '''
import "common.mlx"
let a = 1
experiment e = base with p, f(x=1), 'name?k=v', { model.layers[1].units = 3 }
patch p { training.batch_size = 256  training.optimizer.learning_rate = 0.01 }
search s over e { algorithm = evolution(population_size=5), trials = 3
  objective = maximize("accuracy") }
'''
    program = parse_program(src, "f.mlx")
    assert not program.errors
    kinds = [type(s).__name__ for s in program.statements]
    assert kinds == ["Import", "Let", "ExperimentDef", "PatchDef", "SearchDef"]
    with_expr = program.statements[2].value
    assert isinstance(with_expr, ir.WithExpr) and len(with_expr.patches) == 4
    path = with_expr.patches[3].entries[0].key
    assert path.segments == ("model", "layers", 1, "units") and str(KeyPath(path.segments)) == "model.layers[1].units"
    assert len(program.statements[3].body.entries) == 2


def test_keywords_are_contextual():
    program = parse_program("let patch = Foo(search=1, over=2, let=3)\nlet y = patch\n")
    assert not program.errors
    assert [a.name for a in program.statements[0].value.args] == ["search", "over", "let"]
    assert program.statements[1].value.name == "patch"


def test_positions_are_one_based_with_exclusive_end():
    program = parse_program("let x = 1\nexperiment m = Foo(\n  a=[1, 2])\n", "p.mlx")
    call = program.statements[1].value
    assert (call.span.line, call.span.column, call.span.end_line, call.span.end_column) == (2, 16, 3, 12)
    arg = call.args[0]
    assert (arg.name_span.line, arg.name_span.column, arg.name_span.end_column) == (3, 3, 4)
    assert call.span.file == "p.mlx"
    assert program.statements[1].name_span.column == 12


def test_comments_are_collected_with_positions():
    program = parse_program("# head\nlet x = 1  # tail\n")
    assert [(c.text, c.span.line, c.span.column) for c in program.comments] == [
        ("# head", 1, 1), ("# tail", 2, 12)]


def test_one_error_per_broken_statement_and_the_rest_still_parses():
    src = "let a = Foo(1, 2\nlet b = 3\nlet c = = 4\nlet d = [1\nexperiment e = Bar()\n"
    program = parse_program(src, "r.mlx")
    assert [(e.line, e.code) for e in program.errors] == [(1, "E002"), (3, "E001"), (4, "E002")]
    assert [s.name for s in program.statements] == ["b", "e"]
    assert program.broken_names == {"a", "c", "d"}


def test_missing_token_caret_is_after_the_previous_token():
    program = parse_program("let a = Foo(1, 2\n\n\nlet b = 3\n")
    (err,) = program.errors
    assert (err.line, err.column) == (1, 17)
    assert err.message == "expected ')' or ','"


def test_missing_equals_caret():
    (err,) = parse_program("let a 3\n").errors
    assert err.code == "E002" and err.message == "missing '=' before number 3"
    assert err.column == 6


def test_unexpected_token_shows_tokens_not_terminal_names():
    (err,) = parse_program("experiment m = Foo(a=1))\n").errors
    assert err.code == "E001"
    assert err.message == "unexpected ')'; expected 'with' or a new statement"
    for name in ("RPAR", "LPAR", "COMMA", "__ANON", "$END", "NAME"):
        assert name not in err.render()


def test_misspelled_keyword_gets_a_suggestion():
    (err,) = parse_program("experimnt m = Foo()\n").errors
    assert err.suggestion == "did you mean 'experiment'?"


def test_reserved_words_cannot_name_definitions():
    (err,) = parse_program("let true = 1\n").errors
    assert err.code == "E004"


def test_bad_escape_and_unterminated_string():
    errs = parse_program('let a = "x\\qy"\nlet b = "open\n').errors
    assert [(e.code, e.message) for e in errs] == [
        ("E003", "unterminated string"), ("E003", "invalid escape sequence in string")] or \
        sorted((e.line, e.code) for e in errs) == [(1, "E003"), (2, "E003")]


def test_decode_string_rejects_bad_escapes():
    assert decode_string(r'"\x41\u00e9\U0001F600"') == "Aé😀"
    for bad in (r'"\q"', r'"\x4"', r'"\U11111111"'):
        with pytest.raises(ValueError):
            decode_string(bad)


def test_parser_is_built_once():
    assert get_lark() is get_lark()


def test_missing_comma_caret_is_after_the_previous_item_not_at_the_next():
    (err,) = parse_program('let layer = Dense(512 activation="relu")\n').errors
    assert (err.code, err.column) == ("E002", 22)  # just after `512`
    (err,) = parse_program("let xs = [\n    Dense(1)\n    Dense(2)\n]\n").errors
    assert (err.line, err.column, err.message) == (2, 13, "expected ']' or ','")
