"""The symbolic core has no import cycle: its modules form layers (leaves, ``base``, ``typing``,
``formatting``/``json_io``, the node types, then ``ops``/``symbolize``). Imports inside functions count
as much as those at the top of a file, since a lazy import is still a dependency."""
import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "mldsl" / "symbolic"
PREFIX = "mldsl.symbolic"


def _module_name(path: pathlib.Path) -> str:
    return PREFIX if path.stem == "__init__" else f"{PREFIX}.{path.stem}"


def import_graph() -> dict:
    """module -> the modules of this package it imports (at any level)."""
    modules = {_module_name(p): p for p in PACKAGE.glob("*.py")}
    graph = {}
    for name, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from mldsl.symbolic import typing` imports the submodule; `... import Dict` the package
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                           for a in node.names]
            else:
                continue
            deps.update(t for t in targets if t in modules and t != name)
        graph[name] = deps
    return graph


def cycles(graph: dict) -> list:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_inside_the_symbolic_package():
    assert cycles(import_graph()) == []


def test_only_the_package_init_imports_the_package():
    importers = sorted(m for m, deps in import_graph().items() if PREFIX in deps)
    assert importers == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
