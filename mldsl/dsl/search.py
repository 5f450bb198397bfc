"""The symbolic values of a ``search`` statement: ``Search``, its ``Objective`` and ``Invocation``
(a named call such as ``evolution(population_size=5)`` or ``median(after=2)``, kept symbolic so that a
search prints, compares and saves like any other value)."""
from __future__ import annotations

from typing import Any

from mldsl import symbolic as sym
from mldsl.dsl import docs

_t = sym.typing


@sym.members([
    ("metric", _t.Str(), "Metric to optimise (a key of the run's metrics, e.g. 'accuracy')."),
    ("goal", _t.Enum("maximize", ["maximize", "minimize"]), "Direction of optimisation."),
])
class Objective(sym.Object):
    """``maximize("accuracy")`` / ``minimize("loss")``."""

    type_name = "mldsl.Objective"

    @property
    def direction(self) -> str:
        return self.goal

    def to_mlx_doc(self):
        return docs.call(self.goal, [docs.quote_string(self.metric)])


@sym.members([
    ("name", _t.Str(), "Registered name of the algorithm or policy."),
    ("args", _t.List(_t.Any(), default=[]), "Positional arguments."),
    ("kwargs", _t.Dict(), "Keyword arguments."),
])
class Invocation(sym.Object):
    """A call to a named factory: ``evolution(population_size=5)``, ``median(after=2)``.

    ``name``/``args``/``kwargs`` are what ``mldsl.engine`` reads to build the algorithm or rule."""

    type_name = "mldsl.Invocation"

    def to_mlx_doc(self):
        from mldsl.dsl.printer import value_doc

        args = [value_doc(a) for a in self.args]
        args += [[k, "=", value_doc(v)] for k, v in self.kwargs.items()]
        return docs.call(self.name, args)

    def make(self, factory) -> Any:
        """``factory(*args, **kwargs)`` with plain Python values."""
        return factory(*[_plain(a) for a in self.args],
                       **{k: _plain(v) for k, v in self.kwargs.items()})


def _plain(value: Any) -> Any:
    if isinstance(value, sym.List):
        return [_plain(v) for v in value]
    if isinstance(value, sym.Dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@sym.members([
    ("name", _t.Str(), "Name of the search (the study name)."),
    ("space", _t.Any(), "The search space: an experiment holding hyper primitives."),
    ("algorithm", _t.Object(Invocation), "Search algorithm, e.g. evolution(population_size=5)."),
    ("trials", _t.Int(min_value=1), "Number of trials."),
    ("objective", _t.Object(Objective), "What to optimise."),
    ("early_stopping", _t.Object(Invocation).noneable(), "Early-stopping policy, e.g. median(after=2)."),
])
class Search(sym.Object):
    """``search NAME over SPACE { algorithm = ..., trials = ..., objective = maximize("metric") }``."""

    type_name = "mldsl.Search"

    @property
    def metric(self) -> str:
        return self.objective.metric

    @property
    def direction(self) -> str:
        return self.objective.goal

    def make_algorithm(self, registry=None):
        """The algorithm object (``registry.algorithm(name)(**kwargs)``)."""
        if registry is None:
            from mldsl.registry import get_registry

            registry = get_registry()
        return self.algorithm.make(registry.algorithm(self.algorithm.name))

    def to_mlx_doc(self):
        from mldsl.dsl.printer import statement_doc

        return statement_doc(self.name, self, "search")


def objective_of(call_name: str, metric: str) -> Objective:
    return Objective(metric=metric, goal=call_name)


OBJECTIVE_NAMES = ("maximize", "minimize")
DEFAULT_ALGORITHM = "random"
