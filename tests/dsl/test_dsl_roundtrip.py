"""One printer that round-trips: whatever ``mldsl show``, the printer (``to_mlx``, with or without
``hide_defaults``/``verbose``) and ``Module.to_mlx`` produce is valid ``.mlx`` that compiles back to an
equal value, and printing that again gives the same text (a fixpoint).

Covered: the examples (through the CLI), generated experiments and search spaces (nested ``oneof``,
``manyof``, ``floatv``, ``intv``), named primitives shared by several places (one decision per name,
also through a ``let``), ``search`` statements, patches, whole generated programs, plain values
(strings with escapes, ``1e-7``, ``inf``, ``nan``, negative numbers, empty lists and dicts, keys that are
not names) and symbolic classes defined in a Python module (printed as ``module.Class(...)``)."""
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mldsl import components as c
from mldsl import symbolic as sym
from mldsl.cli import main
from mldsl.dsl.api import load_mlx, parse
from mldsl.dsl.module import Patch
from mldsl.dsl.layout import render
from mldsl.dsl.printer import Printer, to_mlx
from mldsl.dsl.search_statement import Invocation, Objective, Search
from mldsl.hyper.primitives import floatv, intv, manyof, oneof
from mldsl.hyper.space import dna_spec, find_primitives

from dsl_helpers import ACTIVATIONS, Adam, Dense, Digits, Dropout, Experiment, Flatten, SGD, Sequential, fake_registry
from dsl_strategies import experiments

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
OPTIONS = [{}, {"hide_defaults": True}, {"verbose": True}]
EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.mlx"))
t = sym.typing


# ------------------------------------------------------------------- classes defined in a module
@sym.members([
    ("text", t.Str(), "Some text."),
    ("values", t.List(t.Any(), default=[]), "Any values."),
    ("scale", t.Float(1.0), "A float with a default."),
    ("child", t.Any(default=None), "Another value (a note, a component, anything)."),
])
class Note(sym.Object):
    """A symbolic class that no plugin registers: known to the process that defined it."""


@sym.members([("model", t.Object(c.Model), "The model."), ("tag", t.Str("x"), "A tag.")])
class UserExperiment(c.ExperimentBase):
    """An experiment component a script defines."""


def test_a_class_defined_in_a_module_prints_by_its_type_name_and_parses_back():
    note = Note("a", [1, 2.5], child=Note("b", scale=-2.0))
    text = to_mlx(note, name="n")
    assert text.startswith(f"let n = {Note.type_name}(") and Note.type_name.endswith(".Note")
    assert sym.eq(parse(text, registry=fake_registry())["n"], note)
    exp = UserExperiment(model=Sequential([Dense(3)]))
    text = to_mlx(exp, name="e")
    assert text.startswith(f"experiment e = {UserExperiment.type_name}(")
    assert sym.eq(parse(text, registry=fake_registry())["e"], exp)


def test_a_class_whose_name_is_not_a_dotted_name_is_refused_clearly():
    def make():
        @sym.members([("x", t.Int(), "x")])
        class Local(sym.Object):
            pass

        return Local(1)

    with pytest.raises(TypeError, match=r"type_name '.*<locals>.Local' is not a \(dotted\) .mlx name"):
        to_mlx(make())


# ------------------------------------------------------------------------------------ strategies
ODD_TEXT = st.text(st.sampled_from(list('ab "\\\n\t\r\x00\x7f\u2028é\U0001F600\'?=#{}')), max_size=8)
texts = st.one_of(st.text(max_size=8), ODD_TEXT)
floats = st.one_of(st.floats(width=64), st.sampled_from([1e-7, -1e-7, 1e300, -0.0, 5e-324, math.inf,
                                                        -math.inf, math.nan, -3.0]))
scalars = st.one_of(st.integers(-10**18, 10**18), floats, texts, st.booleans(), st.none())
keys = st.one_of(st.from_regex(r"[a-z_][a-z0-9_]{0,5}", fullmatch=True), texts,
                 st.sampled_from(["true", "none", "inf", "with", "patch", "a.b", "x[0]", ""]))
