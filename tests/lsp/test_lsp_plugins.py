"""An installed plugin's components and patchers appear in the server's completion and hover, as on the
command line: the server runs with the example plugin ``mldsl-hello`` installed (a dist-info with its
entry point on PYTHONPATH), beside a plugin that prints to stdout, which must not break the protocol."""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("pygls")
pytest_lsp = pytest.importorskip("pytest_lsp")
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _site_with_hello() -> str:
    """A folder holding a dist-info of mldsl-hello whose entry point names ``mldsl_hello`` (the source
    under plugins/examples, on PYTHONPATH as well)."""
    site = Path(tempfile.mkdtemp(prefix="mldsl-lsp-site-"))
    atexit.register(shutil.rmtree, site, True)
    info = site / "mldsl_hello-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mldsl-hello\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[mldsl]\nhello = mldsl_hello\nnoisy = mldsl_lsp_noisy\n")
    (site / "mldsl_lsp_noisy.py").write_text('print("a plugin printing to stdout")\n')
    return os.pathsep.join([str(site), str(ROOT / "plugins" / "examples" / "mldsl-hello"),
                            os.environ.get("PYTHONPATH", "")])


ENV = {k: v for k, v in os.environ.items() if not k.startswith("MLDSL_PLUGINS")}
ENV["PYTHONPATH"] = _site_with_hello()


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(
    server_command=[sys.executable, "-m", "mldsl", "lsp"], server_env=ENV))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio(loop_scope="module")
async def test_a_plugins_component_and_patcher_complete_and_hover(client):
    text = "experiment e = Experiment(model=Sequential([Hello"
    uri = Path("/nonexistent/plugin.mlx").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="mlx", version=1, text=text)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=len(text))))
    assert [i.label for i in result.items] == ["HelloDense", "HelloPReLU"]

    text2 = "experiment e = Experiment(model=Sequential([HelloDense(3)]), data=Digits()) with hello_"
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text2)]))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=len(text2))))
    assert [(i.label, i.detail) for i in result.items] == [("hello_dropout", "patcher")]

    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=46)))
    assert hover.contents.value.splitlines()[1].startswith("HelloDense  (layer; plugin hello")
    assert "A dense layer followed by dropout" in hover.contents.value


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_what_a_plugin_prints_goes_to_stderr_and_stdout_holds_only_the_protocol():
    uri = Path("/nonexistent/noisy.mlx").as_uri()
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None,
                                                                      "capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "mlx", "version": 1, "text": "let d = Dens(3)\n"}}},
        {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"},
    ]
    out = subprocess.run([sys.executable, "-m", "mldsl", "lsp"], input=b"".join(map(frame, messages)),
                         capture_output=True, env=ENV, timeout=60)
    assert b"a plugin printing to stdout" in out.stderr
    received, rest = [], out.stdout
    while rest:  # strictly framed messages, nothing between them
        header, separator, rest = rest.partition(b"\r\n\r\n")
        fields = dict(line.split(b": ", 1) for line in header.split(b"\r\n"))
        assert separator and header.startswith(b"Content-Length: "), out.stdout[:200]
        length = int(fields[b"Content-Length"])
        received.append(json.loads(rest[:length]))
        rest = rest[length:]
    diagnostics = next(m for m in received if m.get("method") == "textDocument/publishDiagnostics")
    assert [d["code"] for d in diagnostics["params"]["diagnostics"]] == ["E020"]
    assert received[-1] == {"id": 2, "jsonrpc": "2.0", "result": None} and out.returncode == 0
