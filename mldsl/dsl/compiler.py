"""IR -> symbolic objects: name resolution, imports, component calls checked against their schema,
hyper primitives, ``with`` patches, searches, and provenance.

Errors never stop the compilation of the other statements: each is recorded as an ``MlxError`` and
the failed value becomes ``ERROR``, which silences follow-up errors that depend on it.
"""
from __future__ import annotations

import inspect
import os
import re
from typing import Any, Dict, List, Optional, Tuple

from mldsl import symbolic as sym
from mldsl.dsl import ir
from mldsl.dsl.diagnostics import MlxError
from mldsl.dsl.imports import ImportPolicy, ImportRefused, unreadable_message
from mldsl.dsl.module import Definition, Module, Origin, Patch, Provenance, child_values, parse_path
from mldsl.dsl.parser import make_error, parse_program, split_lines
from mldsl.dsl.printer import HYPER_NAMES
from mldsl.dsl.search import (DEFAULT_ALGORITHM, OBJECTIVE_NAMES, Invocation, Objective, Search)
from mldsl.errors import MldslError, suggestion_text
from mldsl.textfile import TextFileError, read_text

PLUGINS_HINT = "run `mldsl plugins` to list what is installed"
_PATH_IN_MESSAGE = re.compile(r"\(path=([^()]*)\)\s*$")


class _Error:
    """The value of an expression that failed (its error is already reported)."""

    def __repr__(self) -> str:
        return "ERROR"


ERROR = _Error()


def _is_error(v: Any) -> bool:
    return v is ERROR


class _StmtCtx:
    """Per-statement state: what is being defined (for provenance) and where each path came from."""

    def __init__(self, how: str, prov: Optional[Provenance] = None) -> None:
        self.how = how
        self.prov = prov if prov is not None else Provenance()
        self.spans: Dict[Tuple, ir.Span] = {}


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


def _source_text(lines: List[str], span: ir.Span, limit: int = 60) -> str:
    if span.line != span.end_line or not (1 <= span.line <= len(lines)):
        return ""
    text = lines[span.line - 1][span.column - 1:span.end_column - 1]
    return text if len(text) <= limit else ""