plain = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)), max_leaves=12)


def _space_of(value):
    return st.one_of(st.just(value), st.lists(st.just(value), min_size=1, max_size=2).map(oneof))


candidates = st.lists(st.sampled_from(ACTIVATIONS), min_size=1, max_size=4, unique=True)
nested_spaces = st.builds(
    Experiment,
    model=st.builds(Sequential, st.lists(st.one_of(
        st.builds(Dense, units=st.one_of(st.integers(1, 64), st.builds(intv, st.integers(1, 8), st.integers(9, 16))),
                  activation=st.one_of(candidates.map(oneof), candidates.map(lambda c: oneof([oneof(c), "relu"])))),
    ), min_size=1, max_size=3)),
    training=st.fixed_dictionaries({"optimizer": st.one_of(
        st.builds(Adam, learning_rate=st.builds(floatv, st.floats(1e-5, 1e-3), st.floats(1e-2, 1.0),
                                                scale=st.sampled_from(["linear", "log"]))),
        st.lists(st.builds(SGD, learning_rate=st.floats(0.0, 1.0)), min_size=1, max_size=3).map(oneof))}),
    data=st.one_of(st.none(), st.builds(Digits)),
)
manyofs = st.builds(lambda k, cands, distinct, srt: manyof(min(k, len(cands)), cands, distinct, srt),
                    st.integers(1, 3), st.lists(st.one_of(st.integers(-5, 5), st.builds(Dense, st.integers(1, 4))),
                                                min_size=1, max_size=4, unique_by=repr),
                    st.booleans(), st.booleans())
notes = st.recursive(
    st.builds(Note, texts, st.lists(scalars, max_size=3), st.one_of(st.just(1.0), floats)),
    lambda inner: st.builds(Note, texts, st.lists(st.one_of(scalars, inner, manyofs), max_size=3),
                            child=st.one_of(inner, st.builds(Dense, st.integers(1, 9)), manyofs)),
    max_leaves=4)
algorithms = st.one_of(
    st.builds(lambda seed: Invocation(name="random", kwargs={"seed": seed}), st.integers(0, 99)),
    st.builds(lambda p, k: Invocation(name="evolution", args=[p], kwargs={"tournament_size": min(k, p)}),
              st.integers(2, 9), st.integers(1, 9)),
    st.just(Invocation(name="random")))
rules = st.one_of(st.none(), st.builds(lambda a, m: Invocation(name="median", kwargs={"after": a, "min_trials": m}),
                                       st.integers(1, 5), st.integers(1, 3)))


def _search(space, algo, trials, metric, goal, rule):
    epochs = c.max_epochs(space)  # a rule must be able to act within the trials' epochs (else an E040)
    if rule is not None and epochs is not None and rule.kwargs["after"] > epochs:
        rule = Invocation(name="median", kwargs={**rule.kwargs, "after": epochs})
    return Search(name="s", space=space, algorithm=algo, trials=trials,
                  objective=Objective(metric=metric, goal=goal), early_stopping=rule)


searches = st.builds(_search, st.one_of(experiments, nested_spaces), algorithms, st.integers(1, 10**6),
                     texts, st.sampled_from(["maximize", "minimize"]), rules)
paths = st.lists(st.one_of(st.from_regex(r"[a-z_][a-z0-9_]{0,4}", fullmatch=True), st.integers(0, 5),
                           st.sampled_from(["a b", "x.y", "é", "n\n"])), min_size=1, max_size=4)
patches = st.dictionaries(paths.map(lambda keys: str(sym.KeyPath(keys))), st.one_of(plain, st.builds(Dense, st.integers(1, 5))),
                          min_size=0, max_size=4).map(lambda d: Patch(d, name="p"))


def _as_symbolic(value):
    return sym.Dict(value) if isinstance(value, dict) else sym.List(value) if isinstance(value, list) else value


