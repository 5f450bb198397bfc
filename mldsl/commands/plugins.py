"""CLI verbs (plugins): ``mldsl plugins [--kind KIND]`` and ``mldsl schema NAME``; also the plugin
list of ``mldsl --version -v`` (:func:`version_lines`)."""
from __future__ import annotations

import argparse
import textwrap
import warnings
from typing import Any, List

#: ``--kind`` choices -> key of ``Registry.contributions()``
KIND_CHOICES = ("components", "patchers", "datasets", "backends", "algorithms")


def add_parsers(subparsers) -> None:
    """Adds ``plugins`` and ``schema``."""
    p = subparsers.add_parser("plugins", help="list installed plugins and what they contribute",
                              description="List installed mldsl plugins (distribution, version) and what each "
                                          "contributes; plugins that failed to load are shown with their error.")
    p.add_argument("--kind", choices=KIND_CHOICES, help="show only this kind of contribution")
    p.set_defaults(handler=_plugins_command)
    s = subparsers.add_parser("schema", help="show a component's fields or a patcher's arguments, with "
                                             "value specs, defaults and docs",
                              description="Show the schema of a component (its fields) or of a patcher (its "
                                          "arguments): value specs, defaults and documentation.")
    s.add_argument("name", help="component or patcher name as written in .mlx files, e.g. Dense, std.Dense "
                                "or change_lr")
    s.set_defaults(handler=_schema_command)


def _registry():
    from mldsl.plugin_manager import PluginWarning  # noqa: PLC0415 - keep `mldsl --help` light
    from mldsl.registry import get_registry  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginWarning)  # the listing shows failures itself
        return get_registry()


def _plugins_command(args: argparse.Namespace) -> int:
    print("\n".join(plugins_report(_registry(), args.kind)))
    return 0


def plugins_report(registry: Any, kind: str | None = None) -> List[str]:
    """The lines ``mldsl plugins`` prints."""
    lines: List[str] = []
    failed, blocked = [], []
    for record in registry.plugins():
        if record.blocked:
            blocked.append(record)
            continue
        if record.errors and not record.parts:
            failed.append(record)
            continue
        lines.append(f"{record.name}  {record.source}  ({record.module})")
        contributions = registry.contributions(record.name)
        shown = False
        for key in (kind,) if kind else KIND_CHOICES + ("lowerings",):
            value = contributions.get(key)
            if not value:
                continue
            shown = True
            if isinstance(value, dict):
                lines.append(f"  {key}:")
                lines += [f"    {sub}: {', '.join(names)}" for sub, names in value.items()]
            else:
                lines.append(f"  {key}: {', '.join(value)}")
        if not shown:
            lines.append(f"  ({kind or 'contributions'}: none)")
        for part, error in record.errors.items():
            failed_part = part.split(":", 1)[-1]
            lines.append(f"  FAILED part {failed_part}: {error}")
    if not lines:
        lines.append("no plugins loaded")
    if failed:
        lines += ["", "failed to load:"]
        for record in failed:
            lines += [f"  {record.name}  {record.source}: {error}" for error in record.errors.values()]
    if blocked:
        lines += ["", "blocked: " + ", ".join(f"{r.name} ({r.source})" for r in blocked)]
    return lines


def _schema_command(args: argparse.Namespace) -> int:
    print("\n".join(schema_report(_registry(), args.name)))
    return 0


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


def version_lines() -> List[str]:
    """Plugin distributions and versions for ``mldsl --version -v`` (no plugin is imported)."""
    from mldsl.plugin_manager import entry_point_distributions  # noqa: PLC0415

    dists = entry_point_distributions()
    if not dists:
        return ["plugins: none installed"]
    return ["plugins:"] + [f"  {name} {version} (entry points: {', '.join(eps)})" for name, version, eps in dists]
