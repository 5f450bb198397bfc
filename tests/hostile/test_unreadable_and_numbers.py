"""Files and literals that used to end in a Python traceback now give a diagnostic with its position,
through every entry point that reads them: ``mldsl check/show/run/search FILE``, ``mldsl.load``,
``mldsl.parse`` (text) and the REPL's ``:load``."""
import contextlib
import io
import json
import re

import pytest

import mldsl
from mldsl.cli import main
from mldsl.dsl.api import load_module
from mldsl.dsl.diagnostics import MlxError
from mldsl.repl.shell import OK, Repl

LOCATION = re.compile(r"^(?P<file>[^\s:]+):(?P<line>\d+):(?P<col>\d+): error\[(?P<code>E\d{3})\]", re.M)


def entry_points(path):
    """(name, rendered output, outcome) of each entry point reading ``path``: exit code or 'raised'."""
    results = []
    for argv in (["check", path], ["show", path], ["run", path, "--no-store"], ["search", path, "--trials", "1"]):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
        results.append((argv[0], out.getvalue() + err.getvalue(), code))
    try:
        load_module(path)
        results.append(("load_module", "", 0))
    except MlxError as exc:
        results.append(("load_module", exc.render(), 2))
    out, err = io.StringIO(), io.StringIO()
    status = Repl(out=out, err=err, color=False).handle(f":load {path}")
    results.append((":load", err.getvalue(), 0 if status == OK else 2))
    return results


def assert_diagnosed_everywhere(path, code, line, col):
    for name, text, outcome in entry_points(path):
        assert outcome == 2, f"{name}: {text}"
        assert "Traceback" not in text and "Error:" not in text.split("error[")[0], f"{name}: {text}"
        m = LOCATION.search(text)
        assert m, f"{name} printed no file:line:col diagnostic: {text!r}"
        assert (m["code"], int(m["line"]), int(m["col"])) == (code, line, col), f"{name}: {text}"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


# ------------------------------------------------------------------------------------- decoding

def test_invalid_utf8_in_mlx_is_diagnosed_at_the_first_bad_byte():
    with open("bad.mlx", "wb") as f:
        f.write('let a = "é"\nlet b = "ok\xff"\n'.encode("utf-8").replace(b"\xc3\xbf", b"\xff"))
    assert_diagnosed_everywhere("bad.mlx", "E012", 2, 12)
    (err,) = mldsl.dsl.check("bad.mlx")
    assert "not UTF-8 text" in err.message
    assert err.render().splitlines()[1] == ' 2 | let b = "ok\ufffd"'  # the line, the byte replaced


def test_invalid_utf8_in_json_is_diagnosed_at_the_first_bad_byte():
    with open("bad.json", "wb") as f:
        f.write(b'{"_type": "Dense",\n "units": 3, "name": "x\xc3"}')
    assert_diagnosed_everywhere("bad.json", "E012", 2, 24)


@pytest.mark.parametrize("encoding, kind", [("utf-16", "UTF-16"), ("utf-32", "UTF-32"), ("latin-1", "UTF-8")])
def test_other_encodings_are_named(encoding, kind):
    with open("enc.mlx", "wb") as f:
        f.write('let naïve = "café"\n'.encode(encoding))
    (err,) = mldsl.dsl.check("enc.mlx")
    assert err.code == "E012" and (kind in err.message)


def test_a_utf8_bom_is_skipped():
    with open("bom.mlx", "wb") as f:
        f.write(b"\xef\xbb\xbflet width = 3\n")
    with open("bom.json", "wb") as f:
        f.write(b'\xef\xbb\xbf{"width": 3}')
    assert mldsl.load_mlx("bom.mlx")["width"] == 3
    assert mldsl.load("bom.json")["width"] == 3
    assert main(["check", "bom.mlx", "bom.json"]) == 0


# -------------------------------------------------------------------------------------- numbers