# --------------------------------------------------------------------------------------- checks
def same_value(a, b) -> bool:
    return a == b if isinstance(b, Patch) else sym.eq(a, b)


def round_trip(value, name, kind=None, **options):
    """Prints ``value`` as the statement ``name``, compiles it, checks equality and the fixpoint."""
    text = to_mlx(value, name=name, kind=kind, **options)
    back = parse(text, registry=fake_registry())[name]
    assert same_value(back, value), text
    assert to_mlx(back, name=name, kind=kind, **options) == text
    return text


@SETTINGS
@given(st.one_of(experiments, nested_spaces), st.sampled_from(OPTIONS))
def test_experiments_and_spaces_round_trip(value, options):
    round_trip(value, "exp", **options)
    expression = to_mlx(value, **options)
    assert sym.eq(parse("experiment x = " + expression, registry=fake_registry())["x"], value)


@SETTINGS
@given(plain, st.sampled_from(OPTIONS))
def test_plain_values_round_trip(value, options):
    round_trip(_as_symbolic(value), "x", **options)


@SETTINGS
@given(st.one_of(notes, manyofs), st.sampled_from(OPTIONS))
def test_classes_defined_here_and_hyper_primitives_round_trip(value, options):
    round_trip(value, "x", **options)


@SETTINGS
@given(searches, st.sampled_from(OPTIONS))
def test_search_statements_round_trip(search, options):
    text = round_trip(search, "s", **options)
    assert text.startswith("search s over ")
    assert to_mlx(search, **options) == text  # as an expression, a search prints its statement


@SETTINGS
@given(patches, st.sampled_from(OPTIONS))
def test_patches_round_trip(patch, options):
    text = round_trip(patch, "p", **options)
    assert text.startswith("patch p {")


@SETTINGS
@given(st.lists(st.one_of(plain.map(lambda v: ("let", _as_symbolic(v))), experiments.map(lambda e: ("experiment", e)),
                          patches.map(lambda p: ("patch", p))), max_size=4),
       st.one_of(st.none(), searches), st.sampled_from(OPTIONS))
def test_generated_programs_round_trip(definitions, search, options):
    """A whole module (what ``mldsl show FILE`` prints): a search over an experiment the module defines
    names it."""
    lines = [to_mlx(v, name=f"d{i}", kind=k) for i, (k, v) in enumerate(definitions)]
    if search is not None:
        lines.append(to_mlx(search.space, name="space", kind="experiment"))
        lines.append(render(Printer().statement("s", search, space_name="space")))
    module = parse("\n".join(lines), registry=fake_registry())
    text = module.to_mlx(**options)
    back = parse(text, registry=fake_registry())
    assert back.own == module.own
    for n in module.own:
        assert back.kinds[n] == module.kinds[n]
        assert same_value(back[n], module[n]), n
    assert back.to_mlx(**options) == text
    if search is not None:
        assert "search s over space {" in text


# ------------------------------------------------------------------------------------- examples
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("flags", [[], ["--hide-defaults"], ["--verbose"]], ids=lambda f: " ".join(f) or "plain")
def test_show_of_an_example_is_valid_mlx_that_compiles_back(path, flags, std_registry, tmp_path, capsys):
    from mldsl.registry import reset_registry

    reset_registry(std_registry)
    try:
        original = load_mlx(path, registry=std_registry)
        assert main(["show", str(path), *flags]) == 0
        shown = capsys.readouterr().out
        (tmp_path / "shown.mlx").write_text(shown)
        assert main(["check", str(tmp_path / "shown.mlx")]) == 0
        capsys.readouterr()
        back = load_mlx(tmp_path / "shown.mlx", registry=std_registry)
        assert back.own == original.own
        for name in original.own:
            assert back.kinds[name] == original.kinds[name]
            assert same_value(back[name], original[name]), name
            assert main(["show", f"{path}:{name}", *flags]) == 0
            one = capsys.readouterr().out
            assert one.startswith(f"{original.kinds[name]} {name} ")  # the statement, not only its value
            assert same_value(parse(one, registry=std_registry)[name], original[name])
        assert main(["show", str(tmp_path / "shown.mlx"), *flags]) == 0
        assert capsys.readouterr().out == shown  # a fixpoint
    finally:
        reset_registry(None)


