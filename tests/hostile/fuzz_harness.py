"""Fuzz inputs for mldsl's file readers, and the harness that runs them with a time and memory limit.

Families: ``mutation`` (byte-level mutations of the examples: truncations, flips, deletions,
insertions of awkward bytes and tokens, duplications, splices), ``encoding`` (the examples in UTF-16,
UTF-32, Latin-1, cp1252, with a BOM, with CRLF), ``json`` (mutations of the examples' experiments saved
as JSON), ``grammar`` (Hypothesis programs drawn from ``grammars/mlx.lark``, with real component
names), ``size`` (the costly cases: thousands of broken statements, long strings, long lists, deep
nesting, huge numbers, files over the size limit).

``run_inputs`` writes the inputs to files and runs them in ``fuzz_worker.py`` processes, many inputs
per process (smallest first), each process with a capped address space; an input running past its
deadline is a ``hang`` (the worker is killed and a new one takes the rest), one whose worker died is
``lost``, one whose peak RSS grew past ``memory_budget(size)`` is ``over-memory``.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.mlx"))
WORKER = Path(__file__).with_name("fuzz_worker.py")
STATUSES = ("clean", "traceback", "no-position", "hang", "over-memory", "lost")

#: Peak RSS an input may add to a warmed-up worker: a floor for the interpreter's own churn, plus a
#: multiple of the file's size (every list element of a .mlx file becomes a token, a parse-tree node,
#: an IR node with its span, a compiled value and its provenance: about 1 KB per 4-byte element).
MEMORY_FLOOR = 96 << 20
MEMORY_PER_BYTE = 500
#: Address space a worker may add after warming up (RLIMIT_AS): a runaway allocation fails there.
EXTRA_ADDRESS_SPACE = 3 << 30


def memory_budget(size: int) -> int:
    return MEMORY_FLOOR + MEMORY_PER_BYTE * size


def deadline(size: int) -> float:
    """Seconds one entry point may take on an input of ``size`` bytes before it counts as a hang
    (generous: CI machines are shared; the costly 1 MiB cases take about 6 s here)."""
    return 30.0 + 40.0 * size / (1 << 20)


def examples_per_family() -> int:
    """``$MLDSL_FUZZ_EXAMPLES`` (the long run), else 0: each family's short default."""
    return int(os.environ.get("MLDSL_FUZZ_EXAMPLES") or 0)


@dataclass
class Input:
    id: str
    family: str
    data: bytes
    suffix: str = ".mlx"
    entries: Tuple[str, ...] = ("check", "show")


# ------------------------------------------------------------------------------------ mutations

AWKWARD = [b"(", b")", b"[", b"]", b"{", b"}", b",", b"=", b'"', b"'", b"\\", b"\\u", b"\\ud800", b"#",
           b"\n", b"\r", b"\t", b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"1e400",
           b"9" * 30, b"-", b".", b"let ", b"experiment ", b"patch ", b"search ", b" over ", b" with ",
           b"import ", b'import "/etc/passwd"\n', b'import "../../x.mlx"\n', b"inf", b"nan", b"none",
           b"__import__", b"os.system", b"\xf0\x9f\x98\x80", b"\xe2\x80\xae", b"[" * 150, b"0x1F"]


def mutate(rng: random.Random, data: bytes, others: List[bytes]) -> bytes:
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(7)
        n = len(data)
        i, j = sorted((rng.randint(0, n), rng.randint(0, n)))
        if op == 0:
            data = data[:rng.randint(0, n)]
        elif op == 1 and n:
            buf = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                buf[rng.randrange(n)] = rng.randrange(256)
            data = bytes(buf)
        elif op == 2:
            data = data[:i] + data[j:]
        elif op == 3:
            data = data[:i] + rng.choice(AWKWARD) * rng.randint(1, 3) + data[i:]
        elif op == 4:
            data = data[:j] + data[i:j] * rng.randint(1, 4) + data[j:]
        elif op == 5:
            other = rng.choice(others)
            k = rng.randint(0, len(other))
            data = data[:i] + other[k:k + rng.randint(0, 400)] + data[j:]
        else:
            lines = data.split(b"\n")
            a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[a], lines[b] = lines[b], lines[a]
            data = b"\n".join(lines)
    return data


def mutations(count: int, seed: int = 1) -> List[Input]:
    rng = random.Random(seed)
    sources = [p.read_bytes() for p in EXAMPLES]
    out = []
    for k in range(count):
        data = mutate(rng, rng.choice(sources), sources)
        entries = ("check", "show", "load") if k % 5 == 0 else ("check", "show")
        out.append(Input(f"mutation-{k}", "mutation", data, entries=entries))
    return out


