"""Imports point one way (DESIGN.md §2): each area of the package imports only the areas below it.

The check reads every module's import statements (top level and inside functions, since a lazy import
is still a dependency) and compares them with the table below. A new edge is a design decision: add it
here with the reason, or move the code.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

#: area -> the areas it may import. "registry" covers hookspecs, plugin_manager, registry, components.
ALLOWED = {
    "errors": set(),
    "_lazy": set(),  # the lazy-export helper of the packages' __init__ files
    "symbolic": {"errors"},
    "typing": {"symbolic"},
    "hyper": {"errors", "symbolic"},
    "registry": {"errors", "symbolic", "kernels.catalogue"},  # the DSL's activation names are the catalogue's
    "patching": {"errors", "symbolic", "registry"},
    "dsl": {"errors", "symbolic", "hyper", "patching", "registry"},
    "data": {"errors"},
    "backends": {"errors"},  # the protocol: no backend, no registry
    "backends.native": {"errors", "_lazy", "backends", "kernels", "kernels.catalogue", "registry"},
    "backends.keras": {"errors", "_lazy", "backends", "data", "registry", "symbolic"},
    # the engine may not use the language, except its printer (symbolic -> .mlx text, for the records)
    "engine": {"errors", "symbolic", "hyper", "registry", "backends", "dsl.printer"},
    "std": {"errors", "symbolic", "hyper", "patching", "registry", "data", "backends.keras", "backends.native",
            "kernels.catalogue", "hookimpl"},
}

LAYERED_AREAS = set(ALLOWED)


def area_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "mldsl_std":
        return "std"
    if parts[0] != "mldsl" or len(parts) == 1:
        return None
    head = parts[1]
    if head in ("hookspecs", "plugin_manager", "registry", "components"):
        return "registry"
    if head == "backends" and len(parts) > 2 and parts[2] in ("native", "keras"):
        return f"backends.{parts[2]}"
    if head == "dsl" and len(parts) > 2 and parts[2] == "printer":
        return "dsl.printer"
    if head == "kernels" and len(parts) > 2 and parts[2] == "catalogue":
        return "kernels.catalogue"  # plain Python, no compiled module
    return head


def imports_of(path: pathlib.Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)


def modules():
    for path in sorted((ROOT / "mldsl").rglob("*.py")):
        yield ".".join(path.relative_to(ROOT).with_suffix("").parts), path
    for path in sorted((ROOT / "plugins" / "mldsl_std").rglob("*.py")):
        yield "mldsl_std." + ".".join(path.relative_to(ROOT / "plugins" / "mldsl_std").with_suffix("").parts), path


def test_imports_point_down_the_layers():
    violations = []
    for module, path in modules():
        src = area_of(module)
        if src == "dsl.printer":
            src = "dsl"
        if src not in LAYERED_AREAS:
            continue  # front ends (cli, commands, repl, bench) may import anything
        for name in set(imports_of(path)):
            dst = area_of(name)
            if dst is None or dst == src or (src == "dsl" and dst == "dsl.printer"):
                continue
            allowed = ALLOWED[src]
            if dst not in allowed and not (dst == "dsl.printer" and "dsl" in allowed):
                violations.append(f"{path.relative_to(ROOT)}: {src} imports {name} ({dst})")
    assert violations == [], "imports against the layering:\n" + "\n".join(sorted(violations))


@pytest.mark.parametrize("module, expected", [
    ("mldsl.symbolic.object", "symbolic"), ("mldsl.registry", "registry"), ("mldsl.components", "registry"),
    ("mldsl.backends.native.trainer", "backends.native"), ("mldsl.backends.base", "backends"),
    ("mldsl.dsl.printer", "dsl.printer"), ("mldsl_std.layers", "std"), ("numpy", None),
])
def test_area_of(module, expected):
    assert area_of(module) == expected