def test_a_path_key_ending_in_a_newline_is_quoted_and_reads_back():
    patch = Patch({str(sym.KeyPath(["model", "n\n"])): 1}, name="p")
    assert to_mlx(patch, name="p") == 'patch p {\n    "model[\\"n\\\\n\\"]" = 1\n}\n'
    round_trip(patch, "p")



# -------------------------------------------------------------------- named (shared) decisions
#: Decision names, some of them needing quotes and escapes in ``.mlx``.
DECISION_NAMES = st.one_of(st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True),
                           st.sampled_from(["a b", 'q"t', "back\\slash", "é", "x.y", "l2", "none", "oneof", "\n"]))
#: Per kind of place, the named primitives that fit it (given the name) and the unnamed values.
NAMED = {
    "units": lambda name: st.one_of(
        st.builds(lambda lo, hi: intv(lo, lo + hi, name=name), st.integers(1, 8), st.integers(0, 8)),
        st.lists(st.integers(1, 64), min_size=1, max_size=3, unique=True).map(lambda c: oneof(c, name=name))),
    "activation": lambda name: st.lists(st.sampled_from(ACTIVATIONS), min_size=1, max_size=3, unique=True).map(
        lambda c: oneof(c, name=name)),
    "rate": lambda name: st.one_of(
        st.builds(lambda lo, scale: floatv(lo, 0.5, scale=scale, name=name), st.sampled_from([1e-4, 0.01, 0.25]),
                  st.sampled_from(["linear", "log"])),
        st.lists(st.floats(0.0, 1.0), min_size=1, max_size=3, unique=True).map(lambda c: oneof(c, name=name))),
    # a named choice of layers whose first candidate holds a named decision of its own ("NAME/units")
    "layer": lambda name: st.builds(
        lambda lo, rate: oneof([Dense(intv(lo, lo + 3, name=f"{name}/units")), Dropout(rate)], name=name),
        st.integers(1, 5), st.floats(0.0, 1.0)),
}
UNNAMED = {"units": st.one_of(st.integers(1, 64), st.builds(intv, st.integers(1, 4), st.integers(5, 9))),
           "activation": st.one_of(st.sampled_from(ACTIVATIONS), candidates.map(oneof)),
           "rate": st.one_of(st.floats(0.0, 1.0), st.builds(floatv, st.just(0.0), st.just(1.0))),
           "layer": st.one_of(st.builds(Dense, st.integers(1, 9)), st.builds(lambda u: oneof([Dense(u), Flatten()]),
                                                                               st.integers(1, 9)))}
#: Where a value of each kind goes, as ``.mlx`` (``{}``: the value).
PLACES = {"units": "Dense({})", "activation": "Dense(1, activation={})", "rate": "Dropout(rate={})",
          "layer": "{}"}


@st.composite
def named_decisions(draw):
    """``{name: (kind, primitive, uses)}``: 1-3 named primitives, each to sit at 2-3 places."""
    names = draw(st.lists(DECISION_NAMES, min_size=1, max_size=3, unique=True))
    out = {}
    for name in names:
        kind = draw(st.sampled_from(sorted(NAMED)))
        out[name] = (kind, draw(NAMED[kind](name)), draw(st.integers(2, 3)))
    return out


