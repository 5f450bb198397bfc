"""Imports point one way (ARCHITECTURE.md, "Layers"): each area of the package imports only the areas
below it, the front ends (``commands/``, the CLI verbs, ``repl/`` and ``lsp/``, the language server) stand side by side on the
service layer without importing each other, and no package's modules import each other in a circle.

The check reads every module's import statements (top level and inside functions, since a lazy import
is still a dependency) and compares them with the table below. A new edge is a design decision: add it
here with the reason (and to ARCHITECTURE.md), or move the code.
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

#: area -> the areas it may import. "registry" covers hookspecs, plugin_manager, registry, components.
ALLOWED = {
    "errors": set(),
    "textfile": {"errors"},  # reading a user-named text file: UTF-8, size bound, positions of bad bytes
    "_lazy": set(),  # the lazy-export helper of the packages' __init__ files
    "gcpause": set(),  # full garbage collections deferred during long allocation-heavy work
    "symbolic": {"errors", "textfile"},
    "typing": {"symbolic"},
    "hyper": {"errors", "symbolic"},
    "registry": {"errors", "symbolic", "kernels.catalogue"},  # the DSL's activation names are the catalogue's
    "patching": {"errors", "symbolic", "registry"},
    "dsl": {"errors", "textfile", "gcpause", "symbolic", "hyper", "patching", "registry"},
    "data": {"errors", "_lazy"},
    "backends": {"errors"},  # the protocol: no backend, no registry
    # data: the training order of the examples and the per-class evaluation, shared with keras
    "backends.native": {"errors", "_lazy", "backends", "data", "kernels", "kernels.catalogue", "registry"},
    "backends.keras": {"errors", "_lazy", "backends", "data", "registry", "symbolic"},
    # the engine may not use the language, except its printer (symbolic -> .mlx text, for the records)
    "engine": {"errors", "gcpause", "symbolic", "hyper", "registry", "backends", "dsl.printer"},
    "std": {"errors", "symbolic", "hyper", "patching", "registry", "data", "backends.keras", "backends.native",
            "kernels.catalogue", "hookimpl"},
    "highlight": {"dsl"},  # the Pygments lexer reads the language's vocabulary
    # what both front ends do: load a target, resolve the store, run, search, report
    "service": {"errors", "textfile", "symbolic", "hyper", "patching", "registry", "dsl", "data", "backends",
                "engine", "highlight"},
}

#: The front ends: each may import any area above (``service`` and below), but not another front end: the
#: CLI verbs, the REPL, the notebook and the language server (``lsp``) stand side by side on ``service``...
FRONT_ENDS = ("commands", "repl", "notebook", "lsp")

#: ...except these edges, each with its reason.
FRONT_END_EDGES = {
    # the notebook is the REPL in cells: the same session of statements, the same `:commands` (as
    # `%mlx COMMAND`), their argument parsers and their path lookup, reused rather than copied
    ("notebook", "repl"): "the notebook's magics run the REPL's session and commands",
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


def test_the_design_document_describes_every_area():
    text = (ROOT / "ARCHITECTURE.md").read_text()
    named = {area for area in ALLOWED if area.replace(".", "/") in text or f"mldsl.{area}" in text
             or f"mldsl_{area}" in text}
    assert sorted(set(ALLOWED) - named) == [] and all(front in text for front in FRONT_ENDS)


def test_the_front_ends_do_not_import_each_other():
    violations = []
    for module, path in modules():
        src = area_of(module)
        if src not in FRONT_ENDS:
            continue
        for name in set(imports_of(path)):
            dst = area_of(name)
            if dst in FRONT_ENDS and dst != src and (src, dst) not in FRONT_END_EDGES:
                violations.append(f"{path.relative_to(ROOT)}: {src} imports {name}")
    assert violations == [], ("a front end imports the other (move what both need to mldsl/service/):\n"
                              + "\n".join(sorted(violations)))


@pytest.mark.parametrize("module, expected", [
    ("mldsl.symbolic.object", "symbolic"), ("mldsl.registry", "registry"), ("mldsl.components", "registry"),
    ("mldsl.backends.native.trainer", "backends.native"), ("mldsl.backends.base", "backends"),
    ("mldsl.dsl.printer", "dsl.printer"), ("mldsl_std.layers", "std"), ("numpy", None),
])
def test_area_of(module, expected):
    assert area_of(module) == expected


# ------------------------------------------------------------------------------ cycles in a package
def module_paths() -> dict:
    """module name -> file (a package's ``__init__.py`` under the package's name)."""
    return {m[:-len(".__init__")] if m.endswith(".__init__") else m: p for m, p in modules()}


def resolve_import(node: ast.AST, module: str, is_package: bool, known: set) -> list:
    """The modules of ``known`` an import statement in ``module`` names (relative imports resolved;
    ``from PKG import name`` names ``PKG.name`` when that is a module, else ``PKG``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in known]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    out = []
    for a in node.names:
        full = f"{target}.{a.name}"
        if full in known:
            out.append(full)
        elif target in known:
            out.append(target)
    return out


