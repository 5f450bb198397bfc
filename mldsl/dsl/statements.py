"""Compiling the statements of a file: ``import``, ``let``/``experiment``, ``patch`` and ``search`` (a
search is checked whole: its space, algorithm, early-stopping rule and objective). A part of the
``Compiler`` (``mldsl.dsl.compiler``)."""
from __future__ import annotations

import os
from typing import Any, Dict, Optional, Tuple

from mldsl import symbolic as sym
from mldsl.dsl import ir
from mldsl.dsl.binding import Parameters
from mldsl.dsl.context import (ERROR, PLUGINS_HINT, StatementContext, article, describe_value,
                               display_path, is_error, path_text, type_name, where)
from mldsl.dsl.imports import ImportRefused, unreadable_message
from mldsl.dsl.module import Definition, Patch, Provenance
from mldsl.components import logged_metrics, max_epochs
from mldsl.dsl.search_statement import DEFAULT_ALGORITHM, Invocation, Objective, Search
from mldsl.dsl.vocabulary import OBJECTIVES, REQUIRED_SEARCH_SETTINGS, SEARCH_SETTINGS
from mldsl.errors import MldslError, suggestion_text
from mldsl.textfile import TextFileError

_EXAMPLES = {"algorithm": "evolution(population_size=5)", "early-stopping rule": "median(after=2)"}