def encodings() -> List[Input]:
    out = []
    for p in EXAMPLES:
        text = p.read_text().replace("# ", "# é ñ 😀 ", 2)
        variants = {"utf-16": text.encode("utf-16"), "utf-16-le": text.encode("utf-16-le"),
                    "utf-32": text.encode("utf-32"), "latin-1": text.replace("😀", "").encode("latin-1"),
                    "cp1252": text.replace("😀", "€").encode("cp1252"),
                    "bom": b"\xef\xbb\xbf" + text.encode(), "crlf": text.replace("\n", "\r\n").encode(),
                    "nul": text.encode().replace(b"\n", b"\x00\n", 3)}
        out += [Input(f"encoding-{p.stem}-{name}", "encoding", data, entries=("check", "show", "load"))
                for name, data in variants.items()]
    return out


def json_inputs(count: int, seed: int = 2) -> List[Input]:
    import mldsl
    from mldsl import symbolic as sym

    sources = []
    for p in EXAMPLES:
        module = mldsl.load_mlx(p)
        sources += [sym.to_json_str(v, indent=1).encode() for v in module.experiments.values()]
    rng = random.Random(seed)
    out = [Input(f"json-{k}", "json", src, ".json") for k, src in enumerate(sources)]
    for k in range(count):
        out.append(Input(f"json-mut-{k}", "json", mutate(rng, rng.choice(sources), sources), ".json"))
    return out


# ------------------------------------------------------------------------------- grammar programs

def grammar_programs(count: int) -> List[Input]:
    """``count`` programs drawn by Hypothesis from the grammar (keywords spaced so that they lex as
    keywords; names drawn partly from the registry, so components, patchers and algorithms resolve)."""
    import warnings

    from hypothesis import HealthCheck, Phase, given, settings, strategies as st
    from hypothesis.extra.lark import from_lark

    from mldsl.dsl.parser import get_lark
    from mldsl.registry import get_registry

    lark = get_lark()
    registry = get_registry()
    names = sorted(set(registry.names()) | set(registry.patchers()) |
                   {"oneof", "manyof", "floatv", "intv", "evolution", "random", "maximize", "minimize",
                    "median", "model", "layers", "training", "optimizer", "units", "learning_rate"})
    explicit = {t.name: st.just(f" {t.pattern.value} ") for t in lark.terminals
                if t.pattern.type == "str" and t.pattern.value.strip("-").isalpha()}
    explicit["NAME"] = st.one_of(st.sampled_from(names),
                                 st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,8}\Z")).map(lambda n: f" {n} ")
    programs: List[str] = []

    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(from_lark(lark, explicit=explicit))
    def collect(text):
        programs.append(text)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        collect()
    return [Input(f"grammar-{k}", "grammar", text.encode("utf-8", "surrogatepass"))
            for k, text in enumerate(programs)]


# ------------------------------------------------------------------------------------ size cases

def size_cases(long: bool = False) -> List[Input]:
    from mldsl.textfile import MAX_TEXT_BYTES

    rng = random.Random(3)

    def listing(nbytes: int) -> bytes:
        items, n = [], 0
        while n < nbytes:
            items.append(str(rng.randint(0, 1000)))
            n += len(items[-1]) + 2
        return ("let l = [" + ", ".join(items) + "]\n").encode()

    cases = {
        "broken-lets-8000": "".join(f"let x{i} = (\n" for i in range(8000)).encode(),
        "string-900k": b'let s = "' + b"a" * 900_000 + b'"\n',
        "escapes-300k": b'let s = "' + b"\\n" * 150_000 + b'"\n',
        "unterminated-strings": b'let s = "abc\n' * 20_000,
        "comment-line-1m": b"#" + b"x" * (MAX_TEXT_BYTES - 10) + b"\n",
        "list-200k": listing(200_000),
        "nested-list-3000": b"let x = " + b"[" * 3000 + b"]" * 3000 + b"\n",
        "nested-calls-3000": b"let x = " + b"Dense(" * 3000 + b")" * 3000 + b"\n",
        "unbalanced-open-50k": b"let x = " + b"(" * 50_000 + b"\n",
        "int-5000-digits": b"let x = " + b"9" * 5000 + b"\n",
        "float-1e400": b"let x = 1" + b"0" * 400 + b".0\nlet y = 1e400\n",
        "list-3mb": listing(3_000_000),
        "string-5mb": b'let s = "' + b"a" * 5_000_000 + b'"\n',
        "deep-json-3000": (b"[" * 3000 + b"]" * 3000, ".json"),
        "json-int-5000-digits": (b'{"a": ' + b"9" * 5000 + b"}", ".json"),
        "json-list-500k": (json.dumps([rng.randint(0, 1000) for _ in range(100_000)]).encode(), ".json"),
    }
    if long:
        cases["list-1mb"] = listing(MAX_TEXT_BYTES - 100)
        cases["string-1mb"] = b'let s = "' + b"b" * (MAX_TEXT_BYTES - 100) + b'"\n'
        cases["statements-50k"] = "".join(f"let v{i} = {i}\n" for i in range(50_000)).encode()
        cases["calls-30k"] = ("let l = [" + ", ".join("Dense(3)" for _ in range(30_000)) + "]\n").encode()
        cases["broken-lets-80k"] = "".join(f"let x{i} = (\n" for i in range(80_000)).encode()[:MAX_TEXT_BYTES]
    out = []
    for name, value in cases.items():
        data, suffix = value if isinstance(value, tuple) else (value, ".mlx")
        out.append(Input(f"size-{name}", "size", data, suffix, ("check",)))
    return out