def import_graph(package: str) -> dict:
    """module -> the modules of ``package`` it imports (at the top or inside functions)."""
    paths = {m: p for m, p in module_paths().items() if m == package or m.startswith(package + ".")}
    known = set(paths)
    graph = {}
    for module, path in paths.items():
        is_package = path.name == "__init__.py"
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            edges.update(resolve_import(node, module, is_package, known))
        edges.discard(module)
        graph[module] = sorted(edges)
    return graph


def find_cycles(graph: dict) -> list:
    """The import cycles of ``graph``: one per strongly connected component of two or more modules,
    each as a closed path ``[a, b, ..., a]`` (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    counter = [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(set(component))
    return sorted(_closed_path(graph, sorted(c)[0], c) for c in components)


def _closed_path(graph: dict, start: str, members: set) -> list:
    """A shortest path from ``start`` back to itself inside ``members`` (to show one cycle)."""
    previous = {start: None}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in graph.get(node, ()):
                if child == start:
                    path = [node]
                    while previous[path[-1]] is not None:
                        path.append(previous[path[-1]])
                    return list(reversed(path)) + [start]
                if child in members and child not in previous:
                    previous[child] = node
                    nxt.append(child)
        frontier = nxt
    return [start]


def test_find_cycles_finds_each_cycle_once():
    graph = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": [], "e": ["f"], "f": ["e"], "g": ["g"]}
    assert sorted(find_cycles(graph)) == [["a", "b", "c", "a"], ["e", "f", "e"]]
    assert find_cycles({"a": ["b"], "b": []}) == []


def test_resolve_import_reads_function_level_and_relative_imports():
    src = "def f():\n    from mldsl.dsl import printer, parse\n    from . import ir\n    import mldsl.dsl.module\n"
    known = {"mldsl.dsl", "mldsl.dsl.printer", "mldsl.dsl.ir", "mldsl.dsl.module"}
    found = set()
    for node in ast.walk(ast.parse(src)):
        found.update(resolve_import(node, "mldsl.dsl.compiler", False, known))
    assert found == {"mldsl.dsl.printer", "mldsl.dsl", "mldsl.dsl.ir", "mldsl.dsl.module"}


def describe_cycles(package: str) -> list:
    """One line per import cycle inside ``package``: a closed path, then every module caught in it."""
    graph = import_graph(package)
    lines = []
    for cycle in find_cycles(graph):
        members = _component_of(graph, cycle[0])
        lines.append(" -> ".join(cycle) + (f"  ({len(members)} modules in the circle: "
                                            f"{', '.join(sorted(members))})" if len(members) > 2 else ""))
    return lines


def _component_of(graph: dict, node: str) -> set:
    def reach(start, edges):
        seen, todo = {start}, [start]
        while todo:
            for nxt in edges.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    reverse: dict = {}
    for src, dsts in graph.items():
        for dst in dsts:
            reverse.setdefault(dst, []).append(src)
    return reach(node, graph) & reach(node, reverse)


def packages() -> list:
    """Every package of mldsl and of the standard library plugin (a folder with ``__init__.py``)."""
    return sorted(m for m, p in module_paths().items() if p.name == "__init__.py")


def test_every_package_is_checked_for_cycles():
    assert {"mldsl", "mldsl.dsl", "mldsl.symbolic", "mldsl.engine", "mldsl.repl", "mldsl.service",
            "mldsl.notebook",
            "mldsl.backends.native", "mldsl_std"} <= set(packages())


@pytest.mark.parametrize("package", packages())
def test_no_import_cycle_inside_the_package(package):
    """Inside each package, counting the package's ``__init__`` (a module importing its own package's
    ``__init__``, which imports that module, is a cycle too)."""
    cycles = describe_cycles(package)
    assert cycles == [], f"import cycles inside {package}:\n" + "\n".join(cycles)


if __name__ == "__main__":  # lists the import cycles inside every package (each under the innermost)
    found: dict = {}
    for pkg in sorted(packages(), key=len):
        for line in describe_cycles(pkg):
            found[line] = pkg
    for line, pkg in sorted(found.items(), key=lambda item: item[1]):
        print(f"{pkg}: {line}")
