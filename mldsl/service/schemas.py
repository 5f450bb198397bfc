"""What ``mldsl schema NAME`` shows, for every front end: a component's fields (value specs, defaults,
descriptions) or a patcher's arguments, after the docstring's summary (the language server's hover
shows the same lines)."""
from __future__ import annotations

import textwrap
from typing import Any, List


def schema_report(registry: Any, name: str) -> List[str]:
    """The lines ``mldsl schema NAME`` prints for a component or a patcher; unknown names raise
    UnknownComponentError (naming a close patcher, if there is one)."""
    from mldsl.errors import RegistryError, UnknownComponentError, suggestion_text  # noqa: PLC0415
    from mldsl.registry import PLUGINS_HINT  # noqa: PLC0415

    try:
        entry = registry.entry(name)
    except UnknownComponentError as exc:
        try:
            return _patcher_report(registry, name)
        except RegistryError:
            hint = suggestion_text(name, list(registry.patchers()))
            if hint:
                raise UnknownComponentError(f"unknown component or patcher {name!r}; {hint} ({PLUGINS_HINT})"
                                            ) from None
            raise exc from None
    cls = entry.value
    lines = [f"{entry.name}  ({entry.kind}; {_source(registry, entry.plugin)})"] + _doc_lines(cls.__doc__)
    schema = getattr(cls, "__schema__", None)
    fields = getattr(schema, "fields", None) or {}
    lines += ["", "fields:" if fields else "fields: none"]
    for key, field in fields.items():
        spec = getattr(field, "value_spec", None)
        has_default = bool(getattr(spec, "has_default", False))
        default = f" = {_format_default(spec.default)}" if has_default else "  (required)"
        lines.append(f"  {key}: {_format_spec(spec)}{default}")
        description = getattr(field, "description", None)
        if description:
            lines += ["      " + line for line in textwrap.wrap(str(description), 90)]
    return lines


def _patcher_report(registry: Any, name: str) -> List[str]:
    """``mldsl schema PATCHER``: its arguments with value specs, defaults and descriptions."""
    from mldsl.patching import resolve_patch  # noqa: PLC0415

    patcher = resolve_patch(name, registry=registry)
    leaf = name.rsplit(".", 1)[-1]
    plugin = next((r.name for r in registry.plugins() if leaf in registry.contributions(r.name)["patchers"]),
                  None)
    lines = [f"{patcher.name}  (patcher; {_source(registry, plugin)})"] + _doc_lines(patcher.__doc__)
    lines += ["", "arguments:" if patcher.args else "arguments: none"]
    for key, spec in patcher.args.items():
        default = f" = {_format_default(spec.default)}" if spec.has_default else "  (required)"
        lines.append(f"  {key}: {_format_spec(spec)}{default}")
        if patcher.descriptions.get(key):
            lines += ["      " + line for line in textwrap.wrap(str(patcher.descriptions[key]), 90)]
    example = "&".join(f"{k}=..." for k, spec in patcher.args.items() if not spec.has_default)
    lines += ["", f"use: `with {patcher.name}{'(...)' if patcher.args else ''}` in .mlx, or --patch "
                  f"'{patcher.name}{'?' + example if example else ''}'"]
    return lines


def _source(registry: Any, plugin: str | None) -> str:
    record = next((r for r in registry.plugins() if r.name == plugin), None)
    if plugin is None:
        return "defined in this process"
    return f"plugin {plugin}" + (f", {record.source}" if record else "")


def _doc_lines(doc: str | None) -> List[str]:
    doc = (doc or "").strip()
    if not doc:
        return []
    return ["", *("  " + line if line else "" for line in textwrap.dedent(_first_block(doc)).splitlines())]


def _first_block(doc: str) -> str:
    """The summary and description of a docstring, without its Args:/Returns: sections."""
    first, _, rest = doc.partition("\n")
    out = [first]
    for line in textwrap.dedent(rest).splitlines():
        if line.strip().rstrip(":") in ("Args", "Arguments", "Returns", "Raises", "Attributes"):
            break
        out.append(line)
    return "\n".join(out).strip()


def _format_spec(spec: Any) -> str:
    if spec is None:
        return "Any"
    fmt = getattr(spec, "format", None)
    try:
        return fmt(compact=True) if callable(fmt) else repr(spec)
    except TypeError:
        return repr(spec)


def _format_default(value: Any) -> str:
    fmt = getattr(value, "format", None)
    if callable(fmt) and not isinstance(value, str):
        try:
            return fmt(compact=True)
        except TypeError:
            pass
    return repr(value)
