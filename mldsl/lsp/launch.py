"""The ``mldsl lsp`` verb. pygls is imported only when the server starts, so that ``import mldsl`` and
the other verbs never need it."""
from __future__ import annotations

from mldsl.errors import MldslError

INSTALL_HINT = 'the language server needs pygls and Pygments: pip install "mldsl[lsp]"'


def add_parsers(subparsers) -> None:
    """Adds ``lsp``."""
    p = subparsers.add_parser(
        "lsp", help="language server for editors (LSP on stdin/stdout)",
        description="A Language Server Protocol server on stdin/stdout, for editors: diagnostics as `mldsl "
                    "check` reports them with quick fixes, completion, signature help, hover with schemas "
                    "and provenance, outline, go to definition, references, rename, semantic tokens and "
                    "formatting as `mldsl fmt` does. Start it from the editor (see the README's Editors "
                    "section), not by hand.")
    p.set_defaults(handler=cmd_lsp)


def cmd_lsp(args) -> int:
    try:
        from mldsl.lsp.server import serve
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("pygls", "lsprotocol", "pygments"):
            raise
        raise MldslError(INSTALL_HINT) from None

    return serve()
