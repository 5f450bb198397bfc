"""CLI verbs (plugins): ``mldsl plugins [--kind KIND]`` and ``mldsl schema NAME``; also the plugin
list of ``mldsl --version -v`` (:func:`version_lines`)."""
from __future__ import annotations

import argparse
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
    from mldsl.service.schemas import schema_report  # noqa: PLC0415

    print("\n".join(schema_report(_registry(), args.name)))
    return 0


def version_lines() -> List[str]:
    """Plugin distributions and versions for ``mldsl --version -v`` (no plugin is imported)."""
    from mldsl.plugin_manager import entry_point_distributions  # noqa: PLC0415

    dists = entry_point_distributions()
    if not dists:
        return ["plugins: none installed"]
    return ["plugins:"] + [f"  {name} {version} (entry points: {', '.join(eps)})" for name, version, eps in dists]
