"""Syntax highlighting of ``.mlx`` text: a Pygments lexer.

``MlxLexer`` is registered under Pygments' ``pygments.lexers`` entry point (alias ``mlx``, files
``*.mlx``), so any Pygments-based tool highlights ``.mlx`` files::

    pygmentize -l mlx mnist.mlx
    pygments.lexers.get_lexer_by_name("mlx")

``MlxReplLexer`` adds the REPL's ``:commands``. Importing this module imports Pygments (never the
rest of mldsl).
"""
from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (Comment, Keyword, Name, Number, Operator, Punctuation, String, Text,
                            Whitespace)

__all__ = ["MlxLexer", "MlxReplLexer", "KEYWORDS", "CONSTANTS", "HYPER_PRIMITIVES"]

#: Words that start a statement.
STATEMENT_KEYWORDS = ("import", "let", "experiment", "patch", "search")
#: All keywords of the language (``over`` in ``search``, ``with`` in derived values).
KEYWORDS = STATEMENT_KEYWORDS + ("over", "with")
#: Literal constants.
CONSTANTS = ("true", "false", "True", "False", "none", "None", "inf", "nan")
#: Hyper primitives and search settings the language knows by name.
HYPER_PRIMITIVES = ("oneof", "manyof", "floatv", "intv")

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_FLOAT = r"[+-]?(?:[0-9]+\.[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)"


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
            (r"#[^\n]*", Comment.Single),
            # `let x`, `experiment mnist`, `patch big_batch`, `search tune`
            (r"\b(let|experiment|patch|search)(\s+)(" + _NAME + r")",
             bygroups(Keyword.Declaration, Whitespace, Name.Variable)),
            (r"\b(import)\b", Keyword.Namespace),
            (words(("over", "with"), prefix=r"\b", suffix=r"\b"), Keyword),
            (r"-inf\b", Keyword.Constant),
            (words(CONSTANTS, prefix=r"\b", suffix=r"\b"), Keyword.Constant),
            (r'"(?:[^"\\\n]|\\.)*"', String.Double),
            (r"'(?:[^'\\\n]|\\.)*'", String.Single),
            (r'"[^\n]*|\'[^\n]*', String),  # an unterminated string (while typing)
            (_FLOAT, Number.Float),
            (r"[+-]?[0-9]+", Number.Integer),
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
