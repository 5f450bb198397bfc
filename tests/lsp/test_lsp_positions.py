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
    start, end = span_range(text, err.line, err.column, err.end_line, err.end_column)
    assert (start, end) == ((1, 17), (1, 21))  # 15 code points before Dens, two of them 2 units each
    assert lines[1][from_character(lines[1], start[1]):from_character(lines[1], end[1])] == "Dens"
    assert span_range(text, err.line, err.column, err.end_line, err.end_column, "utf-32") == ((1, 15), (1, 19))


def test_spans_about_the_whole_file_empty_or_past_the_end():
    text = "let x = 1\n"
    assert span_range(text, 0, 0, 0, 0) == ((0, 0), (0, 0))
    assert span_range(text, 1, 5, 1, 5) == ((0, 4), (0, 5))  # empty: widened to one character
    assert span_range(text, 1, 10, 1, 11) == ((0, 9), (0, 9))  # a missing token at the end of the line
    assert span_range(text, 1, 5, 2, 1) == ((0, 4), (1, 0))  # several lines
    assert span_range(text, 9, 1, 9, 2) == ((1, 0), (1, 0))  # past the last line: clamped


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


def test_a_lone_carriage_return_ends_an_lsp_line_but_not_an_mldsl_one():
    """mldsl counts lines at ``\\n`` only, LSP also at a lone ``\\r``: after one, a diagnostic, its quick
    fix, a document symbol and a definition still land on the name the compiler meant (they landed a
    line above, at the compiler's line number)."""
    from mldsl.lsp.analysis import analyse
    from mldsl.lsp.diagnostics import diagnostics
    from mldsl.lsp.symbols import definition, document_symbols

    text = "let a = 1\rlet b = Dens(3)\nlet c = b\n"
    [err] = compile_source(text)[1]
    assert (err.code, err.line) == ("E020", 1)  # one mldsl line ...
    analysis = analyse(text, "<doc>")
    [diagnostic] = diagnostics(analysis)
    lines = source_lines(text)  # ... two LSP lines
    r = diagnostic.range
    assert (r.start.line, r.end.line) == (1, 1)
    assert lines[1][r.start.character:r.end.character] == "Dens"
    assert diagnostic.data == {"replacements": ["Dense"]}
    text = text.replace("Dens(", "Dense(")
    analysis = analyse(text, "<doc>")
    symbols = {s.name: s.selection_range for s in document_symbols(analysis)}
    assert (symbols["b"].start.line, symbols["b"].start.character) == (1, 4)
    assert (symbols["c"].start.line, symbols["c"].start.character) == (2, 4)
    target = definition(analysis, "file:///doc.mlx", (2, 8))  # the `b` of `let c = b`
    assert (target.range.start.line, target.range.start.character) == (1, 4)


def test_an_error_in_an_imported_file_links_to_its_lsp_line_there(tmp_path):
    """The link into the imported file counted that file's lines as mldsl does: a lone ``\\r`` before the
    error's line put the link a line too high."""
    from mldsl.lsp.analysis import analyse
    from mldsl.lsp.diagnostics import diagnostics

    (tmp_path / "lib.mlx").write_bytes(b"let a = 1\rlet b = 2\nlet bad = Dens(3)\n")  # mldsl line 2, LSP line 2
    [diagnostic] = diagnostics(analyse('import "lib.mlx"\n', str(tmp_path / "main.mlx")))
    assert diagnostic.code == "E020" and diagnostic.range.start.line == 0  # on the import
    [related] = diagnostic.related_information
    r = related.location.range
    assert (r.start.line, r.start.character, r.end.line, r.end.character) == (2, 10, 2, 14)


def test_a_documents_lines_are_indexed_once_for_all_its_positions():
    """An outline or a diagnostics list converts thousands of spans of one document: each conversion is a
    lookup in one line index per text, not a scan of the text (which made a 3,000-line file's outline take
    seconds), and gives what scanning gives."""
    from mldsl.lsp import positions as P
    text = "".join(f"experiment e{i} = base with {{ a = {i} }}\r\n" if i % 3 else f"let x{i} = 1\r" for i in range(600))
    P._lsp_lines.cache_clear()
    P._mldsl_lines.cache_clear()
    for line in range(1, 400, 7):
        start, end = P.span_range(text, line, 2, line, 6)
        assert P.offset_at(text, start) <= P.offset_at(text, end)
        assert P.position_at(text, P.offset_at(text, start)) == start
    assert P._lsp_lines.cache_info().misses == 1 and P._mldsl_lines.cache_info().misses == 1
    lines = P.source_lines(text)                           # the index agrees with the plain split
    for row in (0, 1, 2, 299, len(lines) - 1):
        offset = P.offset_at(text, (row, 0))
        assert P.position_at(text, offset) == (row, 0)
        assert text[offset:offset + len(lines[row])] == lines[row]
