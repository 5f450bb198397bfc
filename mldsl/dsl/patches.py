"""Compiling ``BASE with p1, p2, ...``: each patch (a ``patch`` definition, a patcher call, a
``'name?k=v'`` string or a ``{ path = value }`` block) is applied in order, and provenance records
which path each one changed. A part of the ``Compiler`` (``mldsl.dsl.compiler``)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from mldsl import symbolic as sym
from mldsl.dsl import ir
from mldsl.dsl.binding import Parameters
from mldsl.dsl.context import (ERROR, PLUGINS_HINT, StatementContext, clone, describe_value, is_error,
                               path_in_message, path_text, strip_path, type_name)
from mldsl.dsl.module import Origin, Patch, Provenance, child_values
from mldsl.errors import KeyPathError, MldslError, suggestion_text

_PATCH_KINDS = ("a patch is a patch name, a patcher call, a 'name?k=v' string or a "
                "{ path = value } block")


class PatchCompiler:
    """The ``with`` part of the compiler (mixed into ``Compiler``, whose ``expr``, ``error``, ``scope``,
    ``session`` and ``lines`` it uses)."""

    def with_expr(self, node: ir.WithExpr, path: Tuple, ctx: StatementContext) -> Any:
        value = self.expr(node.base, path, ctx)
        if is_error(value):
            return ERROR
        value = sym.as_symbolic(value)
        if not isinstance(value, sym.Symbolic):
            return self.error(f"`with` applies patches to a symbolic value, not "
                              f"{describe_value(value)}", node.base.span, "E033")
        for item in node.patches:
            value = self.apply_item(value, item, ctx, path)
            if is_error(value):
                return ERROR
        return value

    def apply_item(self, value, item, ctx: StatementContext, path: Tuple = ()) -> Any:
        """``value`` with the patch ``item`` applied (``path``: where the patched value sits in the
        statement, so that a later error about a value of a ``{ path = value }`` block points at it)."""
        if isinstance(item, ir.DictExpr):
            failed = False
            for entry in item.entries:
                keys = self.patch_path(entry)
                if keys is None:
                    failed = True
                    continue
                sub = StatementContext(f"{ctx.how} `with` block")
                new = self.expr(entry.value, keys, sub)
                if is_error(new):
                    failed = True
                    continue
                if not self.apply_edit(value, keys, new, entry, sub, use=None):
                    failed = True
                    continue
                _replace(ctx.prov, keys, sub.prov)
                ctx.spans.update({(*path, *k): span for k, span in sub.spans.items()})
            return ERROR if failed else value
        if isinstance(item, ir.Ref) and item.name in self.scope and self.scope[item.name].kind == "patch":
            d = self.scope[item.name]
            for keys, new, entry, prov in d.patch_entries:
                sub = StatementContext(f"patch '{d.name}'", prov)
                if not self.apply_edit(value, keys, clone(new), entry, sub, use=(item, d)):
                    return ERROR
                _replace(ctx.prov, keys, prov,
                         last=Origin.at(item.span, f"patch '{d.name}' applied in {ctx.how}"))
            return value
        if isinstance(item, ir.Ref) and item.name in self.scope:
            d = self.scope[item.name]
            return self.error(f"'{item.name}' is a {d.kind}, not a patch", item.span, "E006",
                              suggestion=_PATCH_KINDS)
        if isinstance(item, (ir.Ref, ir.Call)):
            return self.apply_patcher(value, item, ctx)
        if isinstance(item, ir.Literal) and isinstance(item.value, str):
            return self.apply_patch_string(value, item, ctx)
        return self.error(_PATCH_KINDS, item.span, "E032")

    def patch_path(self, entry: ir.Entry) -> Optional[Tuple]:
        """The keys of a patch entry's path (a quoted key is read as a path), or None after an error."""
        if isinstance(entry.key, ir.PathKey):
            return entry.key.segments
        try:
            keys = tuple(sym.KeyPath.parse(entry.key.value))
        except KeyPathError:
            keys = ()
        if not keys:
            self.error(f"'{entry.key.value}' is not a path", entry.key.span, "E030")
            return None
        return keys

    # -- patchers ----------------------------------------------------------------------------------
    def patch_scope(self) -> Dict[str, Any]:
        """The named patches defined so far (without errors), for ``patching.resolve_patch``."""
        return {n: d.value for n, d in self.scope.items() if d.kind == "patch" and isinstance(d.value, Patch)}

    def find_patcher(self, name: str, span: ir.Span):
        """The patch or patcher ``name`` means (``patching.resolve_patch``: the file's patches, then a
        patcher defined with ``@patcher``, then a plugin's; ``plugin.name`` for the plugin's), or None
        after reporting E031."""
        from mldsl import patching

        registry = self.session.registry
        try:
            return patching.resolve_patch(name, self.patch_scope(), registry)
        except MldslError:
            candidates = list(registry.patchers()) + list(self.patch_scope())
            self.error(f"unknown patch or patcher '{name}'", span, "E031",
                       suggestion=suggestion_text(name, candidates), notes=[PLUGINS_HINT])
            return None

    def apply_patcher(self, value, item, ctx: StatementContext) -> Any:
        name = item.name if isinstance(item, ir.Ref) else item.callee
        name_span = item.span if isinstance(item, ir.Ref) else item.callee_span
        patcher = self.find_patcher(name, name_span)
        if patcher is None:
            return ERROR
        if isinstance(patcher, Patch):  # a named patch, written as a call
            return self.error(f"patch '{name}' is a set of edits and takes no arguments", item.span, "E032")
        bound = self.patcher_arguments(patcher, name, item, ctx)
        if bound is None:
            return ERROR
        before = _flatten(value)
        try:
            from mldsl import patching

            call = patcher.bind(*bound) if hasattr(patcher, "bind") else patcher(*bound[0], **bound[1])
            value = patching.patch(value, [call], registry=self.session.registry)
        except (MldslError, TypeError, ValueError) as exc:
            msg = strip_path(str(exc))
            if name not in msg:
                msg = f"patcher {name} failed: {msg}"
            return self.error(msg, item.span, "E032")
        self._record_changes(before, value, ctx, Origin.at(item.span, f"changed by patcher {name}",
                                                           self.source_text(item.span)))
        return value

    def patcher_arguments(self, patcher, name: str, item, ctx: StatementContext):
        """(args, kwargs) of a patcher used in ``with``, checked against its typed arguments (a plain
        function: its parameters after the value it patches), or None after reporting the errors."""
        specs = getattr(patcher, "args", None)
        if isinstance(specs, dict):
            params = Parameters.of_specs(f"patcher {name}", specs)
        else:
            params = Parameters.of_function(f"patcher {name}", getattr(patcher, "__wrapped__", patcher))
            params = params.after_first()
        if isinstance(item, ir.Ref):  # named without parentheses
            if params.required:
                missing = params.required[0]
                self.error(f"patcher {name} needs argument '{missing}'", item.span, "E022",
                           suggestion=f"write {name}({missing}=...)",
                           notes=[f"{getattr(patcher, 'signature', name)}"])
                return None
            return (), {}
        compiled = self.compile_arguments(item, params, ("patch",), StatementContext(ctx.how))
        if compiled is None:
            return None
        if not isinstance(specs, dict):
            return tuple(compiled.args), compiled.kwargs
        kwargs, ok = {}, True
        for key, v in compiled.by_name.items():
            try:
                kwargs[key] = specs[key].apply(v, sym.KeyPath(key))
            except MldslError as exc:
                self.error(str(exc), compiled.spans[key], "E024")
                ok = False
        return ((), kwargs) if ok else None

    def apply_patch_string(self, value, item: ir.Literal, ctx: StatementContext) -> Any:
        text = item.value
        name = text.split("?", 1)[0].strip()
        if not name:
            return self.error(f"bad patch string {text!r}: expected 'name?key=value'", item.span, "E032")
        if self.find_patcher(name, item.span) is None:
            return ERROR
        before = _flatten(value)
        try:
            from mldsl import patching

            value = patching.patch(value, [text], self.patch_scope(), self.session.registry)
        except (MldslError, TypeError, ValueError) as exc:
            return self.error(strip_path(str(exc)), item.span, "E032")
        self._record_changes(before, value, ctx, Origin.at(item.span, f"changed by patch {item.text}"))
        return value

    # -- edits -------------------------------------------------------------------------------------
    def _record_changes(self, before: dict, value, ctx: StatementContext, origin: Origin) -> None:
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

    def apply_edit(self, root, keys: Tuple, new, entry: ir.Entry, sub: StatementContext, use) -> bool:
        """Sets ``keys`` of ``root`` to ``new``; reports E030/E024 and returns False on failure.
        ``use`` is (with-item, patch definition) when applying a named patch."""
        problem = _check_path(root, keys)
        where_span = entry.key.span if use is None else use[0].span
        notes = []
        if use is not None:
            item, d = use
            notes.append(f"'{path_text(keys)}' is set by patch '{d.name}' at "
                         f"{entry.span.file}:{entry.span.line}:{entry.span.column}")
        if problem is not None:
            message, suggestion = problem
            if use is not None:
                message = f"patch '{use[1].name}' does not apply: {message}"
            self.error(message, where_span, "E030", suggestion=suggestion, notes=notes)
            return False
        try:
            root.rebind({sym.KeyPath(keys): new})
        except MldslError as exc:
            for each in getattr(exc, "errors", None) or [exc]:  # several bad entries: one E024 each
                span = entry.value.span if use is None else use[0].span
                inner = path_in_message(str(each)) if use is None else None
                while inner and inner not in sub.spans and len(inner) > len(keys):
                    inner = inner[:-1]
                self.error(str(each), sub.spans.get(inner, span), "E024", notes=notes)
            return False
        return True


# ---------------------------------------------------------------------------------------- helpers

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
        where = path_text(keys[:i]) or "the experiment"
        last = i == len(keys) - 1
        if isinstance(cur, sym.Object):
            fields = list(type(cur).__schema__.fields)
            if not isinstance(k, str) or k not in fields:
                what = f"{type_name(cur)}" + (f" (at {where})" if i else "")
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
            return (f"{where} is {describe_value(cur)}; it has no '{k}'", None)
    return None
