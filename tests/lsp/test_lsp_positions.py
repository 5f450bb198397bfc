"""mldsl spans (1-based lines, 1-based code-point columns) and LSP positions (0-based, code units of the
negotiated encoding), both ways, on lines with non-ASCII text."""
from hypothesis import given, settings
from hypothesis import strategies as st

from mldsl.dsl.api import compile_source
from mldsl.lsp.positions import (code_units, from_character, offset_at, position_at, source_lines,
                                 span_range, to_character)

EMOJI = "\U0001F600"  # outside the BMP: 2 UTF-16 code units, 4 UTF-8 bytes


def test_a_character_outside_the_bmp_counts_two_utf16_units():
    line = f'let s = "{EMOJI}é" + x'
    x = line.index("x")
    assert to_character(line, x) == x + 1
    assert to_character(line, x, "utf-8") == x + 3 + 1  # the emoji's 4 bytes, é's 2
    assert to_character(line, x, "utf-32") == x
    assert from_character(line, x + 1) == x
    assert code_units(EMOJI) == 2 and code_units("é") == 1 and code_units("é", "utf-8") == 2


def test_a_position_inside_a_surrogate_pair_goes_to_the_end_of_the_character():
    line = f"a{EMOJI}b"
    assert from_character(line, 2) == 2 and from_character(line, 3) == 2 and from_character(line, 99) == 3


def test_the_span_of_a_compiler_error_after_non_ascii_text():
    text = f'let s = "ü{EMOJI}"\nlet x = ["{EMOJI}{EMOJI}", Dens(3)]\n'
    [err] = compile_source(text)[1]
    assert (err.code, err.line, err.column, err.end_column) == ("E020", 2, 16, 20)
    lines = source_lines(text)
    start, end = span_range(lines, err.line, err.column, err.end_line, err.end_column)
    assert (start, end) == ((1, 17), (1, 21))  # 15 code points before Dens, two of them 2 units each
    assert lines[1][from_character(lines[1], start[1]):from_character(lines[1], end[1])] == "Dens"
    assert span_range(lines, err.line, err.column, err.end_line, err.end_column, "utf-32") == ((1, 15), (1, 19))


def test_spans_about_the_whole_file_empty_or_past_the_end():
    lines = ["let x = 1", ""]
    assert span_range(lines, 0, 0, 0, 0) == ((0, 0), (0, 0))
    assert span_range(lines, 1, 5, 1, 5) == ((0, 4), (0, 5))  # empty: widened to one character
    assert span_range(lines, 1, 10, 1, 11) == ((0, 9), (0, 9))  # a missing token at the end of the line
    assert span_range(lines, 1, 5, 2, 1) == ((0, 4), (1, 0))  # several lines
    assert span_range(lines, 9, 1, 9, 2) == ((1, 0), (1, 0))  # past the last line: clamped


def test_line_ends_count_as_lsp_counts_them():
    text = f"a{EMOJI}\r\nb\rc\nd"
    assert source_lines(text) == [f"a{EMOJI}", "b", "c", "d"]
    assert position_at(text, text.index("b")) == (1, 0)
    assert position_at(text, text.index("d")) == (3, 0)
    assert offset_at(text, (0, 3)) == 2 and offset_at(text, (2, 1)) == text.index("c") + 1
    assert offset_at(text, (9, 0)) == len(text)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a", "é", EMOJI, "\n", "\r\n", "\r", " ", "中"]), max_size=20).map("".join),
       st.data())
def test_offsets_and_positions_round_trip(text, data):
    offset = data.draw(st.integers(0, len(text)))
    if text[offset - 1:offset + 1] == "\r\n":
        return  # between \r and \n: no position of its own
    for encoding in ("utf-16", "utf-8", "utf-32"):
        assert offset_at(text, position_at(text, offset, encoding), encoding) == offset
