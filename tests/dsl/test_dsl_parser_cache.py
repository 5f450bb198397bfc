"""The parser is never loaded from a file another user could write.

Lark's ``cache=True`` keeps a pickle in the shared temp folder, at a name anyone can compute
(``.lark_cache_<user>_<grammar sha>_<python>.tmp``), and unpickles it before any check. These tests
plant a hostile pickle at exactly the name Lark would read for mldsl's grammar and prove that parsing,
``mldsl check`` and the REPL never run it.
"""
import os
import pickle
import subprocess
import sys
import textwrap

import pytest

from mldsl.dsl.parser import get_lark, parse_program

#: the options the grammar is (or was) built with, so that Lark computes the same cache name
_LARK_OPTIONS = dict(parser="lalr", propagate_positions=True, maybe_placeholders=False)


class _Payload:
    """Unpickling this creates ``marker``: proof that the file was unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _plant_hostile_cache(tmpdir, marker):
    """Lets Lark write its cache for mldsl's grammar into ``tmpdir`` (as TMPDIR), then replaces the
    pickles after the grammar's hash line with ``_Payload``. Returns the planted file."""
    script = textwrap.dedent(f"""
        from lark import Lark
        Lark.open_from_package("mldsl.grammars", "mlx.lark", cache=True, **{_LARK_OPTIONS!r})
    """)
    subprocess.run([sys.executable, "-c", script], env={**os.environ, "TMPDIR": str(tmpdir)}, check=True)
    (cache,) = [p for p in tmpdir.iterdir() if p.name.startswith(".lark_cache_")]
    sha_line = cache.read_bytes().split(b"\n", 1)[0]
    cache.write_bytes(sha_line + b"\n" + pickle.dumps(_Payload(str(marker))) * 2)
    return cache


@pytest.fixture
def hostile_tmp(tmp_path):
    tmpdir = tmp_path / "shared-tmp"
    tmpdir.mkdir()
    marker = tmp_path / "payload-ran"
    cache = _plant_hostile_cache(tmpdir, marker)
    env = {**os.environ, "TMPDIR": str(tmpdir), "TMP": str(tmpdir), "TEMP": str(tmpdir)}
    return env, marker, cache


def test_the_planted_cache_would_run_code_if_lark_read_it(hostile_tmp):
    """Guards the test itself: the planted file is the one Lark's cache reads, and reading it runs code."""
    env, marker, _ = hostile_tmp
    script = ("from lark import Lark\n"
              f"Lark.open_from_package('mldsl.grammars', 'mlx.lark', cache=True, **{_LARK_OPTIONS!r})")
    subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
    assert marker.exists()


@pytest.mark.parametrize("argv, stdin", [
    (["-c", "from mldsl.dsl.parser import parse_program; parse_program('let x = 1')"], None),
    (["-m", "mldsl", "check", "{file}"], None),
    (["-m", "mldsl", "repl"], "let x = 1\n"),
])
def test_no_entry_point_reads_a_planted_parser_cache(hostile_tmp, tmp_path, argv, stdin):
    env, marker, cache = hostile_tmp
    mlx = tmp_path / "ok.mlx"
    mlx.write_text("let x = 1\n")
    argv = [a.replace("{file}", str(mlx)) for a in argv]
    proc = subprocess.run([sys.executable, *argv], env=env, input=stdin, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists(), "a parser cache planted in the temp folder was unpickled"
    assert cache.exists()


def test_building_the_parser_writes_nothing_to_the_temp_folder(tmp_path):
    tmpdir = tmp_path / "empty-tmp"
    tmpdir.mkdir()
    script = "from mldsl.dsl.parser import parse_program; assert not parse_program('let x = 1').errors"
    subprocess.run([sys.executable, "-c", script], env={**os.environ, "TMPDIR": str(tmpdir)}, check=True)
    assert list(tmpdir.iterdir()) == []


def test_the_parser_in_this_process_parses():
    assert get_lark() is get_lark()
    assert not parse_program("let x = 1\n").errors