class StatementCompiler:
    """The statement part of the compiler (mixed into ``Compiler``, whose ``expr``, ``error``,
    ``scope``, ``module``, ``session`` and ``broken`` it uses)."""

    def run(self):
        """Compiles every statement of the file; returns the ``Module``."""
        for st in self.program.statements:
            if isinstance(st, ir.Import):
                self.do_import(st)
            elif isinstance(st, (ir.Let, ir.ExperimentDef)):
                self.define_value(st)
            elif isinstance(st, ir.PatchDef):
                self.define_patch(st)
            elif isinstance(st, ir.SearchDef):
                self.define_search(st)
        return self.module

    def declare(self, st, kind: str, value: Any, prov: Provenance, **extra) -> None:
        """Adds the definition of ``st`` to the file's scope (E004 when the name is taken)."""
        if is_error(value):
            self.broken.add(st.name)
            return
        if st.name in self.scope or st.name in self.broken:
            prev = self.scope.get(st.name)
            notes = [f"first defined at {where(prev.name_span)}"] if prev else []
            self.error(f"'{st.name}' is already defined", st.name_span, "E004", notes=notes)
            return
        d = Definition(st.name, kind, value, st.span, st.name_span, prov, node=st,
                       source_lines=self.lines, **extra)
        self.scope[st.name] = d
        self.module.definitions[st.name] = d
        self.module.own.append(st.name)

    def do_import(self, st: ir.Import) -> None:
        """``import "file.mlx"``: compiles that file (once per session) and adds its definitions."""
        names = [display_path(p) for p in self.chain]
        try:
            target, key = self.session.imports.resolve(st.path, self.filename, len(self.chain))
        except ImportRefused as exc:
            notes = []
            if len(names) > 1:
                shown = os.path.normpath(os.path.join(os.path.dirname(self.chain[-1]), st.path))
                notes.append("import chain: " + " -> ".join(names + [display_path(shown)]))
            self.error(exc.message, st.path_span, exc.code, notes=notes)
            return
        if key in self.chain:
            cycle = names[self.chain.index(key):] + [display_path(key)]
            self.error("import cycle: " + " -> ".join(cycle), st.path_span, "E011")
            return
        try:
            module = self.session.load_file(target, self.chain or (os.path.realpath(self.filename),))
        except TextFileError as exc:
            self.error(unreadable_message(st.path, target, exc), st.path_span, "E012")
            return
        self.module.imports.append(target)
        for name, d in module.definitions.items():
            if name in self.scope and self.scope[name] is not d:
                prev = self.scope[name]
                self.error(f"'{name}' from '{st.path}' is already defined",
                           st.path_span, "E004",
                           notes=[f"first defined at {where(prev.name_span)}"])
                continue
            if name not in self.scope:
                self.scope[name] = d
                self.module.definitions[name] = d

    def define_value(self, st) -> None:
        kind = st.keyword
        ctx = StatementContext(f"{kind} '{st.name}'")
        value = self.expr(st.value, (), ctx)
        if not is_error(value):
            value = sym.as_symbolic(value)
            if kind == "experiment" and not isinstance(value, sym.Object):
                value = self.error(f"experiment '{st.name}' must be a component call such as "
                                   f"Experiment(...) or a derived experiment, not "
                                   f"{describe_value(value)}", st.value.span, "E006")
            elif kind == "experiment" and getattr(type(value), "kind", "experiment") != "experiment":
                value = self.error(f"experiment '{st.name}' must be an experiment component, not "
                                   f"{article(type(value).kind)} ({type_name(value)})", st.value.span,
                                   "E006")
            else:
                value = self.check_shared_decisions(value, st, ctx)
        self.declare(st, kind, value, ctx.prov)

    def check_shared_decisions(self, value: Any, st, ctx: StatementContext) -> Any:
        """E040 at the second of two primitives that share a ``name`` but not their definition (they
        would have to be one decision); ``value`` itself otherwise."""
        from mldsl.hyper import find_primitives
        from mldsl.hyper.space import SharedDecisionError, dna_spec

        if not find_primitives(value):
            return value
        try:
            dna_spec(value)
        except SharedDecisionError as exc:
            first, second = (sym.KeyPath.parse(p).keys for p in exc.paths)
            notes = [f"the other is at {where(self._span_at(first, ctx, st))}"]
            return self.error(str(exc), self._span_at(second, ctx, st), "E040", notes=notes)
        except MldslError:
            pass  # any other problem of the space is reported where it is searched
        return value

    @staticmethod
    def _span_at(path: Tuple, ctx: StatementContext, st):
        """The span of the value at ``path`` of a statement (or of the nearest enclosing value)."""
        for n in range(len(path), -1, -1):
            if tuple(path[:n]) in ctx.spans:
                return ctx.spans[tuple(path[:n])]
        return st.value.span

    def define_patch(self, st: ir.PatchDef) -> None:
        ctx = StatementContext(f"patch '{st.name}'")
        edits = Patch(name=st.name)
        entries = []
        failed = False
        for entry in st.body.entries:
            keys = self.patch_path(entry)
            if keys is None:
                failed = True
                continue
            text = path_text(keys)
            if text in edits:
                self.error(f"path '{text}' is set twice in patch '{st.name}'", entry.key.span, "E025")
                failed = True
                continue
            sub = StatementContext(ctx.how)
            value = self.expr(entry.value, keys, sub)
            if is_error(value):
                failed = True
                continue
            edits[text] = value
            entries.append((keys, value, entry, sub.prov))
        self.declare(st, "patch", ERROR if failed else edits, ctx.prov, patch_entries=entries)

    # -- search ------------------------------------------------------------------------------------
    def define_search(self, st: ir.SearchDef) -> None:
        ctx = StatementContext(f"search '{st.name}'")
        space = self.expr(st.space, ("space",), ctx)
        if not is_error(space) and not isinstance(space, sym.Object):
            space = self.error(f"a search runs over an experiment, not {describe_value(space)}",
                               st.space.span, "E006")
        settings: Dict[str, Any] = {}
        nodes: Dict[str, Any] = {}
        failed = is_error(space)
        for entry in st.body.entries:
            key = path_text(entry.key.segments) if isinstance(entry.key, ir.PathKey) else entry.key.value
            if key not in SEARCH_SETTINGS:
                self.error(f"unknown search setting '{key}'", entry.key.span, "E040",
                           suggestion=suggestion_text(key, SEARCH_SETTINGS),
                           notes=["settings are: " + ", ".join(SEARCH_SETTINGS)])
                failed = True
                continue
            if key in settings:
                self.error(f"search setting '{key}' is given twice", entry.key.span, "E040")
                failed = True
                continue
            value = getattr(self, "setting_" + key)(entry.value, ctx)
            settings[key] = value
            nodes[key] = entry.value
            failed = failed or is_error(value)
        for key in REQUIRED_SEARCH_SETTINGS:
            if key not in settings:
                self.error(f"search '{st.name}' needs '{key}'", st.body.span.last_char(), "E040",
                           notes=['e.g. trials = 20, objective = maximize("accuracy")'])
                failed = True
        settings.setdefault("algorithm", Invocation(name=DEFAULT_ALGORITHM))
        if not is_error(space) and not self.check_search(space, settings, nodes, st):
            failed = True
        value: Any = ERROR
        if not failed:
            try:
                value = Search(name=st.name, space=space, algorithm=settings["algorithm"],
                               trials=settings["trials"], objective=settings["objective"],
                               early_stopping=settings.get("early_stopping"))
            except MldslError as exc:
                value = self.error(str(exc), st.span, "E040")
        self.declare(st, "search", value, ctx.prov)

    def check_search(self, space, settings: Dict[str, Any], nodes: Dict[str, Any], st: ir.SearchDef) -> bool:
        """What would otherwise fail only once trials run, each checked when its parts compiled: a
        space that is not one, an algorithm that cannot sweep it, an objective naming a metric the
        experiment does not log. Reports each; returns whether all is well."""
        from mldsl.hyper import dna_spec

        try:
            spec = dna_spec(space)
        except MldslError as exc:
            self.error(f"not a search space: {exc}", st.space.span, "E040")
            return False
        ok = True
        algorithm = settings["algorithm"]
        factory = self.session.registry.algorithms().get(getattr(algorithm, "name", None))
        if factory is not None:
            try:
                algorithm.make(factory).setup(spec)
            except (MldslError, TypeError, ValueError) as exc:
                node = nodes.get("algorithm")
                self.error(f"algorithm {algorithm.name} cannot search this space: {exc}",
                           node.span if node is not None else st.space.span, "E040")
                ok = False
        objective = settings.get("objective")
        logged = logged_metrics(space) if isinstance(objective, Objective) else None
        if logged is not None and objective.metric not in logged:
            self.error(f"the experiment does not log a metric '{objective.metric}'",
                       nodes["objective"].args[0].value.span, "E041",
                       suggestion=suggestion_text(objective.metric, logged),
                       notes=[f"it logs: {', '.join(logged)} (an objective names one of them)"])
            ok = False
        rule_problem = self._early_stopping_problem(space, settings.get("early_stopping"))
        if rule_problem:
            node = nodes.get("early_stopping")
            self.error(f"early_stopping: {rule_problem}", node.span if node is not None else st.space.span, "E040")
            ok = False
        return ok

    @staticmethod
    def _early_stopping_problem(space, invocation) -> Optional[str]:
        """Why the search's early-stopping rule could never act on the trials' epochs, or None."""
        from mldsl.hyper.early_stopping import resolve_rule

        epochs = max_epochs(space)
        if invocation is None or epochs is None:
            return None
        try:
            return resolve_rule(invocation).problem(epochs)
        except MldslError:
            return None  # a rule that cannot be built is reported where it is written

    def _invocation(self, node, ctx, what: str, known: Dict[str, Any], hint: Optional[str] = None):
        """A call to a named factory (algorithm / early-stopping rule) -> Invocation."""
        if isinstance(node, ir.Ref) and node.name not in self.scope:
            node = ir.Call(node.name, node.span, [], node.span)
        if not isinstance(node, ir.Call):
            return self.error(f"{what} must be a call such as {_EXAMPLES[what]}", node.span, "E040")
        name = node.callee
        if name not in known:
            return self.error(f"unknown {what} '{name}'", node.callee_span, "E041",
                              suggestion=suggestion_text(name, known),
                              notes=[f"{what}s: {', '.join(sorted(known)) or 'none installed'}"
                                     + (f" ({hint})" if hint else "")])
        factory = known[name]
        compiled = self.compile_arguments(node, Parameters.of_function(name, factory), ("search",),
                                          StatementContext(ctx.how))
        if compiled is None:
            return ERROR
        inv = Invocation(name=name, args=list(compiled.args), kwargs=dict(compiled.kwargs))
        try:
            inv.make(factory)
        except (MldslError, TypeError, ValueError) as exc:
            return self.value_error(exc, node, ("search",), ctx)
        return inv

    def setting_algorithm(self, node, ctx):
        return self._invocation(node, ctx, "algorithm", dict(self.session.registry.algorithms()),
                                PLUGINS_HINT)

    def setting_early_stopping(self, node, ctx):
        from mldsl.hyper.early_stopping import RULES

        if isinstance(node, ir.Literal) and node.value is None:
            return None
        return self._invocation(node, ctx, "early-stopping rule", dict(RULES))

    def setting_trials(self, node, ctx):
        value = self.expr(node, ("trials",), ctx)
        if is_error(value):
            return value
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            return self.error(f"trials must be an integer >= 1, not {describe_value(value)}",
                              node.span, "E040")
        return value

    def setting_objective(self, node, ctx) -> Optional[Objective]:
        if not (isinstance(node, ir.Call) and node.callee in OBJECTIVES):
            if isinstance(node, ir.Call):
                return self.error(f"unknown objective '{node.callee}'", node.callee_span, "E041",
                                  suggestion=suggestion_text(node.callee, OBJECTIVES),
                                  notes=['write maximize("metric") or minimize("metric")'])
            return self.error('objective must be maximize("metric") or minimize("metric")',
                              node.span, "E040")
        if len(node.args) != 1 or node.args[0].name not in (None, "metric") \
                or not isinstance(node.args[0].value, ir.Literal) \
                or not isinstance(node.args[0].value.value, str):
            return self.error(f'{node.callee} takes one metric name, e.g. {node.callee}("accuracy")',
                              node.span, "E040")
        return Objective(metric=node.args[0].value.value, goal=node.callee)
