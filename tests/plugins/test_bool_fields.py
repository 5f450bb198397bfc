"""Every bool field of the installed components (and of the search primitives) takes true or false only: an
int (Python's bool is an int subclass, so 1 would pass an int-like check) or a string is refused with a
message naming the field and saying what it takes -- from Python, in .mlx and through ``--set``."""
import numpy as np
import pytest

import mldsl.symbolic as sym
import mldsl.symbolic.typing as pt
from mldsl.cli import main
from mldsl.dsl.api import parse
from mldsl.dsl.diagnostics import MlxError
from mldsl.errors import ValidationError
from mldsl.hyper import primitives
from mldsl.registry import get_registry

TAKES = "takes true or false"


def bool_paths(spec, path):
    """``path`` of every Bool reached from ``spec`` (through unions and dict fields)."""
    if isinstance(spec, pt.Bool):
        yield path
    for candidate in getattr(spec, "candidates", None) or ():
        yield from bool_paths(candidate, path)
    schema = getattr(spec, "schema", None) if isinstance(spec, pt.Dict) else None
    for field in (schema.fields.values() if schema is not None else ()):
        yield from bool_paths(field.value_spec, f"{path}.{field.key}")


def bool_fields():
    registry = get_registry()
    classes = [registry.resolve(name) for name in registry.names()]
    classes += [c for c in vars(primitives).values() if isinstance(c, type) and issubclass(c, sym.Object)]
    found = {}
    for cls in classes:
        for field in cls.__schema__.fields.values():
            for path in bool_paths(field.value_spec, field.key):
                found[f"{cls.__name__}.{path}"] = (cls, path)
    return found


FIELDS = bool_fields()


def test_the_schema_has_the_bool_fields_this_test_walks():
    assert {"Experiment.evaluation.per_class", "Dense.use_bias", "SGD.nesterov", "EarlyStopping.restore_best_weights",
            "ManyOf.distinct", "ManyOf.sorted"} <= set(FIELDS)


@pytest.mark.parametrize("name", sorted(FIELDS))
@pytest.mark.parametrize("value", [1, 0, "true", 1.0])
def test_every_bool_field_refuses_a_number_or_a_string(name, value):
    cls, path = FIELDS[name]
    top, _, rest = path.partition(".")
    spec = cls.__schema__.fields[top].value_spec
    with pytest.raises(ValidationError) as info:
        spec.apply({rest: value} if rest else value, path=sym.KeyPath.parse(top))
    assert TAKES in str(info.value) and f"path={path}" in str(info.value)
    assert spec.apply({rest: True} if rest else True) is not None


def test_numpy_bool_is_a_bool():
    value = pt.Bool().apply(np.bool_(True))
    assert value is True


def test_python_experiment_refuses_an_int_flag():
    from mldsl_std.datasets import Digits
    from mldsl_std.experiment import Experiment
    from mldsl_std.layers import Dense, Flatten
    from mldsl_std.models import Sequential

    with pytest.raises(ValidationError, match=rf"int: 1; this field {TAKES}.*path=evaluation.per_class"):
        Experiment(model=Sequential([Flatten(), Dense(10)]), data=Digits(), evaluation={"per_class": 1})
    with pytest.raises(ValidationError, match=rf"str: 'true'; this field {TAKES}.*path=use_bias"):
        Dense(10, use_bias="true")


def test_mlx_refuses_an_int_flag_at_its_position():
    text = ('experiment e = Experiment(model = Sequential([Dense(3, use_bias = 1)]), data = Digits(),\n'
            '    evaluation = { per_class = "yes" })\n')
    with pytest.raises(MlxError) as info:
        parse(text, filename="e.mlx")
    found = {(e.line, e.column): e.message for e in info.value.errors}
    assert len(found) == 2 and all(TAKES in m for m in found.values())
    assert (1, 67) in found and (2, 32) in found


def test_set_refuses_an_int_flag_without_a_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "e.mlx").write_text('experiment e = Experiment(model = Sequential([Flatten(), Dense(10)]), '
                                    'data = Digits(), training = { num_epochs = 0 })\n')
    assert main(["run", "e.mlx", "--no-store", "--set", "evaluation.per_class=1"]) == 2
    err = capsys.readouterr().err
    assert "evaluation.per_class" in err and TAKES in err and "Traceback" not in err
    assert not (tmp_path / "mldsl.db").exists()