class Compiler:
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
        lines = self.lines if span.file == self.filename else _lines_of(self.session, span.file)
        self.session.report(make_error(message, span, code, lines, suggestion=suggestion,
                                       notes=notes))
        return ERROR

    # -- statements ------------------------------------------------------------------------------
    def run(self) -> Module:
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

    def _declare(self, st, kind: str, value: Any, prov: Provenance, **extra) -> None:
        if _is_error(value):
            self.broken.add(st.name)
            return
        if st.name in self.scope or st.name in self.broken:
            prev = self.scope.get(st.name)
            notes = [f"first defined at {_where(prev.name_span)}"] if prev else []
            self.error(f"'{st.name}' is already defined", st.name_span, "E004", notes=notes)
            return
        d = Definition(st.name, kind, value, st.span, st.name_span, prov, node=st,
                       source_lines=self.lines, **extra)
        self.scope[st.name] = d
        self.module.definitions[st.name] = d
        self.module.own.append(st.name)

    def do_import(self, st: ir.Import) -> None:
        names = [_display(p) for p in self.chain]
        try:
            target, key = self.session.imports.resolve(st.path, self.filename, len(self.chain))
        except ImportRefused as exc:
            notes = []
            if len(names) > 1:
                shown = os.path.normpath(os.path.join(os.path.dirname(self.chain[-1]), st.path))
                notes.append("import chain: " + " -> ".join(names + [_display(shown)]))
            self.error(exc.message, st.path_span, exc.code, notes=notes)
            return
        if key in self.chain:
            cycle = names[self.chain.index(key):] + [_display(key)]
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
                           notes=[f"first defined at {_where(prev.name_span)}"])
                continue
            if name not in self.scope:
                self.scope[name] = d
                self.module.definitions[name] = d

    def define_value(self, st) -> None:
        kind = st.keyword
        ctx = _StmtCtx(f"{kind} '{st.name}'")
        value = self.expr(st.value, (), ctx)
        if not _is_error(value):
            value = sym.as_symbolic(value)
            if kind == "experiment" and not isinstance(value, sym.Object):
                value = self.error(f"experiment '{st.name}' must be a component call such as "
                                   f"Experiment(...) or a derived experiment, not "
                                   f"{_describe_value(value)}", st.value.span, "E006")
            elif kind == "experiment" and getattr(type(value), "kind", "experiment") != "experiment":
                value = self.error(f"experiment '{st.name}' must be an experiment component, not "
                                   f"{_a(type(value).kind)} ({_type_name(value)})", st.value.span,
                                   "E006")
        self._declare(st, kind, value, ctx.prov)

    def define_patch(self, st: ir.PatchDef) -> None:
        ctx = _StmtCtx(f"patch '{st.name}'")
        edits = Patch(name=st.name)
        entries = []
        failed = False
        for entry in st.body.entries:
            keys = self._patch_key(entry)
            if keys is None:
                failed = True
                continue
            text = ir.format_path(keys)
            if text in edits:
                self.error(f"path '{text}' is set twice in patch '{st.name}'", entry.key.span, "E025")
                failed = True
                continue
            sub = _StmtCtx(ctx.how)
            value = self.expr(entry.value, keys, sub)
            if _is_error(value):
                failed = True
                continue
            edits[text] = value
            entries.append((keys, value, entry, sub.prov))
        self._declare(st, "patch", ERROR if failed else edits, ctx.prov, patch_entries=entries)

    def _patch_key(self, entry: ir.Entry) -> Optional[Tuple]:
        if isinstance(entry.key, ir.PathKey):
            return entry.key.segments
        keys = parse_path(entry.key.value)
        if not keys:
            self.error(f"'{entry.key.value}' is not a path", entry.key.span, "E030")
            return None
        return keys

    def define_search(self, st: ir.SearchDef) -> None:
        ctx = _StmtCtx(f"search '{st.name}'")
        space = self.expr(st.space, ("space",), ctx)
        if not _is_error(space) and not isinstance(space, sym.Object):
            space = self.error(f"a search runs over an experiment, not {_describe_value(space)}",
                               st.space.span, "E006")
        settings: Dict[str, Any] = {}
        failed = _is_error(space)
        allowed = ("algorithm", "trials", "objective", "early_stopping")
        for entry in st.body.entries:
            key = entry.key.text if isinstance(entry.key, ir.PathKey) else entry.key.value
            if key not in allowed:
                self.error(f"unknown search setting '{key}'", entry.key.span, "E040",
                           suggestion=suggestion_text(key, allowed),
                           notes=["settings are: " + ", ".join(allowed)])
                failed = True
                continue
            if key in settings:
                self.error(f"search setting '{key}' is given twice", entry.key.span, "E040")
                failed = True
                continue
            value = getattr(self, "setting_" + key)(entry.value, ctx)
            settings[key] = value
            failed = failed or _is_error(value)
        for key in ("trials", "objective"):
            if key not in settings:
                self.error(f"search '{st.name}' needs '{key}'", st.body.span.last_char(), "E040",
                           notes=['e.g. trials = 20, objective = maximize("accuracy")'])
                failed = True
        value: Any = ERROR
        if not failed:
            algorithm = settings.get("algorithm") or Invocation(name=DEFAULT_ALGORITHM)
            try:
                value = Search(name=st.name, space=space, algorithm=algorithm,
                               trials=settings["trials"], objective=settings["objective"],
                               early_stopping=settings.get("early_stopping"))
            except MldslError as exc:
                value = self.error(str(exc), st.span, "E040")
        self._declare(st, "search", value, ctx.prov)

    # -- search settings -------------------------------------------------------------------------
    def _invocation(self, node, ctx, what: str, known: Dict[str, Any], code_unknown: str = "E041"):
        """A call to a named factory (algorithm / early-stopping policy) -> Invocation."""
        if isinstance(node, ir.Ref) and node.name not in self.scope:
            node = ir.Call(node.name, node.span, [], node.span)
        if not isinstance(node, ir.Call):
            return self.error(f"{what} must be a call such as {_example(what)}", node.span, "E040")
        name = node.callee
        if name not in known:
            return self.error(f"unknown {what} '{name}'", node.callee_span, code_unknown,
                              suggestion=suggestion_text(name, known),
                              notes=[f"{what}s: {', '.join(sorted(known)) or 'none installed'} "
                                     f"({PLUGINS_HINT})"])
        factory = known[name]
        args, kwargs = self._bind_signature(node, factory, ctx, ("search",))
        if args is None:
            return ERROR
        inv = Invocation(name=name, args=list(args), kwargs=dict(kwargs))
        if factory is not None:
            try:
                inv.make(factory)
            except (MldslError, TypeError, ValueError) as exc:
                return self._value_error(exc, node, ("search",), ctx)
        return inv

    def setting_algorithm(self, node, ctx):
        known = dict(self.session.registry.algorithms())
        return self._invocation(node, ctx, "algorithm", known)

    def setting_early_stopping(self, node, ctx):
        if isinstance(node, ir.Literal) and node.value is None:
            return None
        if isinstance(node, ir.Call):
            return self._invocation(node, ctx, "early-stopping policy", {node.callee: None})
        return self._invocation(node, ctx, "early-stopping policy", {})

    def setting_trials(self, node, ctx):
        value = self.expr(node, ("trials",), ctx)
        if _is_error(value):
            return value
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            return self.error(f"trials must be an integer >= 1, not {_describe_value(value)}",
                              node.span, "E040")
        return value

    def setting_objective(self, node, ctx):
        if not (isinstance(node, ir.Call) and node.callee in OBJECTIVE_NAMES):
            if isinstance(node, ir.Call):
                return self.error(f"unknown objective '{node.callee}'", node.callee_span, "E041",
                                  suggestion=suggestion_text(node.callee, OBJECTIVE_NAMES),
                                  notes=['write maximize("metric") or minimize("metric")'])
            return self.error('objective must be maximize("metric") or minimize("metric")',
                              node.span, "E040")
        if len(node.args) != 1 or node.args[0].name not in (None, "metric") \
                or not isinstance(node.args[0].value, ir.Literal) \
                or not isinstance(node.args[0].value.value, str):
            return self.error(f'{node.callee} takes one metric name, e.g. {node.callee}("accuracy")',
                              node.span, "E040")
        return Objective(metric=node.args[0].value.value, goal=node.callee)

    # -- expressions -----------------------------------------------------------------------------
    def expr(self, node, path: Tuple, ctx: _StmtCtx) -> Any:
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
            value = ERROR if any(_is_error(v) for v in items) else items
        elif isinstance(node, ir.DictExpr):
            value = self.dict_value(node, path, ctx)
        elif isinstance(node, ir.WithExpr):
            value = self.with_expr(node, path, ctx)
            return value
        else:  # pragma: no cover - the parser produces nothing else
            raise TypeError(node)
        if not _is_error(value):
            ctx.prov.add(path, Origin.at(node.span, ctx.how, _source_text(self.lines, node.span)))
        return value

    def ref(self, node: ir.Ref, path: Tuple, ctx: _StmtCtx) -> Any:
        name = node.name
        if name in self.broken and name not in self.scope:
            return ERROR
        d = self.scope.get(name)
        if d is None:
            suggestion = suggestion_text(name, list(self.scope))
            if name in self.session.registry.names():
                suggestion = f"'{name}' is a component: did you mean '{name}()'?"
            if name in HYPER_NAMES:
                suggestion = f"did you mean '{name}(...)'?"
            return self.error(f"undefined name '{name}'", node.span, "E005", suggestion=suggestion)
        if d.kind in ("patch", "search"):
            hint = "use it with `with`: `base with " + name + "`" if d.kind == "patch" else None
            return self.error(f"'{name}' is a {d.kind}, not a value", node.span, "E006",
                              suggestion=hint)
        ctx.prov.graft(path, d.provenance,
                       Origin.at(node.span, f"{ctx.how} uses {d.kind} '{name}'"))
        return _clone(d.value)

    def dict_value(self, node: ir.DictExpr, path: Tuple, ctx: _StmtCtx) -> Any:
        out: Dict[str, Any] = {}
        failed = False
        for entry in node.entries:
            if isinstance(entry.key, ir.PathKey):
                if not entry.key.is_simple:
                    self.error(f"'{entry.key.text}' is a path; a key in a dict value is a single name",
                               entry.key.span, "E025",
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
            if _is_error(value):
                failed = True
            out[key] = value
        return ERROR if failed else out

    # -- calls -----------------------------------------------------------------------------------
    def call(self, node: ir.Call, path: Tuple, ctx: _StmtCtx) -> Any:
        name = node.callee
        if name in HYPER_NAMES:
            return self.hyper_call(node, path, ctx)
        if name in OBJECTIVE_NAMES:
            return self.error(f"{name}(...) is only valid as the objective of a search",
                              node.callee_span, "E006")
        registry = self.session.registry
        try:
            cls = registry.resolve(name)
        except MldslError:
            if name in self.scope:
                return self.error(f"'{name}' is a {self.scope[name].kind}, not a component",
                                  node.callee_span, "E006",
                                  suggestion=f"write '{name}' without parentheses")
            candidates = list(registry.names())
            if name[:1].islower():
                candidates += list(HYPER_NAMES)
            return self.error(f"unknown component '{name}'", node.callee_span, "E020",
                              suggestion=suggestion_text(name, candidates), notes=[PLUGINS_HINT])
        schema = getattr(cls, "__schema__", None)
        if schema is None:  # pragma: no cover - registered components are symbolic
            return self.error(f"'{name}' is not a symbolic component", node.callee_span, "E020")
        bound = self._bind_fields(node, name, schema, path, ctx)
        if bound is None:
            return ERROR
        if any(_is_error(v) for v in bound.values()):
            # report what is wrong with the arguments that did compile (independent errors)
            for key, v in bound.items():
                if not _is_error(v):
                    try:
                        schema.fields[key].value_spec.apply(_clone(v), sym.KeyPath.parse(key))
                    except (MldslError, TypeError, ValueError) as exc:
                        self._value_error(exc, node, path, ctx)
            return ERROR
        try:
            return cls(**bound)
        except (MldslError, TypeError, ValueError) as exc:
            return self._value_error(exc, node, path, ctx)

    def _bind_fields(self, node: ir.Call, name: str, schema, path: Tuple, ctx) -> Optional[dict]:
        """Matches arguments to schema fields and compiles them; None after reporting errors."""
        keys = list(schema.fields)
        ok = True
        given: Dict[str, ir.Arg] = {}
        seen_keyword = False
        for i, arg in enumerate(node.args):
            if arg.name is None:
                if seen_keyword:
                    self.error("positional argument after keyword arguments", arg.span, "E023")
                    ok = False
                    continue
                if i >= len(keys):
                    self.error(f"{name} takes at most {len(keys)} positional argument"
                               f"{'s' if len(keys) != 1 else ''} ({len(node.positional)} given)",
                               arg.span, "E023", notes=[f"{name}({', '.join(keys)})"] if keys else [])
                    ok = False
                    continue
                key = keys[i]
            else:
                seen_keyword = True
                key = arg.name
                if key not in schema.fields:
                    self.error(f"{name} has no parameter '{key}'", arg.name_span, "E021",
                               suggestion=suggestion_text(key, keys),
                               notes=[f"parameters: {', '.join(keys)}" if keys else f"{name} takes no parameters"])
                    ok = False
                    continue
            if key in given:
                self.error(f"parameter '{key}' of {name} is given twice",
                           arg.name_span or arg.span, "E023")
                ok = False
                continue
            given[key] = arg
        unknown_keyword = any(a.name is not None and a.name not in schema.fields for a in node.args)
        for key, f in schema.fields.items():
            if key not in given and not f.value_spec.has_default and not unknown_keyword:
                self.error(f"missing required parameter '{key}' of {name}", node.span.last_char(),
                           "E022", notes=[f"{name}({', '.join(keys)})"])
                ok = False
        values = {}
        for key, arg in given.items():
            values[key] = self.expr(arg.value, path + (key,), ctx)
        return values if ok else None

    def _bind_signature(self, node: ir.Call, fn, ctx, path: Tuple):
        """Matches arguments to a plain function's signature; (args, kwargs) or (None, None)."""
        try:
            params = list(inspect.signature(fn).parameters.values()) if fn is not None else None
        except (TypeError, ValueError):
            params = None
        ok = True
        args: List[Any] = []
        kwargs: Dict[str, Any] = {}
        if params is not None:
            names = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
            positional = [p.name for p in params if p.kind == p.POSITIONAL_OR_KEYWORD]
            var_kw = any(p.kind == p.VAR_KEYWORD for p in params)
            var_pos = any(p.kind == p.VAR_POSITIONAL for p in params)
        for i, arg in enumerate(node.args):
            v = self.expr(arg.value, path + (arg.name or i,), ctx)
            if _is_error(v):
                ok = False
            if params is not None:
                if arg.name is None and not var_pos and i >= len(positional):
                    self.error(f"{node.callee} takes at most {len(positional)} positional argument"
                               f"{'s' if len(positional) != 1 else ''}", arg.span, "E023")
                    ok = False
                    continue
                if arg.name is not None and arg.name not in names and not var_kw:
                    self.error(f"{node.callee} has no parameter '{arg.name}'", arg.name_span, "E021",
                               suggestion=suggestion_text(arg.name, names),
                               notes=[f"parameters: {', '.join(names)}" if names
                                      else f"{node.callee} takes no parameters"])
                    ok = False
                    continue
            if arg.name is None:
                args.append(v)
            elif arg.name in kwargs:
                self.error(f"parameter '{arg.name}' is given twice", arg.name_span, "E023")
                ok = False
            else:
                kwargs[arg.name] = v
        if params is not None and ok:
            bound_pos = positional[:len(args)]
            for p in params:
                if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) \
                        and p.name not in kwargs and p.name not in bound_pos:
                    self.error(f"missing required parameter '{p.name}' of {node.callee}",
                               node.span.last_char(), "E022")
                    ok = False
        return (args, kwargs) if ok else (None, None)

    def hyper_call(self, node: ir.Call, path: Tuple, ctx: _StmtCtx) -> Any:
        fn = _hyper_function(node.callee)
        if fn is None:  # pragma: no cover - hyper primitives are part of mldsl
            return self.error(f"hyper primitive '{node.callee}' is not available", node.callee_span, "E020")
        args, kwargs = self._bind_signature(node, fn, ctx, path)
        if args is None:
            return ERROR
        try:
            return fn(*args, **kwargs)
        except (MldslError, TypeError, ValueError) as exc:
            return self._value_error(exc, node, path, ctx)

    def _value_error(self, exc: Exception, node, path: Tuple, ctx: _StmtCtx) -> _Error:
        """E024 at the value the error's ``(path=...)`` points to (else at the call)."""
        message = str(exc)
        span = node.span
        m = _PATH_IN_MESSAGE.search(message)
        if m:
            rel = parse_path(m.group(1))
            if rel is not None:
                full = path + rel
                for n in range(len(full), len(path) - 1, -1):
                    if full[:n] in ctx.spans:
                        span = ctx.spans[full[:n]]
                        break
        if not isinstance(exc, MldslError):
            message = f"cannot create {getattr(node, 'callee', 'value')}: {message}"
        return self.error(message, span, "E024")

    # -- with ------------------------------------------------------------------------------------
    def with_expr(self, node: ir.WithExpr, path: Tuple, ctx: _StmtCtx) -> Any:
        value = self.expr(node.base, path, ctx)
        if _is_error(value):
            return ERROR
        value = sym.as_symbolic(value)
        if not isinstance(value, sym.Symbolic):
            return self.error(f"`with` applies patches to a symbolic value, not "
                              f"{_describe_value(value)}", node.base.span, "E033")
        for item in node.patches:
            value = self.apply_item(value, item, ctx)
            if _is_error(value):
                return ERROR
        return value

    def apply_item(self, value, item, ctx: _StmtCtx) -> Any:
        if isinstance(item, ir.DictExpr):
            failed = False
            for entry in item.entries:
                keys = self._patch_key(entry)
                if keys is None:
                    failed = True
                    continue
                sub = _StmtCtx(f"{ctx.how} `with` block")
                new = self.expr(entry.value, keys, sub)
                if _is_error(new):
                    failed = True
                    continue
                if not self.apply_edit(value, keys, new, entry, sub, use=None):
                    failed = True
                    continue
                _replace(ctx.prov, keys, sub.prov)
            return ERROR if failed else value
        if isinstance(item, ir.Ref) and item.name in self.scope and self.scope[item.name].kind == "patch":
            d = self.scope[item.name]
            for keys, new, entry, prov in d.patch_entries:
                sub = _StmtCtx(f"patch '{d.name}'", prov)
                if not self.apply_edit(value, keys, _clone(new), entry, sub, use=(item, d)):
                    return ERROR
                _replace(ctx.prov, keys, prov,
                         last=Origin.at(item.span, f"patch '{d.name}' applied in {ctx.how}"))
            return value
        if isinstance(item, ir.Ref) and item.name in self.scope:
            d = self.scope[item.name]
            return self.error(f"'{item.name}' is a {d.kind}, not a patch", item.span, "E006",
                              suggestion="a patch is a patch name, a patcher call, a 'name?k=v' "
                                         "string or a { path = value } block")
        if isinstance(item, (ir.Ref, ir.Call)):
            return self.apply_patcher(value, item, ctx)
        if isinstance(item, ir.Literal) and isinstance(item.value, str):
            return self.apply_patch_string(value, item, ctx)
        return self.error("a patch is a patch name, a patcher call, a 'name?k=v' string or a "
                          "{ path = value } block", item.span, "E032")

    def _patch_scope(self) -> Dict[str, Any]:
        """The named patches defined so far (without errors), for ``patching.resolve_patch``."""
        return {n: d.value for n, d in self.scope.items() if d.kind == "patch" and isinstance(d.value, Patch)}

    def _patcher(self, name: str, span: ir.Span):
        """The patcher ``name`` means (``patching.resolve_patch``: a patcher defined with ``@patcher``
        before a plugin's; ``plugin.name`` for the plugin's), or None after reporting E031."""
        from mldsl import patching

        registry = self.session.registry
        try:
            return patching.resolve_patch(name, self._patch_scope(), registry)
        except MldslError:
            candidates = list(registry.patchers()) + list(self._patch_scope())
            self.error(f"unknown patch or patcher '{name}'", span, "E031",
                       suggestion=suggestion_text(name, candidates), notes=[PLUGINS_HINT])
            return None

    def apply_patcher(self, value, item, ctx: _StmtCtx) -> Any:
        name = item.name if isinstance(item, ir.Ref) else item.callee
        name_span = item.span if isinstance(item, ir.Ref) else item.callee_span
        patcher = self._patcher(name, name_span)
        if patcher is None:
            return ERROR
        if isinstance(patcher, Patch):  # a named patch, written as a call
            return self.error(f"patch '{name}' is a set of edits and takes no arguments", item.span, "E032")
        specs = getattr(patcher, "args", None)
        if isinstance(item, ir.Call) and isinstance(specs, dict):
            bound = self._bind_patcher_args(item, name, specs, ctx)
            if bound is None:
                return ERROR
        elif isinstance(item, ir.Call):
            args, kwargs = self._bind_signature(item, getattr(patcher, "__wrapped__", patcher),
                                                _StmtCtx(ctx.how), ("patch",))
            if args is None:
                return ERROR
            bound = (args, kwargs)
        else:
            bound = ((), {})
            if isinstance(specs, dict):
                missing = [k for k, spec in specs.items() if not spec.has_default]
                if missing:
                    return self.error(f"patcher {name} needs argument '{missing[0]}'", item.span,
                                      "E022", suggestion=f"write {name}({missing[0]}=...)",
                                      notes=[f"{getattr(patcher, 'signature', name)}"])
        before = _flatten(value)
        try:
            from mldsl import patching

            call = patcher.bind(*bound) if hasattr(patcher, "bind") else patcher(*bound[0], **bound[1])
            value = patching.patch(value, [call], registry=self.session.registry)
        except (MldslError, TypeError, ValueError) as exc:
            msg = _strip_path(str(exc))
            if name not in msg:
                msg = f"patcher {name} failed: {msg}"
            return self.error(msg, item.span, "E032")
        self._record_changes(before, value, ctx, Origin.at(item.span, f"changed by patcher {name}",
                                                           _source_text(self.lines, item.span)))
        return value

    def _bind_patcher_args(self, node: ir.Call, name: str, specs: Dict[str, Any], ctx):
        """(args, kwargs) for a patcher call checked against its typed arguments, or None."""
        keys = list(specs)
        ok = True
        given: Dict[str, ir.Arg] = {}
        seen_keyword = False
        for i, arg in enumerate(node.args):
            key = arg.name
            if key is None:
                if seen_keyword:
                    self.error("positional argument after keyword arguments", arg.span, "E023")
                    ok = False
                    continue
                if i >= len(keys):
                    self.error(f"patcher {name} takes at most {len(keys)} argument"
                               f"{'s' if len(keys) != 1 else ''}", arg.span, "E023")
                    ok = False
                    continue
                key = keys[i]
            else:
                seen_keyword = True
                if key not in specs:
                    self.error(f"patcher {name} has no argument '{key}'", arg.name_span, "E021",
                               suggestion=suggestion_text(key, keys),
                               notes=[f"arguments: {', '.join(keys)}" if keys else f"{name} takes no arguments"])
                    ok = False
                    continue
            if key in given:
                self.error(f"argument '{key}' of patcher {name} is given twice",
                           arg.name_span or arg.span, "E023")
                ok = False
                continue
            given[key] = arg
        for key, spec in specs.items():
            if key not in given and not spec.has_default:
                self.error(f"missing argument '{key}' of patcher {name}", node.span.last_char(), "E022")
                ok = False
        kwargs = {}
        sub = _StmtCtx(ctx.how)
        for key, arg in given.items():
            v = self.expr(arg.value, ("patch", key), sub)
            if _is_error(v):
                ok = False
                continue
            try:
                kwargs[key] = specs[key].apply(v, sym.KeyPath.parse(key))
            except MldslError as exc:
                self.error(str(exc), arg.value.span, "E024")
                ok = False
        return ((), kwargs) if ok else None

    def apply_patch_string(self, value, item: ir.Literal, ctx: _StmtCtx) -> Any:
        text = item.value
        name = text.split("?", 1)[0].strip()
        if not name:
            return self.error(f"bad patch string {text!r}: expected 'name?key=value'", item.span, "E032")
        if self._patcher(name, item.span) is None:
            return ERROR
        before = _flatten(value)
        try:
            from mldsl import patching

            value = patching.patch(value, [text], self._patch_scope(), self.session.registry)
        except (MldslError, TypeError, ValueError) as exc:
            return self.error(_strip_path(str(exc)), item.span, "E032")
        self._record_changes(before, value, ctx, Origin.at(item.span, f"changed by patch {item.text}"))
        return value

    def _record_changes(self, before: dict, value, ctx: _StmtCtx, origin: Origin) -> None:
        after = _flatten(value)
        changed = [p for p in after if p not in before or not _same_leaf(before[p], after[p])]
        gone = [p for p in before if p not in after]
        for p in gone:
            ctx.prov.records.pop(p, None)
        # report the top-most changed paths only
        changed.sort(key=len)
        done: List[Tuple] = []
        for p in changed:
            if any(p[:len(q)] == q for q in done):
                continue
            ctx.prov.set(p, origin)
            done.append(p)

    def apply_edit(self, root, keys: Tuple, new, entry: ir.Entry, sub: _StmtCtx, use) -> bool:
        """Sets ``keys`` of ``root`` to ``new``; reports E030/E024 and returns False on failure.
        ``use`` is (with-item, patch definition) when applying a named patch."""
        problem = _check_path(root, keys)
        where_span = entry.key.span if use is None else use[0].span
        notes = []
        if use is not None:
            item, d = use
            notes.append(f"'{ir.format_path(keys)}' is set by patch '{d.name}' at "
                         f"{entry.span.file}:{entry.span.line}:{entry.span.column}")
        if problem is not None:
            message, suggestion = problem
            if use is not None:
                message = f"patch '{use[1].name}' does not apply: {message}"
            self.error(message, where_span, "E030", suggestion=suggestion, notes=notes)
            return False
        try:
            root.rebind({ir.format_path(keys): new})
        except MldslError as exc:
            span = entry.value.span if use is None else use[0].span
            self.error(str(exc), span, "E024", notes=notes)
            return False
        return True


