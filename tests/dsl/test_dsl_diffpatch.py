"""``diff --as-patch``: the printed patch turns A into B and applies to anything with those paths."""
from hypothesis import HealthCheck, given, settings

from mldsl import symbolic as sym
from mldsl.dsl.api import parse
from mldsl.dsl.diffpatch import diff_as_patch, diff_patch, patch_edits
from mldsl.dsl.printer import to_mlx
from mldsl.patching import patch

from dsl_helpers import Adam, Dense, Experiment, SGD, Sequential, fake_registry
from dsl_strategies import experiments


def test_outermost_changes_only():
    a = Experiment(model=Sequential([Dense(4), Dense(2)]), training={"optimizer": Adam()})
    b = Experiment(model=Sequential([Dense(8), Dense(2)]), training={"optimizer": SGD(momentum=0.9)})
    assert [(p, v) for p, v in patch_edits(a, b)] == [
        (("model", "layers", 0, "units"), 8), (("training", "optimizer"), SGD(momentum=0.9))]
    assert diff_as_patch(a, b, "upgrade") == (
        "patch upgrade {\n    model.layers[0].units = 8\n"
        "    training.optimizer = SGD(learning_rate=0.01, momentum=0.9)\n}\n")
    assert diff_patch(a, a, "same") == {}


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(experiments, experiments)
def test_printed_patch_turns_a_into_b(a, b):
    text = to_mlx(a, name="a") + diff_as_patch(a, b, "p") + "experiment b = a with p\n"
    module = parse(text, registry=fake_registry())
    assert sym.eq(module["b"], b)
    assert sym.eq(patch(a, [module["p"]]), b)
