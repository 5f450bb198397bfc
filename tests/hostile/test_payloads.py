"""Payload suites: JSON documents (PyGlove-style ``_type`` names of ``os.system``, ``subprocess.Popen``,
``builtins.eval``, ``__import__``, dunder attributes, ...), ``.mlx`` programs, REPL input and
``:load``, and imports, all run in one process watched by an audit hook (``payload_worker.py``).

Asserted for every payload: 0 modules imported, 0 code objects compiled or executed, 0 processes
started, 0 files opened outside the payload folder, no marker file created by a command, no byte of
the planted secrets (a file outside the root, a ``.txt`` inside it, an environment variable) in any
output, and no exception other than mldsl's own errors. The figures are printed (``pytest -s``).
"""
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("payload_worker.py")
SECRET = "s3cr3t-payload-5b2c"

CALLABLES = ["os.system", "posix.system", "subprocess.Popen", "subprocess.run", "subprocess.check_output",
             "builtins.eval", "builtins.exec", "builtins.__import__", "builtins.open", "builtins.compile",
             "__import__", "eval", "exec", "open", "compile", "getattr", "pickle.loads", "marshal.loads",
             "ctypes.CDLL", "importlib.import_module", "runpy.run_path", "code.interact", "pty.spawn",
             "shutil.rmtree", "os.remove", "webbrowser.open", "types.FunctionType", "functools.partial",
             "operator.attrgetter", "object", "type", "mldsl.symbolic.symbolize.Functor",
             "mldsl.symbolic.symbolize._ClassWrapper", "mldsl.symbolic.Object", "mldsl.components.Component",
             "mldsl.components.Dataset", "Dense.__init__", "Dense.__class__", "Dense.__reduce__",
             "Dense.__globals__", "std.Dense.__init__.__globals__", "mldsl_std.layers.os", "__builtins__",
             "__main__", "os", "sys.modules", "Experiment.__subclasses__", "", " ", "Dense ", "\u0000"]


def json_payloads(marker: str):
    cmd = f"touch {marker}"
    docs = []
    for name in CALLABLES:
        docs += [{"_type": name}, {"_type": name, "command": cmd}, {"_type": name, "args": ["touch", marker]},
                 {"_type": "Experiment", "model": {"_type": name, "cmd": cmd}, "data": {"_type": "Digits"}}]
    docs += [{"_type": 1}, {"_type": None}, {"_type": ["os.system"]}, {"_type": {"_type": "os.system"}},
             {"_type": "Dense", "units": 3, "__class__": {"_type": "os.system"}},
             {"_type": "Dense", "units": 3, "__init__": cmd}, {"_type": "Dense", "units": 3, "__reduce__": [cmd]},
             {"_type": "Dense", "units": 3, "__dict__": {"units": cmd}},
             {"_type": "Dense", "units": 3, "_sym_values": {"units": cmd}},
             {"_type": "Dense", "units": {"_type": "os.system", "command": cmd}},
             {"_type": "Dense", "units": 3, "activation": {"_type": "builtins.eval", "source": "1"}},
             {"_tuple": [{"_type": "os.system"}]}, {"_float": "__import__('os')"},
             {"_dict": {"_type": "os.system"}}, {"_type": "Dense", "_type_": "os.system", "units": 3},
             {"_type": "Sequential", "layers": [{"_type": "subprocess.Popen", "args": [cmd]}]},
             {"_type": "oneof", "candidates": [{"_type": "os.system"}]},
             {"_type": "Search", "space": {"_type": "os.system"}, "trials": 1}]
    return docs



