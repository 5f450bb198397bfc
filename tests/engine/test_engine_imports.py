"""The engine's modules import each other one way (no cycle, counting imports inside functions)."""
import ast
import pathlib

ENGINE = pathlib.Path(__file__).resolve().parents[2] / "mldsl" / "engine"


def _engine_imports(path: pathlib.Path) -> set:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "mldsl.engine":
                found |= {a.name for a in node.names}
            elif node.module.startswith("mldsl.engine."):
                found.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[2] for a in node.names if a.name.startswith("mldsl.engine.")}
    return found - {path.stem}


def test_no_import_cycle_inside_the_engine():
    graph = {p.stem: _engine_imports(p) for p in ENGINE.glob("*.py")}
    order, state = [], {}

    def visit(module, path):
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", f"import cycle: {' -> '.join(path + [module])}"
        state[module] = "open"
        for dep in sorted(graph.get(module, ())):
            visit(dep, path + [module])
        state[module] = "done"
        order.append(module)

    for module in sorted(graph):
        visit(module, [])
    assert {"store", "search", "runner"} <= set(order)
