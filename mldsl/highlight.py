"""Syntax highlighting of ``.mlx`` text: a Pygments lexer.

``MlxLexer`` is registered under Pygments' ``pygments.lexers`` entry point (alias ``mlx``, files
``*.mlx``), so any Pygments-based tool highlights ``.mlx`` files::

    pygmentize -l mlx mnist.mlx
    pygments.lexers.get_lexer_by_name("mlx")

``MlxReplLexer`` adds the REPL's ``:commands``. Importing this module imports Pygments and the
language's vocabulary (``mldsl.dsl.vocabulary``: keywords and token patterns read from the grammar).
"""
from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (Comment, Keyword, Name, Number, Operator, Punctuation, String, Text,
                            Whitespace)

from mldsl.dsl.vocabulary import (CONSTANTS, DEFINING_KEYWORDS, HYPER_PRIMITIVES, KEYWORDS,
                                  NEGATIVE_CONSTANTS, STATEMENT_KEYWORDS, TOKEN_PATTERNS)

__all__ = ["MlxLexer", "MlxReplLexer", "KEYWORDS", "CONSTANTS", "HYPER_PRIMITIVES"]

_NAME = TOKEN_PATTERNS["NAME"]
_FLOAT = TOKEN_PATTERNS["FLOAT"]
_OTHER_KEYWORDS = tuple(k for k in KEYWORDS if k not in STATEMENT_KEYWORDS)  # over, with
_PLAIN_STATEMENT_KEYWORDS = tuple(k for k in STATEMENT_KEYWORDS if k not in DEFINING_KEYWORDS)  # import


def _string(lexer, match):
    """A STRING token: ``String.Double`` or ``String.Single`` by its quote."""
    text = match.group()
    yield match.start(), String.Double if text.startswith('"') else String.Single, text


class MlxLexer(RegexLexer):
    """Pygments lexer for the ``.mlx`` experiment language."""

    name = "MLX"
    aliases = ["mlx"]
    filenames = ["*.mlx"]
    mimetypes = ["text/x-mlx"]
    url = "https://github.com/mldsl/mldsl"

    tokens = {
        "root": [
            (r"[ \t\f\r\n]+", Whitespace),
            (TOKEN_PATTERNS["COMMENT"], Comment.Single),
            # `let x`, `experiment mnist`, `patch big_batch`, `search tune`
            (r"\b(" + "|".join(DEFINING_KEYWORDS) + r")(\s+)(" + _NAME + r")",
             bygroups(Keyword.Declaration, Whitespace, Name.Variable)),
            (words(_PLAIN_STATEMENT_KEYWORDS, prefix=r"\b", suffix=r"\b"), Keyword.Namespace),
            (words(_OTHER_KEYWORDS, prefix=r"\b", suffix=r"\b"), Keyword),
            (words(NEGATIVE_CONSTANTS, suffix=r"\b"), Keyword.Constant),
            (words(CONSTANTS, prefix=r"\b", suffix=r"\b"), Keyword.Constant),
            (TOKEN_PATTERNS["STRING"], _string),
            (r'"[^\n]*|\'[^\n]*', String),  # an unterminated string (while typing)
            (_FLOAT, Number.Float),
            (TOKEN_PATTERNS["INT"], Number.Integer),
            # `Dense(` a component; `oneof(` a hyper primitive; `relu_to_elu(` a patcher call
            (words(HYPER_PRIMITIVES, prefix=r"\b", suffix=r"(?=\s*\()"), Name.Builtin),
            (r"[A-Z][A-Za-z0-9_]*(?=\s*\()", Name.Class),
            (_NAME + r"(?=\s*\()", Name.Function),
            # `units=512` (keyword argument) and `training.batch_size = 256` (path keys)
            (r"(" + _NAME + r"(?:\.(?:" + _NAME + r")|\[[0-9]+\])*)(\s*)(=)",
             bygroups(Name.Attribute, Whitespace, Operator)),
            (_NAME, Name),
            (r"[=?&]", Operator),
            (r"[()\[\]{},.:]", Punctuation),
            (r".", Text),
        ]
    }


class MlxReplLexer(MlxLexer):
    """``.mlx`` plus the REPL's ``:command`` lines (``:show mnist``)."""

    name = "MLX REPL"
    aliases = ["mlx-repl"]
    filenames = []
    mimetypes = []

    tokens = {
        "root": [
            (r"^(\s*)(:[A-Za-z_?]+)", bygroups(Whitespace, Keyword.Pseudo), "command"),
        ] + MlxLexer.tokens["root"],
        "command": [
            (r"\n", Whitespace, "#pop"),
            (r"(?<=\s)--?[A-Za-z][A-Za-z0-9-]*", Name.Label),
            (r"[ \t]+", Whitespace),
            (r'"(?:[^"\\\n]|\\.)*"', String.Double),
            (r"'(?:[^'\\\n]|\\.)*'", String.Single),
            (r"[^\s'\"]+", Text),
            (r".", Text),
        ],
    }
