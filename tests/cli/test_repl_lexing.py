"""The REPL's forgiving tokenizer (multi-line continuation, statement splitting) and the Pygments
lexer for .mlx."""
import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Error, Keyword, Name, Number, String

from mldsl.highlight import MlxLexer, MlxReplLexer
from mldsl.dsl.lexing import needs_more, referenced_names, split_statements

DESIGN_EXAMPLE = '''\
# mnist.mlx
import "common.mlx"                 # definitions from another file

let hidden = 512                    # a named value

experiment mnist = Experiment(
    model = Sequential([
        Flatten(),
        Dense(hidden, activation="relu"),
        Dropout(0.2),
        Dense(10, activation='softmax'),
    ]),
    data = Mnist(),
    training = { batch_size = 32, num_epochs = 2, optimizer = Adam(learning_rate=1e-3) },
)

patch big_batch {
    training.batch_size = 256
    model.layers[1].units = -inf
}

experiment mnist_elu = mnist with relu_to_elu, scale_lr(batch_size=1024), big_batch, 'lr?x=1'

search tune over space {
    algorithm = evolution(population_size=5)
    trials = 20
    objective = maximize("accuracy")
}
'''


@pytest.mark.parametrize("text", [
    "experiment m = Experiment(",
    "let x = [1,\n 2",
    "patch p {\n  a.b = 1",
    "experiment e = m with",
    "experiment e = m with a,",
    "let x =",
    "patch p",
    "search s over space",
    "patch p  # the block comes next",
    "experiment x = Experiment(\n\n",  # a blank line inside brackets goes on
])
def test_repl_needs_more_while_unfinished(text):
    assert needs_more(text)


@pytest.mark.parametrize("text", [
    "",
    "let x = 1",
    "experiment e = m with p",
    "experiment m = Experiment(model=Dense(1))",
    ":show m",
    ":query m (",            # commands are one line
    "let x = )",             # unbalanced: let the parser report it
    "let s = 'abc",          # unterminated string: an error, not a continuation
    "experiment e = m with\n",  # a blank line ends the input
    "patch p { a = 1 }",
    "let x = 1 # comment (",
    "# only a comment",
    "let",                   # an error, said at once
    "let x",
    "   ",
])
def test_repl_needs_more_when_finished(text):
    assert not needs_more(text)


def test_repl_split_statements():
    stmts = split_statements(DESIGN_EXAMPLE)
    assert [(s.keyword, s.name) for s in stmts] == [
        ("import", None), ("let", "hidden"), ("experiment", "mnist"), ("patch", "big_batch"),
        ("experiment", "mnist_elu"), ("search", "tune")]
    assert stmts[2].text.startswith("experiment mnist = Experiment(")
    assert stmts[2].text.endswith(")")
    # a bare expression is a statement without a keyword
    assert [(s.keyword, s.name) for s in split_statements("Dense(3)")] == [(None, None)]


def test_repl_referenced_names():
    names = referenced_names("experiment e = mnist with { training.batch_size = hidden } , p")
    assert {"mnist", "hidden", "p"} <= names
    assert "batch_size" not in names
    assert "units" not in referenced_names("let d = Dense(units=3)")


def test_repl_lexer_is_registered_with_pygments():
    assert isinstance(get_lexer_by_name("mlx"), MlxLexer)
    assert isinstance(get_lexer_for_filename("mnist.mlx"), MlxLexer)


def test_repl_lexer_tokens():
    tokens = list(MlxLexer().get_tokens(DESIGN_EXAMPLE))
    assert not [t for t in tokens if t[0] is Error]
    assert "".join(v for _, v in tokens) == DESIGN_EXAMPLE
    kinds = {(tt, v) for tt, v in tokens}
    assert (Keyword.Declaration, "experiment") in kinds
    assert (Name.Variable, "mnist") in kinds
    assert (Name.Class, "Dense") in kinds
    assert (Name.Attribute, "activation") in kinds
    assert (Name.Attribute, "training.batch_size") in kinds
    assert (Keyword, "with") in kinds
    assert (Keyword.Constant, "-inf") in kinds
    assert (Number.Float, "1e-3") in kinds
    assert (Number.Integer, "512") in kinds
    assert (String.Double, '"relu"') in kinds
    assert any(tt in Name.Function and v == "evolution" for tt, v in tokens)


def test_repl_lexer_commands():
    tokens = list(MlxReplLexer().get_tokens(":show mnist --verbose\nlet x = oneof([1, 2])\n"))
    kinds = {(tt, v) for tt, v in tokens}
    assert (Keyword.Pseudo, ":show") in kinds
    assert (Name.Label, "--verbose") in kinds
    assert (Name.Builtin, "oneof") in kinds
    assert (Keyword.Declaration, "let") in kinds
