"""IR -> symbolic objects: name resolution, component calls checked against their schema, hyper
primitives and provenance. The statements (``mldsl.dsl.statements``) and ``with`` patches
(``mldsl.dsl.patches``) are parts of the same ``Compiler``; arguments bind through
``mldsl.dsl.binding``.

Errors never stop the compilation of the other statements: each is recorded as an ``MlxError`` and
the failed value becomes ``ERROR``, which silences follow-up errors that depend on it.

A call names a component registered by a plugin, or else a symbolic class that this process defined
(the symbolic type table: ``mldsl.to_mlx`` of an object of a class in a user's script prints
``module.Class(...)``); nothing is ever imported.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from mldsl import symbolic as sym
from mldsl.dsl import ir
from mldsl.dsl.binding import Parameters, bind
from mldsl.dsl.context import (ERROR, PLUGINS_HINT, StatementContext, _Error, clone, is_error,
                               path_in_message)
from mldsl.dsl.diagnostics import MlxError
from mldsl.dsl.imports import ImportPolicy
from mldsl.dsl.module import Definition, Module, Origin
from mldsl.dsl.parser import make_error, parse_program, split_lines
from mldsl.dsl.patches import PatchCompiler
from mldsl.dsl.statements import StatementCompiler
from mldsl.dsl.vocabulary import HYPER_PRIMITIVES, OBJECTIVES
from mldsl.errors import MldslError, suggestion_text
from mldsl.symbolic.type_table import find_type
from mldsl.textfile import read_text


class Session:
    """One ``load``/``parse``: the registry, the import cache and every error found (all files)."""

    def __init__(self, registry=None, imports: Optional[ImportPolicy] = None) -> None:
        self._registry = registry
        self.imports = imports or ImportPolicy.for_source("<string>")
        self.modules: Dict[str, Module] = {}
        self.errors: List[MlxError] = []
        self._seen = set()

    @property
    def registry(self):
        if self._registry is None:
            from mldsl.registry import get_registry

            self._registry = get_registry()
        return self._registry

    def report(self, err: MlxError) -> None:
        key = (err.filename, err.line, err.column, err.code, err.message)
        if key not in self._seen:
            self._seen.add(key)
            self.errors.append(err)

    def compile_text(self, text: str, filename: str, chain: Tuple[str, ...] = ()) -> Module:
        program = parse_program(text, filename)
        for err in program.errors:
            self.report(err)
        return Compiler(self, program, chain).run()

    def load_file(self, path: str, chain: Tuple[str, ...] = ()) -> Module:
        key = os.path.realpath(path)
        if key in self.modules:
            return self.modules[key]
        text = read_text(key)
        module = self.compile_text(text, path, chain + (key,))
        self.modules[key] = module
        return module


@dataclass
class Arguments:
    """The compiled arguments of a call: ``by_name`` (each bound to its parameter), ``args``/``kwargs``
    (as written) and ``spans`` (parameter name -> span of its value)."""

    by_name: Dict[str, Any] = field(default_factory=dict)
    args: List[Any] = field(default_factory=list)
    kwargs: Dict[str, Any] = field(default_factory=dict)
    spans: Dict[str, ir.Span] = field(default_factory=dict)


class Compiler(StatementCompiler, PatchCompiler):
    """Compiles one parsed file into a ``Module``."""

    def __init__(self, session: Session, program: ir.Program, chain: Tuple[str, ...]) -> None:
        self.session = session
        self.program = program
        self.filename = program.filename
        self.lines = split_lines(program.source)
        self.chain = chain
        self.module = Module(program.filename, program.source)
        self.scope: Dict[str, Definition] = {}
        self.broken = set(program.broken_names)

    # -- errors ----------------------------------------------------------------------------------
    def error(self, message: str, span: ir.Span, code: str, suggestion: Optional[str] = None,
              notes=()) -> _Error:
        """Reports an error at ``span``; returns ``ERROR`` (the value of what failed)."""
        lines = self.lines if span.file == self.filename else self._lines_of(span.file)
        self.session.report(make_error(message, span, code, lines, suggestion=suggestion,
                                       notes=notes))
        return ERROR

    def _lines_of(self, filename: str) -> List[str]:
        for m in self.session.modules.values():
            if m.filename == filename:
                return split_lines(m.source)
        return []

    def source_text(self, span: ir.Span, limit: int = 60) -> str:
        """The source text of a one-line span (for provenance), or "" when long or multi-line."""
        if span.line != span.end_line or not (1 <= span.line <= len(self.lines)):
            return ""
        text = self.lines[span.line - 1][span.column - 1:span.end_column - 1]
        return text if len(text) <= limit else ""

    # -- expressions -----------------------------------------------------------------------------
    def expr(self, node, path: Tuple, ctx: StatementContext) -> Any:
        ctx.spans[path] = node.span
        if isinstance(node, ir.Literal):
            ctx.prov.add(path, Origin.at(node.span, ctx.how, node.text))
            return node.value
        if isinstance(node, ir.Ref):
            return self.ref(node, path, ctx)
        if isinstance(node, ir.Call):
            value = self.call(node, path, ctx)
        elif isinstance(node, ir.ListExpr):
            items = [self.expr(item, path + (i,), ctx) for i, item in enumerate(node.items)]
            value = ERROR if any(is_error(v) for v in items) else items
        elif isinstance(node, ir.DictExpr):
            value = self.dict_value(node, path, ctx)
        elif isinstance(node, ir.WithExpr):
            return self.with_expr(node, path, ctx)
        else:  # pragma: no cover - the parser produces nothing else
            raise TypeError(node)
        if not is_error(value):
            ctx.prov.add(path, Origin.at(node.span, ctx.how, self.source_text(node.span)))
        return value

    def ref(self, node: ir.Ref, path: Tuple, ctx: StatementContext) -> Any:
        name = node.name
        if name in self.broken and name not in self.scope:
            return ERROR
        d = self.scope.get(name)
        if d is None:
            suggestion = suggestion_text(name, list(self.scope))
            if name in self.session.registry.names():
                suggestion = f"'{name}' is a component: did you mean '{name}()'?"
            if name in HYPER_PRIMITIVES:
                suggestion = f"did you mean '{name}(...)'?"
            return self.error(f"undefined name '{name}'", node.span, "E005", suggestion=suggestion)
        if d.kind in ("patch", "search"):
            hint = "use it with `with`: `base with " + name + "`" if d.kind == "patch" else None
            return self.error(f"'{name}' is a {d.kind}, not a value", node.span, "E006",
                              suggestion=hint)
        ctx.prov.graft(path, d.provenance,
                       Origin.at(node.span, f"{ctx.how} uses {d.kind} '{name}'"))
        return clone(d.value)

    def dict_value(self, node: ir.DictExpr, path: Tuple, ctx: StatementContext) -> Any:
        out: Dict[str, Any] = {}
        failed = False
        for entry in node.entries:
            if isinstance(entry.key, ir.PathKey):
                if not entry.key.is_simple:
                    self.error(f"'{sym.KeyPath(entry.key.segments)}' is a path; a key in a dict value "
                               f"is a single name", entry.key.span, "E025",
                               suggestion="paths are set in a patch or a `with { ... }` block")
                    failed = True
                    continue
                key = entry.key.segments[0]
            else:
                key = entry.key.value
            if key in out:
                self.error(f"duplicate key '{key}' in dict", entry.key.span, "E025")
                failed = True
                continue
            value = self.expr(entry.value, path + (key,), ctx)
            if is_error(value):
                failed = True
            out[key] = value
        return ERROR if failed else out

    # -- calls -----------------------------------------------------------------------------------
    def compile_arguments(self, node: ir.Call, params: Parameters, path: Tuple,
                          ctx: StatementContext) -> Optional[Arguments]:
        """Binds ``node``'s arguments to ``params`` and compiles the values that bound (at ``path`` +
        the parameter's name); None after reporting the errors."""
        bound, ok = bind(node, params, self.error)
        names = {id(arg): key for key, arg in bound.by_name.items()}
        extra = {id(arg): i for i, arg in enumerate(bound.extra)}
        out = Arguments()
        for arg in node.args:
            if id(arg) in names:
                key = names[id(arg)]
                value = self.expr(arg.value, path + (key,), ctx)
                out.by_name[key] = value
                out.spans[key] = arg.value.span
            elif id(arg) in extra:
                value = self.expr(arg.value, path + (len(params.names) + extra[id(arg)],), ctx)
            else:
                continue
            if arg.name is None:
                out.args.append(value)
            else:
                out.kwargs[arg.name] = value
            ok = ok and not is_error(value)
        return out if ok else None

    def call(self, node: ir.Call, path: Tuple, ctx: StatementContext) -> Any:
        name = node.callee
        if name in HYPER_PRIMITIVES:
            return self.hyper_call(node, path, ctx)
        if name in OBJECTIVES:
            return self.error(f"{name}(...) is only valid as the objective of a search",
                              node.callee_span, "E006")
        cls = self.component_class(node)
        if cls is None:
            return ERROR
        schema = cls.__schema__
        params = Parameters.of_schema(name, schema)
        bound, ok = bind(node, params, self.error)
        values = {key: self.expr(arg.value, path + (key,), ctx) for key, arg in bound.by_name.items()}
        if not ok or any(is_error(v) for v in values.values()):
            self.check_fields(schema, values, node, path, ctx)  # the arguments that did compile
            return ERROR
        try:
            return cls(**values)
        except (MldslError, TypeError, ValueError) as exc:
            if not self.check_fields(schema, values, node, path, ctx):
                return ERROR
            return self.value_error(exc, node, path, ctx)

    def check_fields(self, schema, values: Dict[str, Any], node: ir.Call, path: Tuple,
                     ctx: StatementContext) -> bool:
        """Checks each compiled argument against its field alone, so that every bad one is reported
        (not only the first); returns whether all passed."""
        ok = True
        for key, v in values.items():
            if is_error(v):
                continue
            try:
                schema.fields[key].value_spec.apply(clone(v), sym.KeyPath(key))
            except (MldslError, TypeError, ValueError) as exc:
                self.value_error(exc, node, path, ctx)
                ok = False
        return ok

    def component_class(self, node: ir.Call) -> Optional[type]:
        """The class a call names: a registered component, else a symbolic class this process
        defined (never an import); None after reporting E020/E006."""
        name = node.callee
        registry = self.session.registry
        try:
            return registry.resolve(name)
        except MldslError:
            pass
        cls = find_type(name)
        if isinstance(cls, type) and issubclass(cls, sym.Object) and name not in HYPER_PRIMITIVES:
            return cls
        if name in self.scope:
            self.error(f"'{name}' is a {self.scope[name].kind}, not a component", node.callee_span, "E006",
                       suggestion=f"write '{name}' without parentheses")
            return None
        candidates = list(registry.names())
        if name[:1].islower():
            candidates += list(HYPER_PRIMITIVES)
        notes = [PLUGINS_HINT]
        if "." in name:
            notes.append("a class defined in a Python script is known only while that script runs")
        self.error(f"unknown component '{name}'", node.callee_span, "E020",
                   suggestion=suggestion_text(name, candidates), notes=notes)
        return None

    def hyper_call(self, node: ir.Call, path: Tuple, ctx: StatementContext) -> Any:
        from mldsl import hyper

        fn = getattr(hyper, node.callee)
        compiled = self.compile_arguments(node, Parameters.of_function(node.callee, fn), path, ctx)
        if compiled is None:
            return ERROR
        try:
            return fn(**compiled.by_name)
        except (MldslError, TypeError, ValueError) as exc:
            return self.value_error(exc, node, path, ctx)

    def value_error(self, exc: Exception, node, path: Tuple, ctx: StatementContext) -> _Error:
        """E024 at the value the error's ``(path=...)`` points to (else at the call); an error that reports
        several bad entries (``exc.errors``, e.g. of a ``training = {...}`` dict) is one E024 per entry."""
        for each in getattr(exc, "errors", None) or [exc]:
            error = self._value_error(each, node, path, ctx)
        return error

    def _value_error(self, exc: Exception, node, path: Tuple, ctx: StatementContext) -> _Error:
        message = str(exc)
        span = node.span
        rel = path_in_message(message)
        if rel is not None:
            full = path + rel
            for n in range(len(full), len(path) - 1, -1):
                if full[:n] in ctx.spans:
                    span = ctx.spans[full[:n]]
                    break
        if not isinstance(exc, MldslError):
            message = f"cannot create {getattr(node, 'callee', 'value')}: {message}"
        return self.error(message, span, "E024")