# ----------------------------------------------------------------------------------------- runner

def run_inputs(inputs: Iterable[Input], workdir: Path) -> List[dict]:
    """Runs every entry point of every input; one result dict per (input, entry), with ``family``,
    ``size`` and ``status`` (one of ``STATUSES``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "examples" / "common.mlx", workdir / "common.mlx")  # what the examples import
    by_id: Dict[str, Input] = {}
    manifest = []
    for item in sorted(inputs, key=lambda i: len(i.data)):
        path = workdir / f"{item.id}{item.suffix}"
        path.write_bytes(item.data)
        by_id[item.id] = item
        manifest.append({"id": item.id, "path": str(path), "entries": list(item.entries)})
    results: List[dict] = []
    done = set()
    attempt = 0
    while True:
        todo = [dict(m, entries=[e for e in m["entries"] if (m["id"], e) not in done]) for m in manifest]
        todo = [m for m in todo if m["entries"]]
        if not todo:
            break
        attempt += 1
        manifest_path = workdir / f"manifest-{attempt}.json"
        results_path = workdir / f"results-{attempt}.jsonl"
        manifest_path.write_text(json.dumps(todo))
        results_path.write_text("")
        proc = subprocess.Popen([sys.executable, str(WORKER), str(manifest_path), str(results_path),
                                 str(EXTRA_ADDRESS_SPACE)], cwd=workdir, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env={**os.environ, "MLDSL_DEBUG": "", "NO_COLOR": "1"})
        started: Tuple[str, str, float] = None
        read = 0
        seen = 0
        stderr_tail = b""
        while True:
            with open(results_path) as f:
                f.seek(read)
                chunk = f.read()
            complete = chunk[:chunk.rfind("\n") + 1]
            read += len(complete)
            for line in complete.splitlines():
                seen += 1
                rec = json.loads(line)
                if rec.get("start"):
                    started = (rec["id"], rec["entry"], time.monotonic())
                    continue
                started = None
                results.append(_finish(rec, by_id))
                done.add((rec["id"], rec["entry"]))
            if proc.poll() is not None:
                stderr_tail = proc.stderr.read()[-2000:]
                break
            if started and time.monotonic() - started[2] > deadline(len(by_id[started[0]].data)):
                proc.kill()
                proc.wait()
                break
            time.sleep(0.05)
        if started is not None:  # the input in progress when the worker hung or died
            item_id, entry, t0 = started
            hung = proc.returncode is not None and proc.returncode < 0 and \
                time.monotonic() - t0 > deadline(len(by_id[item_id].data))
            status = "hang" if hung else "lost"
            results.append(_finish({"id": item_id, "entry": entry, "status": status, "exit": proc.returncode,
                                    "seconds": round(time.monotonic() - t0, 3), "rss_growth": 0,
                                    "detail": stderr_tail.decode(errors="replace")}, by_id))
            done.add((item_id, entry))
        elif proc.returncode != 0 and (not seen or attempt > 2 * len(manifest) + 5):
            raise RuntimeError(f"fuzz worker failed before any input: {stderr_tail.decode(errors='replace')}")
    return results


def _finish(rec: dict, by_id: Dict[str, Input]) -> dict:
    item = by_id[rec["id"]]
    rec = dict(rec, family=item.family, size=len(item.data))
    if rec["status"] == "clean" and rec["rss_growth"] > memory_budget(rec["size"]):
        rec["status"] = "over-memory"
    return rec


def tally(results: List[dict]) -> Dict[str, Counter]:
    """family -> Counter of statuses (plus ``tried``, ``max_seconds``, ``max_rss_growth_mb``)."""
    out: Dict[str, Counter] = defaultdict(Counter)
    for r in results:
        c = out[r["family"]]
        c["tried"] += 1
        c[r["status"]] += 1
        c["max_seconds"] = max(c["max_seconds"], r["seconds"])
        c["max_rss_growth_mb"] = max(c["max_rss_growth_mb"], r["rss_growth"] >> 20)
    return dict(out)


def report(results: List[dict]) -> str:
    lines = [f"{'family':10} {'tried':>6} " + " ".join(f"{s:>11}" for s in STATUSES) + "  max s  max MB"]
    for family, c in sorted(tally(results).items()):
        lines.append(f"{family:10} {c['tried']:6} " + " ".join(f"{c[s]:11}" for s in STATUSES) +
                     f"  {c['max_seconds']:5.1f}  {c['max_rss_growth_mb']:6}")
    bad = [r for r in results if r["status"] != "clean"]
    for r in bad[:20]:
        lines.append(f"{r['status']}: {r['id']} ({r['entry']}, {r['size']} bytes): {r['detail'][-600:]}")
    return "\n".join(lines)
