"""Semantic tokens: the Pygments lexer's tokens in the LSP encoding (relative positions, UTF-16 lengths)."""
import pytest

pytest.importorskip("pygments")

from mldsl.lsp.tokens import TOKEN_MODIFIERS, TOKEN_TYPES, semantic_tokens  # noqa: E402


def decode(text, data, encoding="utf-16"):
    """(line, character, token text, type, modifiers) of each encoded token (ASCII-only text here,
    except where a test says so)."""
    lines = text.splitlines()
    out, line, start = [], 0, 0
    for i in range(0, len(data), 5):
        dl, ds, length, kind, bits = data[i:i + 5]
        line, start = line + dl, (start + ds if dl == 0 else ds)
        units = lines[line].encode("utf-16-le")
        shown = units[2 * start:2 * (start + length)].decode("utf-16-le")
        out.append((line, start, shown, TOKEN_TYPES[kind],
                    tuple(m for n, m in enumerate(TOKEN_MODIFIERS) if bits & (1 << n))))
    return out


def test_each_kind_of_token_gets_its_type():
    text = ('import "common.mlx"\n'
            'experiment e = Experiment(model=Dense(3, activation="relu"), seed=oneof([1, 2.5]))  # note\n'
            'let t = e with { training.batch_size = none }\n')
    tokens = decode(text, semantic_tokens(text))
    assert tokens == [
        (0, 0, "import", "keyword", ()), (0, 7, '"common.mlx"', "string", ()),
        (1, 0, "experiment", "keyword", ()), (1, 11, "e", "variable", ("declaration",)),
        (1, 13, "=", "operator", ()), (1, 15, "Experiment", "class", ()), (1, 26, "model", "property", ()),
        (1, 31, "=", "operator", ()), (1, 32, "Dense", "class", ()), (1, 38, "3", "number", ()),
        (1, 41, "activation", "property", ()), (1, 51, "=", "operator", ()), (1, 52, '"relu"', "string", ()),
        (1, 61, "seed", "property", ()), (1, 65, "=", "operator", ()),
        (1, 66, "oneof", "function", ("defaultLibrary",)), (1, 73, "1", "number", ()),
        (1, 76, "2.5", "number", ()), (1, 84, "# note", "comment", ()),
        (2, 0, "let", "keyword", ()), (2, 4, "t", "variable", ("declaration",)), (2, 6, "=", "operator", ()),
        (2, 8, "e", "variable", ()), (2, 10, "with", "keyword", ()),
        (2, 17, "training.batch_size", "property", ()), (2, 37, "=", "operator", ()),
        (2, 39, "none", "keyword", ()),
    ]


def test_positions_and_lengths_count_utf16_units_and_crlf_ends_lines():
    text = 'let s = "\U0001F600"\r\nlet n = 1'
    tokens = decode(text, semantic_tokens(text))
    assert (0, 8, '"\U0001F600"', "string", ()) in tokens  # 4 UTF-16 units long
    assert tokens[-1] == (1, 8, "1", "number", ())
    assert semantic_tokens(text, "utf-32")[5 * 3 + 2] == 3  # the string: 3 code points