# ---------------------------------------------------------------------------------------- helpers

def _where(span: ir.Span) -> str:
    return f"{span.file}:{span.line}:{span.column}"


def _display(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return path
    return path if rel.startswith("..") else rel


def _lines_of(session: Session, filename: str) -> List[str]:
    for m in session.modules.values():
        if m.filename == filename:
            return split_lines(m.source)
    return []


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _type_name(value) -> str:
    return getattr(type(value), "type_name", None) or type(value).__name__


def _describe_value(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"a bool ({str(value).lower()})"
    if isinstance(value, int):
        return f"an int ({value})"
    if isinstance(value, float):
        return f"a float ({value!r})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a dict"
    return _a(_type_name(value))


def _example(what: str) -> str:
    return "evolution(population_size=5)" if what == "algorithm" else "median(after=2)"


def _clone(value):
    if isinstance(value, sym.Symbolic):
        return value.clone(deep=True)
    if isinstance(value, (list, dict)):
        import copy

        return copy.deepcopy(value)
    return value


def _replace(target: Provenance, keys: Tuple, source: Provenance, last: Optional[Origin] = None) -> None:
    """``keys`` got a new value whose origins are in ``source``: the old records below ``keys`` go,
    the chain of ``keys`` grows by the new origins (then ``last``), deeper ones are copied."""
    keys = tuple(keys)
    n = len(keys)
    for key in [k for k in target.records if len(k) > n and k[:n] == keys]:
        del target.records[key]
    chain = target.records.setdefault(keys, [])
    chain.extend(source.records.get(keys, []))
    if last is not None:
        chain.append(last)
    for key, origins in source.records.items():
        if len(key) > n and key[:n] == keys:
            target.records.setdefault(key, []).extend(origins)


def _flatten(value, prefix: Tuple = (), out: Optional[dict] = None) -> dict:
    """path -> leaf value (objects record their type) for change detection."""
    if out is None:
        out = {}
    children = child_values(value)
    if children is None:
        out[prefix] = value
        return out
    out[prefix] = ("<node>", type(value))
    for k, v in children.items():
        _flatten(v, prefix + (k,), out)
    return out


def _same_leaf(a, b) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # noqa: BLE001
        return False


def _check_path(root, keys: Tuple) -> Optional[Tuple[str, Optional[str]]]:
    """None if ``keys`` can be set on ``root``, else (message, suggestion)."""
    cur = root
    for i, k in enumerate(keys):
        where = ir.format_path(keys[:i]) or "the experiment"
        last = i == len(keys) - 1
        if isinstance(cur, sym.Object):
            fields = list(type(cur).__schema__.fields)
            if not isinstance(k, str) or k not in fields:
                what = f"{_type_name(cur)}" + (f" (at {where})" if i else "")
                return (f"no field '{k}' in {what}", suggestion_text(str(k), fields))
            if last:
                return None
            cur = cur.sym_init_args[k]
        elif isinstance(cur, dict):
            spec = getattr(cur, "value_spec", None) or getattr(cur, "sym_spec", None)
            schema = getattr(spec, "schema", None)
            allowed = list(schema.fields) if schema is not None else list(cur)
            if not isinstance(k, str) or (k not in cur and (schema is not None or not last)):
                if schema is None and last:
                    return None
                return (f"no key '{k}' in the dict at {where}", suggestion_text(str(k), allowed))
            if last:
                return None
            cur = cur[k]
        elif isinstance(cur, (list, tuple)):
            if not isinstance(k, int) or not -len(cur) <= k < len(cur):
                return (f"{where} has {len(cur)} item{'s' if len(cur) != 1 else ''}; there is no "
                        f"{'index ' + str(k) if isinstance(k, int) else repr(k)}", None)
            if last:
                return None
            cur = cur[k]
        else:
            return (f"{where} is {_describe_value(cur)}; it has no '{k}'", None)
    return None


def _strip_path(message: str) -> str:
    """A patch error without its trailing ``(path=...)`` (the caret shows where)."""
    m = _PATH_IN_MESSAGE.search(message)
    return message[:m.start()].rstrip() if m and not m.group(1) else message


def _hyper_function(name: str):
    from mldsl import hyper

    fn = getattr(hyper, name, None)
    if fn is None:  # the package may not re-export them (yet)
        from mldsl.hyper import primitives

        fn = getattr(primitives, name, None)
    return fn