@st.composite
def shared_decision_spaces(draw):
    """``(experiment, uses)``: an experiment whose named primitives each sit at 2-3 places (written the
    same: one decision), beside unnamed ones; ``uses`` maps each name to its number of places."""
    decisions = draw(named_decisions())
    slots = {kind: [] for kind in NAMED}  # per kind of place: the values to put there, in order
    for kind, primitive, count in decisions.values():
        slots[kind] += [primitive] * count
    for kind in slots:  # the named places interleaved with unnamed values
        slots[kind] = draw(st.permutations(slots[kind] + draw(st.lists(UNNAMED[kind], max_size=2))))

    def take(kind):
        value = slots[kind].pop(0) if slots[kind] else draw(UNNAMED[kind])
        return value.clone(deep=True) if isinstance(value, sym.Symbolic) else value  # each place its own copy

    layers = []
    while slots["units"] or slots["activation"] or len(slots["rate"]) > 2 or slots["layer"] or not layers:
        layers.append(Dense(units=take("units"), activation=take("activation")))
        if len(slots["rate"]) > 2:
            layers.append(Dropout(rate=take("rate")))
        if slots["layer"]:
            layers.append(take("layer"))
    sgd = SGD(learning_rate=take("rate"), momentum=take("rate"))
    optimizer = sgd
    names = [{p.name for _, p in find_primitives(value)} for value in (Sequential(layers), sgd)]
    if not names[0] & names[1] - {None}:  # a choice, when no name inside it is used outside it as well
        optimizer = draw(st.sampled_from([sgd, oneof([sgd, Adam(learning_rate=0.01)])]))
    return Experiment(model=Sequential(layers), training={"optimizer": optimizer}), uses_of(decisions)


def uses_of(decisions):
    """``{name: places}`` of :func:`named_decisions` (a decision inside a shared choice: None, it sits
    in the choice's first place only)."""
    uses = {name: count for name, (_, _, count) in decisions.items()}
    uses.update({f"{name}/units": None for name, (kind, _, _) in decisions.items() if kind == "layer"})
    return uses


def check_one_decision_per_name(value, uses):
    """The space of ``value`` has one decision per name, set at as many places as the name is used."""
    spec = dna_spec(value)
    points = spec.decision_points()
    for name, count in uses.items():
        (point,) = [p for p in points if p.name == name]
        assert count is None or len(point.shared_locations) == count - 1, (name, point.shared_locations)
    return spec


@SETTINGS
@given(shared_decision_spaces(), st.sampled_from(OPTIONS))
def test_named_primitives_shared_by_several_places_round_trip_as_one_decision(generated, options):
    """Primitives with the same ``name=`` (equal definitions, 2-3 places) print, parse back equal and
    print again the same, and the space read back has one decision per name at the same places."""
    value, uses = generated
    spec = check_one_decision_per_name(value, uses)
    text = round_trip(value, "exp", **options)
    back_spec = check_one_decision_per_name(parse(text, registry=fake_registry())["exp"], uses)
    assert str(back_spec) == str(spec), text
    assert back_spec.space_size == spec.space_size


@SETTINGS
@given(named_decisions(), st.sampled_from(OPTIONS))
def test_named_primitives_held_by_lets_and_used_at_several_places_are_one_decision_each(decisions, options):
    """``let d0 = floatv(..., name="lr")`` used at 2-3 places (and the same primitive written out at
    others): one decision per name, in the program as written, in ``Module.to_mlx``'s text and in that
    text printed again."""
    lets, places = [], []
    for i, (name, (kind, primitive, count)) in enumerate(decisions.items()):
        lets.append(to_mlx(primitive, name=f"d{i}"))
        places += [PLACES[kind].format(f"d{i}" if j % 2 == 0 else to_mlx(primitive)) for j in range(count)]
    source = "".join(lets) + f"experiment e = Experiment(model=Sequential([{', '.join(places)}]))\n"
    uses = uses_of(decisions)
    module = parse(source, registry=fake_registry())
    check_one_decision_per_name(module["e"], uses)
    text = module.to_mlx(**options)
    back = parse(text, registry=fake_registry())
    assert sym.eq(back["e"], module["e"]), text
    check_one_decision_per_name(back["e"], uses)
    assert back.to_mlx(**options) == text