@pytest.mark.parametrize("literal, col, words", [
    ("9" * 5000, 14, "does not fit in a signed 64-bit integer"),              # int() would refuse: 4300 digits
    ("1" + "0" * 30, 14, "does not fit in a signed 64-bit integer"),          # batch_size = 10**30
    ("-9223372036854775809", 14, "does not fit in a signed 64-bit integer"),  # int64 min - 1
    ("1" + "0" * 400 + ".0", 14, "too large for a 64-bit float; write inf"),  # inf in disguise
    ("-1e400", 14, "too large for a 64-bit float; write -inf"),
])
def test_number_literals_out_of_range_are_errors(literal, col, words):
    with open("n.mlx", "w") as f:
        f.write(f"let hidden = 8\nlet big =    {literal}\nlet ok = hidden\n")
    assert_diagnosed_everywhere("n.mlx", "E024", 2, col)
    errors = mldsl.dsl.check("n.mlx")
    assert len(errors) == 1 and words in errors[0].message  # no follow-on error for `big`
    assert len(errors[0].render()) < 600  # a 5,000-digit literal is not echoed whole


def test_int64_bounds_are_accepted_and_leading_zeros_do_not_count():
    module = mldsl.parse("let a = 9223372036854775807\nlet b = -9223372036854775808\n"
                         f"let c = {'0' * 5000}42\nlet d = 1.7976931348623157e308\n")
    assert (module["a"], module["b"], module["c"]) == (2**63 - 1, -2**63, 42)
    assert module["d"] == 1.7976931348623157e308


def test_a_path_index_out_of_range_is_an_error():
    with pytest.raises(MlxError) as info:
        mldsl.parse("let x = {a = [1]}\nlet y = x with { a[" + "9" * 5000 + "] = 2 }\n")
    assert info.value.code == "E024"


@pytest.mark.parametrize("doc, code, words", [
    ('{"units": ' + "9" * 5000 + "}", "E024", "does not fit in a signed 64-bit integer"),
    ('{"a": [1, 2e400]}', "E024", 'write {"_float": "inf"}'),
    ("[" * 3000 + "]" * 3000, "E007", "nested more than 200 deep"),
    ('{"a": {"b": ' + "[" * 250 + "]" * 250 + "}}", "E007", "nested more than 200 deep"),
    ('{"a": "\\ud800"}', "E024", "lone surrogate"),
    ('{"_type": "mldsl.components.Dataset"}', "E020", "'mldsl.components.Dataset' is not a registered component"),
    ('{"_type": "mldsl.components.Layer", "units": 3}', "E020", "use a registered layer"),
])
def test_json_limits_are_errors(doc, code, words):
    with open("v.json", "w") as f:
        f.write(doc)
    with pytest.raises(MlxError) as info:
        mldsl.load("v.json")
    assert info.value.code == code and words in info.value.message
    assert main(["check", "v.json"]) == 2


def test_json_nested_within_the_limit_round_trips():
    value = json.loads("[" * 200 + "1" + "]" * 200)
    with open("deep.json", "w") as f:
        json.dump(value, f)
    assert mldsl.load("deep.json") == value


def test_deep_json_error_points_at_the_bracket_past_the_limit():
    with open("deep.json", "w") as f:
        f.write("[\n" + "[" * 300 + "]" * 301)
    assert_diagnosed_everywhere("deep.json", "E007", 2, 200)


# ----------------------------------------------------------------------------------- surrogates

@pytest.mark.parametrize("text, col", [('let s = "a\\ud800"', 11), ("let s = 'x\\udfff'", 11),
                                       ('let s = "\\U0000d800"', 10)])
def test_a_lone_surrogate_escape_is_refused_at_parse_time(text, col):
    with open("s.mlx", "w") as f:
        f.write(text + "\n")
    assert_diagnosed_everywhere("s.mlx", "E003", 1, col)
    assert main(["show", "--json", "s.mlx"]) == 2


def test_a_raw_surrogate_in_text_given_to_parse_is_refused():
    with pytest.raises(MlxError) as info:
        mldsl.parse('let s = "ab\ud800"')
    assert info.value.code == "E003" and (info.value.line, info.value.column) == (1, 12)


def test_strings_print_as_json_and_mlx(capsys):
    with open("ok.mlx", "w") as f:
        f.write('let s = "\\U0001F600 \\u00e9 \\x00"\n')
    assert main(["show", "--json", "ok.mlx"]) == 0 and main(["show", "ok.mlx"]) == 0
    out = capsys.readouterr().out
    assert "\U0001F600" in out
