"""Runs fuzz inputs through mldsl's entry points, in-process, one after another; started by
``fuzz_harness.run_inputs`` as ``python fuzz_worker.py MANIFEST RESULTS EXTRA_MEMORY``: after warming
up it caps its address space (RLIMIT_AS) at its size then plus EXTRA_MEMORY bytes.

For each input (smallest first) it appends to RESULTS one JSON line ``{"id", "entry", "start": true}``
before running it and one with the outcome after, so the parent knows which input was running if this
process hangs or dies. An entry is ``check``/``show`` (``mldsl.cli.main``) or ``load`` (the REPL's
``:load``). Outcome fields: ``status`` (``clean``, ``traceback``, ``no-position``, ``over-memory``),
``exit``, ``seconds``, ``rss_growth`` (bytes of peak RSS while the input ran above the RSS before it:
the kernel's peak, ``VmHWM``, is reset before each input through ``/proc/self/clear_refs``),
``detail``.
"""
import contextlib
import io
import json
import re
import resource
import sys
import time
import traceback

#: what a diagnostic looks like: ``file:line:col: error[E012]``, or ``file: error[E012]`` for one
#: about the whole file (too large, not a regular file)
DIAGNOSTIC = re.compile(r"^[^\n]*?(?::\d+:\d+)?: error\[E\d{3}\]", re.M)


def memory(field: str) -> int:
    """``VmRSS``, ``VmHWM`` (peak RSS) or ``VmSize`` of this process, in bytes (0 if unknown)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def reset_peak() -> None:
    """Makes ``VmHWM`` the current RSS (Linux: writing 5 to ``/proc/self/clear_refs``)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def run_cli(argv):
    from mldsl.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def run_repl_load(path):
    from mldsl.errors import MldslError
    from mldsl.repl.shell import OK, Repl

    crashes = []

    class Recording(Repl):
        def report(self, exc):
            if not isinstance(exc, MldslError):
                crashes.append("".join(traceback.format_exception(exc)))
            super().report(exc)

    out, err = io.StringIO(), io.StringIO()
    status = Recording(out=out, err=err, color=False).handle(f':load "{path}"')
    if crashes:
        raise RuntimeError(crashes[0])
    return (0 if status == OK else 2), out.getvalue(), err.getvalue()


def classify(code, out, err):
    if code == 0:
        return "clean", ""
    if code == 2 and DIAGNOSTIC.search(err):
        return "clean", ""
    return "no-position", f"exit {code}: {err[-300:]!r}"


def main(manifest_path, results_path, extra_memory):
    warm = results_path + ".warm.mlx"
    with open(warm, "w") as f:
        f.write('let w = Dense(3)\nexperiment e = Experiment(model=Sequential([w]), data=Digits())\n')
    for argv in (["check", warm], ["show", warm]):
        run_cli(argv)
    run_repl_load(warm)
    limit = memory("VmSize") + int(extra_memory)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    with open(manifest_path) as f:
        manifest = json.load(f)
    with open(results_path, "a") as results:
        for item in manifest:
            for entry in item["entries"]:
                results.write(json.dumps({"id": item["id"], "entry": entry, "start": True}) + "\n")
                results.flush()
                reset_peak()
                before = memory("VmRSS")
                start = time.perf_counter()
                try:
                    if entry == "load":
                        code, out, err = run_repl_load(item["path"])
                    else:
                        code, out, err = run_cli([entry, item["path"]])
                    status, detail = classify(code, out, err)
                except MemoryError:
                    code, status, detail = None, "over-memory", "MemoryError"
                except BaseException as exc:  # noqa: BLE001 - anything that escapes is the finding
                    code, status = None, "traceback"
                    detail = "".join(traceback.format_exception(exc))[-2000:]
                record = {"id": item["id"], "entry": entry, "status": status, "exit": code,
                          "seconds": round(time.perf_counter() - start, 3),
                          "rss_growth": max(memory("VmHWM") - before, 0), "detail": detail}
                results.write(json.dumps(record) + "\n")
                results.flush()


if __name__ == "__main__":
    main(*sys.argv[1:])
