"""The language server and ``mldsl check`` on the fuzz suite's inputs (``fuzz_harness``: mutated
examples, other encodings, grammar programs): the same error codes in the same order, at the same
places. ``check`` says ``FILE:LINE:COL`` with lines ended by ``\\n`` only; LSP positions are 0-based,
in UTF-16 code units, on lines ended by ``\\n``, ``\\r\\n`` or a lone ``\\r`` -- both are turned into
offsets in the text here, each by its own rule."""
import codecs
import contextlib
import io
import random
import re
import shutil

import pytest

import fuzz_harness as fh
from mldsl.cli import main

pytest.importorskip("lsprotocol")

from mldsl.lsp.analysis import analyse  # noqa: E402
from mldsl.lsp.diagnostics import diagnostics  # noqa: E402

#: One error of ``mldsl check``: ``FILE:LINE:COL: error[CODE]``, ``FILE: error[CODE]`` (the whole file) or
#: ``FILE:NAME: error[E050]`` (what the backend of the definition NAME cannot run).
CHECK_ERROR = re.compile(r"^(?P<file>[^:\n]+)(?::(?P<line>\d+):(?P<column>\d+)|:(?P<name>[^:\s]+))?: "
                         r"error\[(?P<code>E\d+)\]", re.M)


def check_offset(text, line, column):
    """The code-point offset of ``check``'s 1-based LINE:COL (lines at ``\\n``; clamped to the line)."""
    lines = text.split("\n")
    row = min(line, len(lines)) - 1
    return sum(len(body) + 1 for body in lines[:row]) + min(column - 1, len(lines[row]))


def lsp_offset(text, line, character):
    """The code-point offset of an LSP position (UTF-16 ``character``; lines at \\n, \\r\\n and \\r)."""
    pieces = re.split(r"(\r\n|\r|\n)", text)
    bodies, ends = pieces[0::2], pieces[1::2] + [""]
    offset = sum(len(b) + len(e) for b, e in zip(bodies[:line], ends[:line]))
    units = 0
    for index, char in enumerate(bodies[line]):
        if units >= character:
            return offset + index
        units += 2 if ord(char) > 0xFFFF else 1
    return offset + len(bodies[line])


def explicit_backends(count, seed=4):
    """The examples with ``backend = "native"`` in every ``Experiment(...)`` (Conv2D cannot run there:
    E050), and ``count`` mutations of them."""
    rng = random.Random(seed)
    sources = [p.read_bytes().replace(b"Experiment(", b'Experiment(backend="native", ') for p in fh.EXAMPLES]
    mutated = [fh.mutate(rng, rng.choice(sources), sources) for _ in range(count)]
    return [fh.Input(f"native-{k}", "native", data) for k, data in enumerate(sources + mutated)]


def fuzz_texts():
    """(id, bytes, text) of the fuzz inputs an editor would open as UTF-8 text (BOM dropped)."""
    inputs = fh.mutations(100) + fh.encodings() + fh.grammar_programs(60) + explicit_backends(40)
    for item in inputs:
        data = item.data[len(codecs.BOM_UTF8):] if item.data.startswith(codecs.BOM_UTF8) else item.data
        try:
            yield item.id, item.data, data.decode("utf-8")
        except UnicodeDecodeError:
            continue


def test_the_language_server_reports_what_check_reports_on_every_fuzz_input(tmp_path):
    for example in fh.EXAMPLES:  # imports of the examples resolve
        shutil.copy(example, tmp_path)
    compared = with_errors = 0
    codes = set()
    for name, data, text in fuzz_texts():
        path = tmp_path / f"{name}.mlx"
        path.write_bytes(data)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            status = main(["check", str(path)])
        checked = [m for m in CHECK_ERROR.finditer(err.getvalue())]
        served = diagnostics(analyse(text, str(path)))
        where = f"{name}: check said\n{err.getvalue()[:2000]}"
        assert [d.code for d in served] == [m["code"] for m in checked], where
        assert (status == 2) == bool(checked), where
        for found, diagnostic in zip(checked, served):
            start = diagnostic.range.start
            if found["file"] != str(path):  # an error in an imported file: shown on the import
                assert diagnostic.message.startswith(found["file"]), where
            elif found["name"] is not None:  # a backend's: on the definition's name
                assert diagnostic.message.startswith(f"{found['name']}: "), where
                begin = lsp_offset(text, start.line, start.character)
                end = lsp_offset(text, diagnostic.range.end.line, diagnostic.range.end.character)
                assert text[begin:end] == found["name"], where
            elif found["line"] is None:  # about the whole file: its start
                assert (start.line, start.character) == (0, 0), where
            else:
                expected = check_offset(text, int(found["line"]), int(found["column"]))
                assert lsp_offset(text, start.line, start.character) == expected, (where, diagnostic.range)
        compared += 1
        with_errors += bool(checked)
        codes.update(m["code"] for m in checked)
    assert compared > 150 and with_errors > 100, (compared, with_errors)  # the grammar programs vary per run
    assert {"E001", "E002", "E013", "E020", "E050"} <= codes, codes
