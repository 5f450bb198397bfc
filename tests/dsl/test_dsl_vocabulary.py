"""The language's words and tokens have one home, the grammar: ``mldsl.dsl.vocabulary`` reads them from
``mlx.lark`` and the parser's recovery, the REPL's tokenizer and the Pygments lexer use what it read."""
import subprocess
import sys

import pytest

from mldsl.dsl import parser, vocabulary
from mldsl.dsl.parser import get_lark
from mldsl.dsl import lexing


def test_the_vocabulary_is_the_grammars():
    assert vocabulary.STATEMENT_KEYWORDS == ("import", "let", "experiment", "patch", "search")
    assert vocabulary.DEFINING_KEYWORDS == ("let", "experiment", "patch", "search")
    assert set(vocabulary.KEYWORDS) == {"import", "let", "experiment", "patch", "search", "over", "with"}
    assert set(vocabulary.CONSTANTS) == {"true", "True", "false", "False", "none", "None", "inf", "nan"}
    assert vocabulary.NEGATIVE_CONSTANTS == ("-inf",)
    lark = get_lark()
    for name, pattern in vocabulary.TOKEN_PATTERNS.items():
        assert lark.get_terminal(name).pattern.to_regexp() == pattern


def test_a_statement_added_to_the_grammar_is_a_keyword_everywhere_it_is_read():
    text = vocabulary.grammar_text().replace(
        '| "search" NAME "over" expr block             -> search_stmt',
        '| "search" NAME "over" expr block             -> search_stmt\n'
        '          | "const" NAME "=" value                      -> let_stmt\n'
        '          | "assert" expr                               -> plain_value')
    statements, defining, keywords, constants, _, _ = vocabulary.read_vocabulary(text)
    assert statements[-2:] == ("const", "assert") and defining[-1] == "const" and "assert" not in defining
    assert "const" in keywords and "const" not in constants


def test_the_readers_of_the_vocabulary_use_it():
    assert lexing.STATEMENT_KEYWORDS is vocabulary.STATEMENT_KEYWORDS
    assert parser.STATEMENT_KEYWORDS is vocabulary.STATEMENT_KEYWORDS
    assert parser.RESERVED_WORDS is vocabulary.CONSTANTS
    highlight = pytest.importorskip("mldsl.highlight")
    assert highlight.KEYWORDS is vocabulary.KEYWORDS and highlight.CONSTANTS is vocabulary.CONSTANTS


TEXT = '''let x = Dense(3, activation="relu", rate=-1.5e-3, n=+7, s='a\\'b') # note
experiment e = base with { model.layers[1].units = 2 }, "p?k=v"
search s over e { trials = 2 }
'''


def test_the_repl_tokenizer_splits_text_as_the_grammar_does():
    ours = [t.text for t in lexing.tokenize(TEXT, significant=True)]
    grammars = [str(t) for t in get_lark().lex(TEXT)]
    assert ours == grammars


def test_the_hyper_primitive_names_are_those_of_mldsl_hyper():
    import mldsl.hyper as hyper

    samples = {"oneof": ([1, 2],), "manyof": (1, [1, 2]), "floatv": (0.0, 1.0), "intv": (0, 1)}
    assert set(samples) == set(vocabulary.HYPER_PRIMITIVES)
    for name, args in samples.items():
        assert type(getattr(hyper, name)(*args)).type_name == name


def test_import_mldsl_check_and_the_lexers_stay_free_of_numpy_and_tensorflow(tmp_path):
    (tmp_path / "e.mlx").write_text('let x = [1, 2]\n')
    code = ("import sys\nimport mldsl\nimport mldsl.dsl.lexing\nfrom mldsl.cli import main\n"
            f"main(['check', {str(tmp_path / 'e.mlx')!r}])\n"
            "print(sorted(m for m in ('numpy', 'tensorflow') if m in sys.modules) or 'clean')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "clean", out.stdout + out.stderr
