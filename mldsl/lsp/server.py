"""The language server: pygls wiring of the features (each in its own module) to the LSP methods.

Each open document is compiled again on open, change and save (``analysis.analyse``); the result is
kept per document for completion, hover, symbols, definitions and references, and its errors are
published as diagnostics."""
from __future__ import annotations

from typing import Dict, List, Optional

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from mldsl import __version__
from mldsl.errors import MldslError
from mldsl.lsp.actions import quick_fixes
from mldsl.lsp.analysis import Analysis, analyse
from mldsl.lsp.completion import completion_items
from mldsl.lsp.diagnostics import diagnostics
from mldsl.lsp.formatting import format_edits
from mldsl.lsp.hover import hover
from mldsl.lsp.signature import TRIGGER_CHARACTERS as SIGNATURE_TRIGGERS, signature_help
from mldsl.lsp.symbols import definition, document_symbols, references, rename
from mldsl.lsp.tokens import TOKEN_MODIFIERS, TOKEN_TYPES, semantic_tokens
from mldsl.service.completion import RegistryInfo

#: Characters after which an editor asks for completions without being told to.
TRIGGER_CHARACTERS = [".", "(", ",", "=", "{", '"', "/"]


class MlxLanguageServer(LanguageServer):
    """A pygls server holding the analysis of every open ``.mlx`` document."""

    def __init__(self) -> None:
        super().__init__("mldsl", __version__)
        self.analyses: Dict[str, Analysis] = {}
        self.registry_info = RegistryInfo()

    @property
    def encoding(self) -> str:
        """The position encoding agreed with the client (``utf-16`` unless it offered another)."""
        kind = self.workspace.position_encoding
        return str(getattr(kind, "value", kind) or "utf-16")

    def refresh(self, uri: str) -> None:
        """Compiles the document ``uri`` again and publishes its diagnostics."""
        document = self.workspace.get_text_document(uri)
        path = document.path or "<untitled>"
        analysis = analyse(document.source, path, self.analyses.get(uri))
        self.analyses[uri] = analysis
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=document.version, diagnostics=diagnostics(analysis, self.encoding)))

    def analysis(self, uri: str) -> Analysis:
        """The analysis of the document ``uri`` (made now if the document has not been seen)."""
        if uri not in self.analyses:
            self.refresh(uri)
        return self.analyses[uri]


def _position(params) -> tuple:
    return params.position.line, params.position.character


def build_server() -> MlxLanguageServer:
    """A server with every feature registered."""
    server = MlxLanguageServer()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: MlxLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.analyses.pop(params.text_document.uri, None)
        ls.refresh(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: MlxLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.refresh(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: MlxLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        for uri in list(ls.analyses):  # any open document may import the file just saved
            ls.refresh(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: MlxLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.analyses.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                            diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=TRIGGER_CHARACTERS))
    def completion(ls: MlxLanguageServer, params: types.CompletionParams) -> types.CompletionList:
        items = completion_items(ls.analysis(params.text_document.uri), _position(params), ls.registry_info,
                                 ls.encoding)
        return types.CompletionList(is_incomplete=False, items=items)

    @server.feature(types.TEXT_DOCUMENT_SIGNATURE_HELP,
                    types.SignatureHelpOptions(trigger_characters=SIGNATURE_TRIGGERS))
    def signature(ls: MlxLanguageServer, params: types.SignatureHelpParams) -> Optional[types.SignatureHelp]:
        return signature_help(ls.analysis(params.text_document.uri), _position(params), ls.registry_info,
                              ls.encoding)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: MlxLanguageServer, params: types.HoverParams) -> Optional[types.Hover]:
        return hover(ls.analysis(params.text_document.uri), _position(params), encoding=ls.encoding)

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def symbols(ls: MlxLanguageServer, params: types.DocumentSymbolParams) -> List[types.DocumentSymbol]:
        return document_symbols(ls.analysis(params.text_document.uri), ls.encoding)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def goto_definition(ls: MlxLanguageServer, params: types.DefinitionParams) -> Optional[types.Location]:
        uri = params.text_document.uri
        return definition(ls.analysis(uri), uri, _position(params), ls.encoding)

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    def find_references(ls: MlxLanguageServer, params: types.ReferenceParams) -> List[types.Location]:
        uri = params.text_document.uri
        return references(ls.analysis(uri), uri, _position(params), params.context.include_declaration,
                          ls.encoding, ls.analyses)

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT)
    def highlight(ls: MlxLanguageServer, params: types.DocumentHighlightParams) -> List[types.DocumentHighlight]:
        uri = params.text_document.uri
        return [types.DocumentHighlight(range=location.range)
                for location in references(ls.analysis(uri), uri, _position(params), True, ls.encoding)]

    @server.feature(types.TEXT_DOCUMENT_RENAME)
    def rename_name(ls: MlxLanguageServer, params: types.RenameParams) -> Optional[types.WorkspaceEdit]:
        uri = params.text_document.uri
        try:
            return rename(ls.analysis(uri), uri, _position(params), params.new_name, ls.encoding, ls.analyses)
        except MldslError as exc:  # the editor shows the message
            raise JsonRpcException(str(exc), code=types.LSPErrorCodes.RequestFailed) from None

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: MlxLanguageServer, params: types.DocumentFormattingParams) -> List[types.TextEdit]:
        document = ls.workspace.get_text_document(params.text_document.uri)
        return format_edits(document.source, document.path or "<untitled>", ls.encoding)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    def code_actions(ls: MlxLanguageServer, params: types.CodeActionParams) -> List[types.CodeAction]:
        return quick_fixes(params.text_document.uri, params.context.diagnostics)

    @server.feature(types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
                    types.SemanticTokensLegend(token_types=TOKEN_TYPES, token_modifiers=TOKEN_MODIFIERS))
    def tokens(ls: MlxLanguageServer, params: types.SemanticTokensParams) -> types.SemanticTokens:
        document = ls.workspace.get_text_document(params.text_document.uri)
        return types.SemanticTokens(data=semantic_tokens(document.source, ls.encoding))

    return server


def serve() -> int:
    """Runs the server on stdin/stdout until the client exits. Anything else printing to stdout (a
    plugin, a warning) goes to stderr instead, so that it cannot break the protocol's stream."""
    import sys

    protocol_out = sys.stdout.buffer
    sys.stdout = sys.stderr
    build_server().start_io(sys.stdin.buffer, protocol_out)
    return 0