def mlx_payloads(marker: str, outside: Path):
    cmd = f"touch {marker}"
    base = ("experiment base = Experiment(model=Sequential([Dense(10, activation=\"softmax\")]), "
            "data=Digits())\n")
    texts = [f'let x = {name}("{cmd}")' for name in CALLABLES if name.strip() and "\0" not in name
             and not name.startswith("std.")]
    texts += [
        'let x = __import__("os").system("' + cmd + '")', 'let x = Dense(3).__class__',
        "let x = Dense(__class__=1)", "let x = Dense(units=3, __init__=1)", "let x = Dense(units=3, _sym_values={})",
        base + f'experiment e = base with os.system(cmd="{cmd}")',
        base + f"experiment e = base with 'os.system?cmd={cmd}'",
        base + "experiment e = base with '__import__?name=os'",
        base + "experiment e = base with 'relu_to_elu?__class__=1'",
        base + "experiment e = base with { __class__ = 1 }",
        base + "experiment e = base with { model.__dict__ = 1 }",
        base + "experiment e = base with { model._sym_values = 1 }",
        base + "experiment e = base with { model.layers[0].__init__ = 1 }",
        base + f'search s over base {{ algorithm = os.system("{cmd}") trials = 1 objective = maximize("accuracy") }}',
        # an objective names a metric: the string is looked up in the history, never evaluated
        base + f'search s over base {{ trials = 1 objective = maximize("__import__(\'os\').system(\'{cmd}\')") }}',
        base + 'search s over base { trials = 1 objective = maximize("accuracy") early_stopping = eval("1") }',
        base + f'search s over base {{ trials = 1 objective = {cmd.replace(" ", "_")}("accuracy") }}',
        f'let x = oneof([os.system("{cmd}")])', 'let x = floatv(0, 1, scale="__import__")',
        'import "/etc/passwd"', 'import "/proc/self/environ"', f'import "{outside}/secret.mlx"',
        f'import "{outside}/secret.txt"', 'import "../outside/secret.mlx"', 'import "secret-link.mlx"',
        'import "notes.txt"', 'import "notes-link.mlx"', f'import "{outside}"', 'import "/dev/zero"',
        'import "/dev/zero.mlx"', 'import "\\x00.mlx"', 'import "payload-0.mlx"',  # itself: a cycle
    ]
    return texts


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("payloads")
    outside = tmp / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"password = {SECRET}\n")
    (outside / "secret.mlx").write_text(f"let leaked = {SECRET}(\n")
    folder = tmp / "root"
    (folder / "warm").mkdir(parents=True)
    (folder / "notes.txt").write_text(f"{SECRET}\n")
    (folder / "secret-link.mlx").symlink_to(outside / "secret.mlx")
    (folder / "notes-link.mlx").symlink_to(folder / "notes.txt")
    marker = str(tmp / "PWNED")
    payloads = []
    for k, doc in enumerate(json_payloads(marker)):
        path = folder / f"payload-{k}.json"
        path.write_text(json.dumps(doc))
        for argv in (["check", str(path)], ["show", str(path)], ["show", "--json", str(path)]):
            payloads.append({"id": f"json-{k}-{argv[0]}{len(argv)}", "suite": "json", "kind": "cli",
                             "argv": argv})
        payloads.append({"id": f"json-{k}-load", "suite": "repl", "kind": "repl", "text": [f":load {path}"]})
    for k, text in enumerate(mlx_payloads(marker, outside)):
        path = folder / f"payload-{k}.mlx"
        path.write_text(text + "\n")
        suite = "import" if text.startswith("import") else "mlx"
        for argv in (["check", str(path)], ["show", str(path)], ["space", str(path)]):
            payloads.append({"id": f"mlx-{k}-{argv[0]}", "suite": suite, "kind": "cli", "argv": argv})
        payloads.append({"id": f"mlx-{k}-load", "suite": "repl", "kind": "repl", "text": [f":load {path}"]})
        payloads.append({"id": f"mlx-{k}-typed", "suite": "repl", "kind": "repl",
                         "text": text.split("\n") + [":show x", ":show e", ":space e"]})
    payloads.append({"id": "repl-commands", "suite": "repl", "kind": "repl", "text": [
        ":show os.system", ":show __import__", ":patch os os.system", ":patch x 'os.system?cmd=1'",
        # (a .mlx file named on :load is read like one named on the command line: the user chose it)
        f":load {outside / 'secret.txt'}", ":load /etc/passwd",
        ":load /proc/self/environ", f":query {SECRET} .", ":space __class__", ":diff os sys"]})
    manifest = tmp / "manifest.json"
    manifest.write_text(json.dumps({"folder": str(folder), "payloads": payloads}))
    results = tmp / "results.jsonl"
    env = {**os.environ, "HOSTILE_SECRET": SECRET, "MLDSL_STORE": str(folder / "store.db")}
    proc = subprocess.run([sys.executable, str(WORKER), str(manifest), str(results)], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    by_id = {p["id"]: p for p in payloads}
    records = [dict(r, suite=by_id[r["id"]]["suite"]) for r in lines[:-1]]
    return records, lines[-1]["new_modules"], marker


def violations(record):
    """The audit events of a payload other than ``ast.literal_eval`` parsing a patch-string value
    (a ``compile`` to an AST only: no code object is made or run)."""
    return [e for e in record["events"] if e[0] != "literal_eval"]


def figures(records):
    table = {}
    for r in records:
        c = table.setdefault(r["suite"], Counter())
        c["tried"] += 1
        leaked = SECRET in r["output"] or "root:x:0:0" in r["output"]
        ran = [e for e in r["events"] if e[0] not in ("open", "import", "literal_eval")]
        c["traceback"] += bool(r["crashes"])
        c["leaked"] += leaked
        c["imported"] += any(e[0] == "import" for e in r["events"])
        c["ran code"] += bool(ran)
        c["opened outside"] += any(e[0] == "open" for e in r["events"])
        c["literal_eval"] += any(e[0] == "literal_eval" for e in r["events"])
        c["clean"] += not (r["crashes"] or leaked or violations(r))
    return table


def test_no_payload_imports_runs_or_shows_anything(outcome):
    records, new_modules, marker = outcome
    table = figures(records)
    print()
    for suite, c in sorted(table.items()):
        print(f"payloads {suite:7}: " + ", ".join(f"{k} {c[k]}" for k in
              ("tried", "clean", "traceback", "imported", "ran code", "opened outside", "leaked",
               "literal_eval")))
    bad = [r for r in records if r["crashes"] or violations(r) or SECRET in r["output"]]
    assert not bad, json.dumps(bad[:5], indent=1)[:6000]
    assert new_modules == []
    assert not os.path.exists(marker)
    assert sum(c["tried"] for c in table.values()) == len(records) > 1200


def test_every_payload_was_refused_with_a_reason(outcome):
    """The payloads did not pass silently: each names what it refused (or is a plain syntax error);
    a search whose objective names a metric "__import__(...)" or whose early_stopping is `eval("1")`
    is refused by `check` too (an unknown metric, an unknown early-stopping rule)."""
    records, _, _ = outcome
    passed = [r["id"] for r in records if r["id"].endswith("-check") and "error[" not in r["output"]]
    assert passed == []
    outputs = "\n".join(r["output"] for r in records)
    assert "mldsl never imports modules" in outputs
    assert "error[E013]: import refused" in outputs


def test_the_audit_hook_sees_imports_commands_opens_and_leaks(tmp_path):
    """Guards the suite itself: a worker whose REPL run imports a module, runs a command, opens a
    file outside the folder and prints a secret reports each of them."""
    folder = tmp_path / "root"
    (folder / "warm").mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    sabotage = (f"\n    import os, xml.dom.minidom\n    os.system('true')\n"
                f"    out.write(open({str(secret)!r}).read())\n")
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER.read_text().replace("    out = io.StringIO()\n", "    out = io.StringIO()" + sabotage, 1))
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"folder": str(folder), "payloads": [
        {"id": "sabotaged", "suite": "guard", "kind": "repl", "text": ["let x = 1"]}]}))
    results = tmp_path / "results.jsonl"
    proc = subprocess.run([sys.executable, str(worker), str(manifest), str(results)], cwd=folder,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    record, modules = [json.loads(line) for line in results.read_text().splitlines()]
    kinds = {e[0] for e in record["events"]}
    assert {"import", "os.system", "open"} <= kinds
    assert SECRET in record["output"]
    assert "xml.dom.minidom" in modules["new_modules"]
