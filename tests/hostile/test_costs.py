"""Small inputs with large costs: syntax-error recovery is linear, a string literal costs no memory per
character in the lexer, files over 1 MiB and brackets nested past 100 are refused with a position."""
import time
import tracemalloc

import pytest

import mldsl
from mldsl.dsl.api import check
from mldsl.dsl.parser import MAX_NESTING, get_lark, parse_program
from mldsl.textfile import MAX_TEXT_BYTES


def broken_lets(n: int) -> str:
    return "".join(f"let x{i} = (\n" for i in range(n))


def test_recovery_lexes_each_statement_once(monkeypatch):
    """Recovery re-parses statement by statement; the text handed to the parser must add up to the
    file, not to the sum of every prefix (the old padding made 8,000 broken lines cost 42 s)."""
    lark = get_lark()
    fed = []
    original = lark.parse_interactive
    monkeypatch.setattr(lark, "parse_interactive", lambda text, *a, **k: fed.append(len(text)) or
                        original(text, *a, **k))
    text = broken_lets(2000)
    program = parse_program(text, "r.mlx")
    assert len(program.errors) == 2000
    assert sum(fed) <= len(text)
    last = program.errors[-1]
    assert (last.line, last.column, last.source_line) == (2000, 13, "let x1999 = (\n")


def test_eight_thousand_broken_statements_take_seconds_not_minutes(tmp_path):
    path = tmp_path / "broken.mlx"
    path.write_text(broken_lets(8000))  # 110 KB
    start = time.perf_counter()
    errors = check(str(path))
    assert len(errors) == 8000 and {e.code for e in errors} == {"E001"}
    assert time.perf_counter() - start < 20  # ~0.5 s here; it was 42 s


def test_recovered_statements_keep_their_positions_and_comments():
    text = "let a = 1  # one\nlet b = (\n\n  # two\nlet c = [1,\n  2]  # three\nlet d = ]\n"
    program = parse_program(text, "p.mlx")
    assert [(e.line, e.column, e.source_line) for e in program.errors] == [
        (2, 9, "let b = (\n"), (7, 9, "let d = ]\n")]
    assert [s.name for s in program.statements] == ["a", "c"]
    c = program.statements[1]
    assert (c.span.line, c.value.items[1].span.line, c.value.items[1].span.column) == (5, 6, 3)
    assert text[c.value.items[1].span.start:c.value.items[1].span.end] == "2"
    assert [(k.text, k.span.line, k.span.column) for k in program.comments] == [("# one", 1, 12),
                                                                                ("# three", 6, 7)]
    assert text[program.comments[1].span.start:].startswith("# three")


def test_a_long_string_literal_costs_no_lexer_memory_per_character():
    text = 'let s = "' + "a" * 900_000 + '"\n'
    lark = get_lark()
    tracemalloc.start()
    try:
        lark.parse(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * len(text)  # the old pattern: ~180 bytes per character


def test_files_over_the_size_limit_are_refused_before_parsing(tmp_path):
    big = tmp_path / "big.mlx"
    big.write_text("let l = [" + "1, " * (MAX_TEXT_BYTES // 3) + "]\n")
    start = time.perf_counter()
    (err,) = check(str(big))
    assert err.code == "E012" and "larger than 1 MiB" in err.message
    assert err.render().startswith(f"{big}: error[E012]")
    assert time.perf_counter() - start < 5  # a 3 MB list took over 30 s and 1.1 GB
    with pytest.raises(mldsl.MlxError):
        mldsl.load_mlx(big)


def test_nesting_past_the_limit_has_a_caret_at_the_first_bracket_too_deep():
    deep = "[" * (MAX_NESTING + 5) + "]" * (MAX_NESTING + 5)
    for text, line in ((f"let ok = 1\nlet x = {deep}\n", 2),
                       (f"let ok = (\nlet x = {deep}\n", 2)):  # also while recovering from an error
        errors = parse_program(text, "n.mlx").errors
        (err,) = [e for e in errors if e.code == "E007"]
        assert (err.line, err.column) == (line, 9 + MAX_NESTING)
        assert err.render().splitlines()[2].rstrip().endswith("^")
    flat = "let x = " + "[" * MAX_NESTING + "]" * MAX_NESTING + "\n"
    assert parse_program(flat * 3, "ok.mlx").errors == []


def test_unclosed_brackets_of_broken_statements_do_not_add_up_to_a_nesting_error():
    errors = parse_program(broken_lets(MAX_NESTING * 2), "b.mlx").errors
    assert {e.code for e in errors} == {"E001"}
