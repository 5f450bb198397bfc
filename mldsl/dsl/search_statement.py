"""The value of a ``search`` statement: ``Search``, its ``Objective`` and ``Invocation`` (a named call
such as ``evolution(population_size=5)`` or ``median(after=2)``, kept symbolic so that a search prints,
compares and saves like any other value)."""
from __future__ import annotations

from typing import Any

from mldsl import symbolic as sym
from mldsl.dsl import shapes
from mldsl.dsl.printer import register_printer
from mldsl.dsl.spelling import quote_string
from mldsl.dsl.vocabulary import OBJECTIVES

_t = sym.typing


@sym.members([
    ("metric", _t.Str(), "Metric to optimise (a key of the run's metrics, e.g. 'accuracy')."),
    ("goal", _t.Enum(OBJECTIVES[0], list(OBJECTIVES)), "Direction of optimisation."),
])
class Objective(sym.Object):
    """``maximize("accuracy")`` / ``minimize("loss")``."""

    type_name = "mldsl.Objective"

    @property
    def direction(self) -> str:
        return self.goal


@sym.members([
    ("name", _t.Str(), "Registered name of the algorithm or policy."),
    ("args", _t.List(_t.Any(), default=[]), "Positional arguments."),
    ("kwargs", _t.Dict(), "Keyword arguments."),
])
class Invocation(sym.Object):
    """A call to a named factory: ``evolution(population_size=5)``, ``median(after=2)``.

    ``name``/``args``/``kwargs`` are what ``mldsl.engine`` reads to build the algorithm or rule."""

    type_name = "mldsl.Invocation"

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


#: The algorithm of a search block that names none.
DEFAULT_ALGORITHM = "random"


# ------------------------------------------------------------------------------------------ printing

def _objective_doc(printer, objective: Objective):
    return shapes.call(objective.goal, [quote_string(objective.metric)])


def _invocation_doc(printer, inv: Invocation):
    args = [printer.value(a) for a in inv.args]
    args += [[k, "=", printer.value(v)] for k, v in inv.kwargs.items()]
    return shapes.call(inv.name, args)


def _search_statement(printer, name: str, search: Search, space_name=None):
    """``search NAME over SPACE { ... }``; SPACE is ``space_name`` when given, else the space itself."""
    space = space_name if space_name is not None else printer.value(search.space)
    entries = [["algorithm = ", printer.value(search.algorithm)],
               ["trials = ", printer.value(search.trials)],
               ["objective = ", printer.value(search.objective)]]
    if search.early_stopping is not None:
        entries.append(["early_stopping = ", printer.value(search.early_stopping)])
    return ["search ", name, " over ", space, " ", shapes.block(entries)]


register_printer(Objective, expression=_objective_doc)
register_printer(Invocation, expression=_invocation_doc)
register_printer(Search, keyword="search", statement=_search_statement,
                 expression=lambda printer, search: _search_statement(printer, search.name, search))
