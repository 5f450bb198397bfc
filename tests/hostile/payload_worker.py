"""Runs code-execution and file-disclosure payloads through mldsl with an audit hook watching; started
by ``test_payloads.py`` as ``python payload_worker.py MANIFEST RESULTS``.

It warms up first (every reader, printer and REPL path the payloads reach, so that modules mldsl imports
lazily are already loaded), then records ``set(sys.modules)`` and installs ``sys.addaudithook``. From
then on it records every ``import`` of a module, every ``exec``/``compile`` of code, every process
started (``subprocess.Popen``, ``os.system``, ``os.exec*``, ``os.spawn*``, ``os.posix_spawn``,
``os.fork``), every ``ctypes``/``pickle``/``marshal`` use and every ``open`` of a path outside the
payload folder. Each payload's outcome (one JSON line in RESULTS): its output, whether a non-mldsl
exception escaped (``crash``), and the events it caused.

MANIFEST: ``{"folder": ..., "payloads": [{"id", "kind": "cli"|"repl", "argv" | "text"}]}``.
"""
import contextlib
import io
import json
import os
import sys
import traceback

WATCHED = ("exec", "compile", "subprocess.Popen", "os.system", "os.exec", "os.spawn", "os.posix_spawn",
           "os.fork", "os.forkpty", "pty.spawn", "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata",
           "pickle.find_class", "marshal.loads", "marshal.load", "code.__new__", "function.__new__",
           "socket.connect", "urllib.Request", "os.remove", "os.rename", "shutil.rmtree", "os.kill",
           "webbrowser.open", "sys._getframe", "object.__setattr__", "object.__delattr__")


def warm_up(folder):
    from mldsl.cli import main
    from mldsl.repl.shell import Repl

    program = os.path.join(folder, "warm.mlx")
    with open(program, "w") as f:
        f.write('import "warm_lib.mlx"\n'
                'experiment e = Experiment(model=Sequential([Flatten(), Dense(oneof([8, 16]), activation="relu"),'
                ' Dense(10, activation="softmax")]), data=Digits(), training={num_epochs = 1, '
                'optimizer = SGD(learning_rate=floatv(0.01, 0.1))})\n'
                "patch p { training.batch_size = 64 }\n"
                "experiment f = e with p, relu_to_elu, 'scale_width?factor=2', { training.num_epochs = 2 }\n"
                'search s over e { algorithm = evolution(population_size=4, tournament_size=2) trials = 2 '
                'objective = maximize("accuracy") early_stopping = median(after=1) }\n')
    broken = os.path.join(folder, "broken.mlx")
    with open(broken, "w") as f:
        f.write("let bad = Dense(units=0)\nlet worse = Dence(3)\nlet x = 1e400\nlet y = (\n"
                'import "/etc/passwd"\nimport "../x.mlx"\nlet z = os.system("x")\n')
    with open(os.path.join(folder, "warm_lib.mlx"), "w") as f:
        f.write("let lib_width = 3\n")
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        for argv in (["check", program], ["show", program], ["show", "--json", program], ["show", "--mlx", program],
                     ["explain", program + ":f", "training.batch_size"], ["space", program + ":s"],
                     ["check", broken], ["show", broken], ["space", broken]):
            main(argv)
        repl = Repl(out=sink, err=sink, color=False)
        for text in (f":load {broken}", f":load {program}", ":show f", ":diff e f", ":query f units", ":space e",
                     ":patch e relu_to_elu --print", "let z = Dense(3) with {units = 4}", "nonsense(",
                     ":names", ":source", ":help"):
            repl.handle(text)
        json_file = os.path.join(folder, "warm.json")
        import mldsl

        mldsl.symbolic.save(mldsl.load_mlx(program)["f"], json_file)
        for argv in (["check", json_file], ["show", json_file]):
            main(argv)
        repl.handle(f":load {json_file}")
        for bad in ('{"_type": "os.system"}', '{"_type": "mldsl.components.Layer"}', "[" * 300, '{"a": 1e400}',
                    b"\xff"):
            path = os.path.join(folder, "warm-bad.json")
            with open(path, "wb") as f:
                f.write(bad if isinstance(bad, bytes) else bad.encode())
            main(["check", path])


def run(payload, folder):
    from mldsl.cli import main
    from mldsl.errors import MldslError
    from mldsl.repl.shell import Repl

    out = io.StringIO()
    crashes = []
    if payload["kind"] == "cli":
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                main(payload["argv"])
        except BaseException as exc:  # noqa: BLE001 - what escapes is the finding
            crashes.append("".join(traceback.format_exception(exc))[-1500:])
    else:
        class Recording(Repl):
            def report(self, exc):
                if not isinstance(exc, MldslError):
                    crashes.append("".join(traceback.format_exception(exc))[-1500:])
                super().report(exc)

        repl = Recording(out=out, err=out, color=False)
        for text in payload["text"]:
            repl.handle(text)
    return out.getvalue(), crashes


def _from_literal_eval() -> bool:
    """Whether the ``compile`` being audited is ``ast.literal_eval`` parsing a literal to an AST (no
    code object is made; mldsl's patch strings use it for their values)."""
    frame = sys._getframe(3)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "literal_eval" and code.co_filename.endswith(os.sep + "ast.py"):
            return True
        frame = frame.f_back
    return False


def main(manifest_path, results_path):
    with open(manifest_path) as f:
        manifest = json.load(f)
    folder = os.path.realpath(manifest["folder"])
    warm_up(os.path.join(folder, "warm"))
    before = set(sys.modules)
    events = []

    busy = []  # set while the hook runs: its own audited calls (sys._getframe) are not the payload's

    def note(event, args):
        if event == "compile" and _from_literal_eval():
            events.append(("literal_eval", repr(args)[:200]))
        elif event == "import":
            events.append(("import", str(args[0])))
        elif event == "open":
            path = args[0]
            if isinstance(path, int):
                return
            path = os.path.realpath(os.fsdecode(path))
            if not path.startswith(folder + os.sep):
                events.append(("open", path))
        elif event.startswith(WATCHED):
            events.append((event, repr(args)[:200]))

    def hook(event, args):
        if busy:
            return
        busy.append(True)
        try:
            note(event, args)
        finally:
            busy.pop()

    results = open(results_path, "w")
    sys.addaudithook(hook)
    for payload in manifest["payloads"]:
        del events[:]
        output, crashes = run(payload, folder)
        record = {"id": payload["id"], "output": output[-20000:], "crashes": crashes, "events": list(events)}
        results.write(json.dumps(record) + "\n")
        results.flush()
    results.write(json.dumps({"new_modules": sorted(set(sys.modules) - before)}) + "\n")
    results.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
