"""The printer's canonical text, and arbitrary text (which either parses or raises MlxError, never
anything else). The round trip of printed values is pinned by ``test_dsl_roundtrip``."""
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mldsl import symbolic as sym
from mldsl.dsl.api import parse
from mldsl.dsl.diagnostics import MlxError
from mldsl.dsl.printer import to_mlx
from mldsl.hyper.primitives import floatv, intv, manyof, oneof

from dsl_helpers import Adam, Dense, Digits, Dropout, Experiment, Flatten, SGD, Sequential, fake_registry


def test_canonical_text_of_an_experiment():
    e = Experiment(model=Sequential([Flatten(), Dense(512, activation="relu"), Dropout(0.2)]),
                   data=Digits(), training={"batch_size": 64, "optimizer": SGD(momentum=0.9)})
    assert to_mlx(e, name="mnist", hide_defaults=True) == (
        "experiment mnist = Experiment(\n"
        "    model=Sequential([Flatten(), Dense(512, activation=\"relu\"), Dropout(0.2)]),\n"
        "    data=Digits(),\n"
        "    training={ batch_size = 64, optimizer = SGD(momentum=0.9) },\n"
        ")\n")
    assert to_mlx(Dense(3), hide_defaults=True) == "Dense(3)\n"
    # by default every value is written, defaults included (a record says exactly what ran)
    assert to_mlx(e, name="mnist") == (
        "experiment mnist = Experiment(\n"
        "    model=Sequential([Flatten(), Dense(512, activation=\"relu\", use_bias=true), Dropout(0.2)]),\n"
        "    data=Digits(test_split=0.2),\n"
        "    training={ batch_size = 64, num_epochs = 1, optimizer = SGD(learning_rate=0.01, momentum=0.9) },\n"
        "    seed=0,\n"
        ")\n")
    assert to_mlx(Dense(3)) == 'Dense(3, activation="linear", use_bias=true)\n'


def test_hyper_primitives_print_as_the_language_writes_them():
    assert to_mlx(floatv(1e-4, 0.1, scale="log")) == 'floatv(0.0001, 0.1, scale="log")\n'
    assert to_mlx(intv(16, 256)) == "intv(16, 256)\n"
    assert to_mlx(manyof(2, ["a", "b", "c"])) == 'manyof(2, ["a", "b", "c"])\n'
    assert to_mlx(oneof([Dense(oneof([1, 2])), Adam()]), hide_defaults=True) == \
        "oneof([Dense(oneof([1, 2])), Adam()])\n"


def test_special_floats_and_strings():
    text = to_mlx(sym.List([math.inf, -math.inf, 1e-300, -0.0, "q\"\\\n\t\x00\u2028é"]))
    assert text == '[inf, -inf, 1e-300, -0.0, "q\\"\\\\\\n\\t\\x00\\u2028é"]\n'
    back = parse("let x = " + text, registry=fake_registry())["x"]
    assert back[4] == "q\"\\\n\t\x00\u2028é"
    nan = parse("let x = " + to_mlx(math.nan), registry=fake_registry())["x"]
    assert math.isnan(nan)


def test_long_lists_break_one_item_per_line_with_a_trailing_comma():
    text = to_mlx(sym.List(list(range(40))))
    lines = text.splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and lines[1] == "    0," and len(lines) == 42
    assert all(len(line) <= 100 for line in to_mlx(sym.List(["x" * 30] * 10)).splitlines())


def test_search_and_patch_statements_round_trip():
    registry = fake_registry()
    m = parse("""
experiment space = Experiment(model=Sequential([Dense(oneof([4, 8]))]))
patch p { training.batch_size = 3  model.layers[0].activation = "elu" }
search s over space { algorithm = evolution(population_size=4, tournament_size=2), trials = 3, objective = maximize("acc") }
""", registry=registry)
    for name in ("p", "s"):
        text = to_mlx(m[name], name=name)
        back = parse("experiment space = Experiment(model=Sequential([Dense(1)]))\n" + text,
                     registry=registry)[name]
        assert back == m[name]
        assert to_mlx(back, name=name) == text
    assert to_mlx(m["s"]).startswith("search s over Experiment(")
    assert parse(m.to_mlx(), registry=registry)["s"] == m["s"]


# ------------------------------------------------------------------------ arbitrary text never crashes

def _lark_for_hypothesis():
    from lark import Lark

    return Lark.open_from_package("mldsl.grammars", "mlx.lark", parser="lalr")


VOCAB = ["let", "experiment", "patch", "search", "over", "with", "import", "=", "(", ")", "[", "]",
         "{", "}", ",", ".", "Dense", "Experiment", "Sequential", "oneof", "x", "1", "-2.5e3", '"s"',
         "'t?k=v'", "true", "none", "inf", "\n", " ", "# c\n", "$", '"', "units", "model", "layers"]
token_soup = st.lists(st.sampled_from(VOCAB), max_size=30).map(" ".join)


def _parses_or_mlx_error(text):
    try:
        parse(text, registry=fake_registry())
    except MlxError as exc:
        assert exc.errors and all(e.code.startswith("E") for e in exc.errors)
        str(exc)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=60), token_soup))
def test_arbitrary_text_parses_or_raises_mlx_error(text):
    _parses_or_mlx_error(text)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_grammar_generated_programs_parse_or_raise_mlx_error(data):
    from hypothesis.extra.lark import from_lark

    text = data.draw(from_lark(_lark_for_hypothesis(), explicit={
        "NAME": st.sampled_from(["x", "Dense", "Experiment", "oneof", "units", "p", "model"])}))
    _parses_or_mlx_error(text)
