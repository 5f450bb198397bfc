"""`mldsl lsp` end to end: a real LSP client (pytest-lsp) talks JSON-RPC over stdio to `python -m mldsl lsp`
started as a subprocess. One server for the module; each test opens its own document."""
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")
pytest_lsp = pytest.importorskip("pytest_lsp")
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

import mldsl  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(scope="module",
                    config=ClientServerConfig(server_command=[sys.executable, "-m", "mldsl", "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=EXAMPLES.as_uri()))
    yield
    await lsp_client.shutdown_session()


async def open_document(client: LanguageClient, name: str, text: str, folder: Path = None) -> str:
    """Opens ``text`` as the file ``name`` (in ``folder``, default a folder of its own) and waits for
    its diagnostics; returns the URI."""
    uri = ((folder or Path("/nonexistent/lsp-tests")) / name).as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="mlx", version=1, text=text)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


async def change_document(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)


def doc(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


def at(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


BROKEN = ('experiment e = Experiment(\n'
          '    model=Sequential([Flatten(), Dense(unit=512)]),\n'
          '    data=Digits(),\n'
          ')\n')


async def test_an_error_is_shown_with_its_code_range_and_help_and_goes_when_fixed(client):
    uri = await open_document(client, "broken.mlx", BROKEN)
    [diagnostic] = client.diagnostics[uri]
    assert diagnostic.code == "E021" and diagnostic.source == "mldsl"
    assert diagnostic.message == ("Dense has no parameter 'unit'\nhelp: did you mean 'units'?\nnote: parameters: "
                                  "units, activation, use_bias, kernel_initializer, kernel_regularizer")
    column = BROKEN.splitlines()[1].index("unit=")
    assert diagnostic.range == types.Range(start=at(1, column), end=at(1, column + 4))
    assert diagnostic.severity == types.DiagnosticSeverity.Error

    await change_document(client, uri, 2, BROKEN.replace("unit=", "units="))
    assert list(client.diagnostics[uri]) == []


async def test_several_errors_are_all_shown_and_fixing_one_leaves_the_other(client):
    text = 'let a = Dens(3)\nlet b = Dense(3, activation="rleu")\n'
    uri = await open_document(client, "two.mlx", text)
    assert [(d.code, d.range.start.line) for d in client.diagnostics[uri]] == [("E020", 0), ("E024", 1)]
    await change_document(client, uri, 2, text.replace("Dens(", "Dense("))
    assert [(d.code, d.range.start.line) for d in client.diagnostics[uri]] == [("E024", 1)]


async def test_columns_count_utf16_code_units_after_a_character_outside_the_bmp(client):
    text = 'let x = ["\U0001F600 ok", Dens(3)]\n'
    uri = await open_document(client, "emoji.mlx", text)
    [diagnostic] = client.diagnostics[uri]
    code_points = text.index("Dens")
    assert diagnostic.range.start == at(0, code_points + 1)  # the emoji is two UTF-16 code units
    assert diagnostic.range.end == at(0, code_points + 1 + 4)


async def test_an_error_in_an_imported_file_is_shown_on_the_import(client, tmp_path):
    (tmp_path / "lib.mlx").write_text("let bad = Dens(3)\n")
    uri = await open_document(client, "main.mlx", 'import "lib.mlx"\nlet x = 1\n', folder=tmp_path)
    [diagnostic] = client.diagnostics[uri]
    assert diagnostic.code == "E020" and diagnostic.range.start.line == 0
    assert diagnostic.message.startswith(f"{tmp_path / 'lib.mlx'}:1:11: unknown component 'Dens'")
    [related] = diagnostic.related_information
    assert related.location.uri == (tmp_path / "lib.mlx").resolve().as_uri()
    assert related.location.range == types.Range(start=at(0, 10), end=at(0, 14))


async def complete(client, uri, line, character):
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=doc(uri), position=at(line, character)))
    return result.items


async def test_completion_inside_a_nested_call_offers_its_parameters(client):
    text = "experiment e = Experiment(training={optimizer=SGD(mom"
    uri = await open_document(client, "nested.mlx", text)
    items = await complete(client, uri, 0, len(text))
    assert [i.label for i in items] == ["momentum="]
    edit = items[0].text_edit
    assert edit.new_text == "momentum=" and edit.range == types.Range(start=at(0, len(text) - 3),
                                                                     end=at(0, len(text)))
    assert items[0].kind == types.CompletionItemKind.Property and "Momentum" in items[0].detail

    text = "let d = Sequential([Dense(3, "
    uri = await open_document(client, "nested2.mlx", text)
    labels = [i.label for i in await complete(client, uri, 0, len(text))]
    assert labels[:5] == ["units=", "activation=", "use_bias=", "kernel_initializer=", "kernel_regularizer="]

    # in the middle of a call, the parameters it gives after the cursor are not offered
    text = 'let d = Dense(3, , activation="relu", use_bias=false)'
    uri = await open_document(client, "middle.mlx", text)
    labels = [i.label for i in await complete(client, uri, 0, text.index(", ,") + 2)]
    assert labels[:3] == ["units=", "kernel_initializer=", "kernel_regularizer="]


async def test_completion_of_component_names_keywords_and_paths(client):
    text = "let d = Dens"
    uri = await open_document(client, "names.mlx", text)
    [item] = await complete(client, uri, 0, len(text))
    assert (item.label, item.kind) == ("Dense", types.CompletionItemKind.Class)

    uri = await open_document(client, "keywords.mlx", "let a = 1\nexp")
    assert [i.label for i in await complete(client, uri, 1, 3)] == ["experiment"]

    # inside `with { }`: the key paths of the experiment being derived, defined in the same document
    text = ("experiment base = Experiment(model=Sequential([Dense(3)]), data=Digits())\n"
            "experiment derived = base with {\n    training.optim")
    uri = await open_document(client, "paths.mlx", text)
    labels = [i.label for i in await complete(client, uri, 2, len("    training.optim"))]
    assert labels[0] == "training.optimizer" and "training.optimizer.learning_rate" in labels

    # inside `patch NAME { }`: the key paths of the document's experiments; after `with`: patches, patchers
    paths_text = text.rsplit("\n", 2)[0] + "\npatch small {\n    training.batch"
    uri = await open_document(client, "patch_paths.mlx", paths_text)
    assert [i.label for i in await complete(client, uri, 2, len("    training.batch"))] == ["training.batch_size"]
    text = paths_text.replace("    training.batch", "    training.batch_size = 8\n}\nlet g = base with ")
    uri = await open_document(client, "with_patch.mlx", text)
    labels = [(i.label, i.detail) for i in await complete(client, uri, 4, len("let g = base with "))]
    assert labels[0] == ("small", "patch") and ("relu_to_elu", "patcher") in labels


async def hover_text(client, uri, line, character):
    result = await client.text_document_hover_async(types.HoverParams(text_document=doc(uri),
                                                                      position=at(line, character)))
    return None if result is None else result.contents.value


async def test_hover_shows_a_components_schema_and_a_parameters_lines(client):
    from mldsl.registry import get_registry
    from mldsl.service.schemas import schema_report

    text = "let d = Dense(3, activation=\"relu\")\n"
    uri = await open_document(client, "hover.mlx", text)
    shown = await hover_text(client, uri, 0, text.index("Dense") + 2)
    assert shown == "```text\n" + "\n".join(schema_report(get_registry(), "Dense")).strip("\n") + "\n```"
    assert "units: Int(min_value=1)  (required)" in shown
    parameter = await hover_text(client, uri, 0, text.index("activation") + 1)
    assert parameter.startswith("**Dense**.`activation`") and "Activation applied to the output" in parameter
    assert "units" not in parameter
    assert await hover_text(client, uri, 1, 0) is None


async def test_hover_on_a_value_shows_where_it_was_set(client):
    text = ("experiment base = Experiment(model=Sequential([Dense(3)]), data=Digits(),\n"
            "    training={batch_size = 32})\n"
            "experiment big = base with {\n"
            "    training.batch_size = 256\n"
            "}\n")
    uri = await open_document(client, "provenance.mlx", text)
    shown = await hover_text(client, uri, 3, text.splitlines()[3].index("256"))
    assert shown.splitlines()[1:-1] == [
        "big.training.batch_size = 256",
        "  provenance.mlx:2:28: experiment 'base': 32",
        "  provenance.mlx:4:27: experiment 'big' `with` block: 256",
    ]
    key = await hover_text(client, uri, 3, text.splitlines()[3].index("batch_size") + 2)
    assert key == shown  # the key a value is assigned to tells the same
    assert "experiment 'base': 32" in await hover_text(client, uri, 1, text.splitlines()[1].index("batch"))
    defined = await hover_text(client, uri, 2, text.splitlines()[2].index("base") + 1)
    assert "experiment `base`, provenance.mlx:1" in defined


async def test_formatting_returns_the_formatters_text(client):
    text = "let   x=[1,2 ,3]\nexperiment e=Experiment(model=Sequential([Dense(3)]),data=Digits())\n"
    uri = await open_document(client, "format.mlx", text)
    edits = await client.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=doc(uri), options=types.FormattingOptions(tab_size=4, insert_spaces=True)))
    [edit] = edits
    assert edit.new_text == mldsl.format_source(text) != text
    assert edit.range == types.Range(start=at(0, 0), end=at(2, 0))


async def test_document_symbols_list_the_definitions(client):
    text = (EXAMPLES / "deep_mlp.mlx").read_text()
    uri = await open_document(client, "deep_mlp.mlx", text, folder=EXAMPLES)
    assert list(client.diagnostics[uri]) == []
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=doc(uri)))
    assert [(s.name, s.detail, s.kind) for s in symbols] == [
        ("l2", "let", types.SymbolKind.Variable),
        ("deep_mlp", "experiment", types.SymbolKind.Class),
        ("deep_mlp_space", "experiment", types.SymbolKind.Class),
        ("deep_mlp_search", "search", types.SymbolKind.Event),
    ]
    line = next(i for i, t in enumerate(text.splitlines()) if t.startswith("experiment deep_mlp ="))
    assert symbols[1].selection_range == types.Range(start=at(line, 11), end=at(line, 19))


async def test_definition_and_references_of_names(client):
    text = (EXAMPLES / "deep_mlp.mlx").read_text()
    uri = await open_document(client, "deep_mlp.mlx", text, folder=EXAMPLES)
    lines = text.splitlines()
    use = next(i for i, t in enumerate(lines) if "kernel_regularizer=l2" in t)
    column = lines[use].index("=l2") + 1
    location = await client.text_document_definition_async(types.DefinitionParams(
        text_document=doc(uri), position=at(use, column)))
    assert location.uri == uri and location.range == types.Range(start=at(4, 4), end=at(4, 6))

    refs = await client.text_document_references_async(types.ReferenceParams(
        text_document=doc(uri), position=at(4, 5), context=types.ReferenceContext(include_declaration=True)))
    assert sorted(r.range.start.line for r in refs) == [4, use, use + 1]

    # a name defined in the imported file: its definition is there
    common = (EXAMPLES / "common.mlx").read_text().splitlines()
    text = 'import "common.mlx"\nexperiment e = Experiment(model=Sequential([Dense(3)]), data=Digits()) with quick\n'
    uri = await open_document(client, "uses_common.mlx", text, folder=EXAMPLES)
    location = await client.text_document_definition_async(types.DefinitionParams(
        text_document=doc(uri), position=at(1, text.splitlines()[1].index("quick") + 1)))
    line = next(i for i, t in enumerate(common) if t.startswith("patch quick"))
    assert location.uri == (EXAMPLES / "common.mlx").as_uri() and location.range.start == at(line, 6)


async def test_completion_looks_at_the_statement_being_written_past_a_broken_one(client):
    text = "let a = [1, 2\n\nexp"
    uri = await open_document(client, "unclosed.mlx", text)
    assert [i.label for i in await complete(client, uri, 2, 3)] == ["experiment"]


async def test_saving_an_imported_file_checks_the_open_documents_again(client, tmp_path):
    lib = tmp_path / "lib.mlx"
    lib.write_text("let bad = Dens(3)\n")
    uri = await open_document(client, "main.mlx", 'import "lib.mlx"\nlet x = 1\n', folder=tmp_path)
    assert [d.code for d in client.diagnostics[uri]] == ["E020"]
    lib.write_text("let bad = Dense(3)\n")
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=doc(lib.as_uri())))
    # every open document is checked again; a request answered after that is a barrier
    await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=doc(uri)))
    assert list(client.diagnostics[uri]) == []


async def test_definition_of_an_import_is_the_imported_file(client):
    text = 'import "common.mlx"\nlet x = 1\n'
    uri = await open_document(client, "imports.mlx", text, folder=EXAMPLES)
    location = await client.text_document_definition_async(types.DefinitionParams(
        text_document=doc(uri), position=at(0, 10)))
    assert location.uri == (EXAMPLES / "common.mlx").as_uri()
    # the compiler's rules: a file outside the folders imports may read is not offered
    uri = await open_document(client, "outside.mlx", 'import "../README.mlx"\n', folder=EXAMPLES)
    assert await client.text_document_definition_async(types.DefinitionParams(
        text_document=doc(uri), position=at(0, 10))) is None


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.mlx")))
async def test_every_example_opens_without_diagnostics_and_with_an_outline(client, example):
    text = (EXAMPLES / example).read_text()
    uri = await open_document(client, example, text, folder=EXAMPLES)
    assert list(client.diagnostics[uri]) == []
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=doc(uri)))
    assert symbols and {s.detail for s in symbols} <= {"let", "experiment", "patch", "search"}


async def test_semantic_tokens_come_from_the_pygments_lexer(client):
    from mldsl.lsp.tokens import TOKEN_TYPES, semantic_tokens

    text = 'let x = Dense(3)  # c\n'
    uri = await open_document(client, "tokens.mlx", text)
    result = await client.text_document_semantic_tokens_full_async(types.SemanticTokensParams(text_document=doc(uri)))
    assert list(result.data) == semantic_tokens(text)
    assert [TOKEN_TYPES[k] for k in result.data[3::5]] == ["keyword", "variable", "operator", "class", "number",
                                                          "comment"]


async def test_a_did_you_mean_is_a_quick_fix(client):
    text = 'let p = Dense(3) with relu_to_elux\nlet d = Dense(unit=3)\nlet b = Dense(3, activation="rleu")\n'
    uri = await open_document(client, "fixes.mlx", text)
    diagnostics = list(client.diagnostics[uri])
    assert [d.code for d in diagnostics] == ["E031", "E021", "E024"]
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=doc(uri), range=types.Range(start=at(0, 0), end=at(3, 0)),
        context=types.CodeActionContext(diagnostics=diagnostics)))
    assert [(a.title, a.is_preferred) for a in actions] == [
        ("Replace with 'relu_to_elu'", False), ("Replace with 'relu_to_leaky_relu'", False),
        ("Replace with 'units'", True)]  # the bad enum value has no "did you mean"
    [edit] = actions[2].edit.changes[uri]
    assert edit.new_text == "units" and edit.range == types.Range(start=at(1, 14), end=at(1, 18))
    fixed = text.replace("unit=", "units=")
    await change_document(client, uri, 2, fixed)
    assert [d.code for d in client.diagnostics[uri]] == ["E031", "E024"]


async def test_rename_changes_the_definition_and_every_use_and_refuses_bad_names(client):
    text = ("let hidden = 8\n"
            "experiment e = Experiment(model=Sequential([Dense(hidden)]), data=Digits())\n"
            "experiment f = e with { training.batch_size = hidden }\n")
    uri = await open_document(client, "rename.mlx", text)
    edit = await client.text_document_rename_async(types.RenameParams(
        text_document=doc(uri), position=at(2, text.splitlines()[2].index("hidden")), new_name="width"))
    edits = sorted(edit.changes[uri], key=lambda e: (e.range.start.line, e.range.start.character))
    assert [(e.range.start.line, e.range.start.character, e.new_text) for e in edits] == [
        (0, 4, "width"), (1, text.splitlines()[1].index("hidden"), "width"),
        (2, text.splitlines()[2].index("hidden"), "width")]
    for bad, why in [("let", "cannot name a definition"), ("2x", "cannot name a definition"),
                     ("e", "is already defined")]:
        with pytest.raises(Exception, match=why):
            await client.text_document_rename_async(types.RenameParams(
                text_document=doc(uri), position=at(0, 5), new_name=bad))


async def signature(client, uri, line, character):
    return await client.text_document_signature_help_async(types.SignatureHelpParams(
        text_document=doc(uri), position=at(line, character)))


async def test_signature_help_shows_the_parameters_and_the_one_being_written(client):
    text = 'let d = Sequential([Dense(3, activation="relu", use_'
    uri = await open_document(client, "signature.mlx", text)
    help_ = await signature(client, uri, 0, len(text))
    [sig] = help_.signatures
    assert sig.label == "Dense(units, activation, use_bias, kernel_initializer, kernel_regularizer)"
    assert [sig.label[p.label[0]:p.label[1]] for p in sig.parameters][:2] == ["units", "activation"]
    assert help_.active_parameter == 2  # the third argument, by position
    units = "```text\nunits: Int(min_value=1)  (required)\nNumber of output units.\n```"
    assert sig.parameters[0].documentation.value == units
    assert "A fully connected layer" in sig.documentation.value
    # a keyword argument names its parameter, wherever it is
    help_ = await signature(client, uri, 0, text.index('"relu"'))
    assert help_.active_parameter == 1
    # in the list argument of Sequential: Sequential's own signature; outside a call: none
    help_ = await signature(client, uri, 0, text.index("Dense"))
    assert help_.signatures[0].label.startswith("Sequential(")
    assert await signature(client, uri, 0, 3) is None


async def test_document_highlight_marks_the_uses_of_a_name_not_same_named_keys(client):
    text = "let units = 8\nlet d = Dense(units=units)\n"
    uri = await open_document(client, "highlight.mlx", text)
    marks = await client.text_document_document_highlight_async(types.DocumentHighlightParams(
        text_document=doc(uri), position=at(0, 5)))
    assert sorted((m.range.start.line, m.range.start.character) for m in marks) == [(0, 4), (1, 20)]
    marks = await client.text_document_document_highlight_async(types.DocumentHighlightParams(
        text_document=doc(uri), position=at(1, 15)))  # the parameter `units=`
    assert not marks


async def test_completion_of_an_imports_file_name(client, tmp_path):
    (tmp_path / "lib.mlx").write_text("let a = 1\n")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "layers.mlx").write_text("let b = 2\n")
    (tmp_path / "main.mlx").write_text('import "')  # the document itself is not offered
    uri = await open_document(client, "main.mlx", 'import "', folder=tmp_path)
    items = await complete(client, uri, 0, 8)
    assert [(i.label, i.kind) for i in items] == [("lib.mlx", types.CompletionItemKind.File),
                                                  ("shared/", types.CompletionItemKind.Folder)]
    uri = await open_document(client, "main2.mlx", 'import "shared/la', folder=tmp_path)
    [item] = await complete(client, uri, 0, 17)
    assert item.text_edit.new_text == "layers.mlx" and item.text_edit.range.start == at(0, 15)


async def test_references_and_rename_reach_the_open_documents_that_import_the_name(client, tmp_path):
    (tmp_path / "lib.mlx").write_text("let width = 8\n")
    lib = await open_document(client, "lib.mlx", "let width = 8\n", folder=tmp_path)
    main_text = 'import "lib.mlx"\nlet d = Dense(width)\nlet e = Dense(width, activation="relu")\n'
    main = await open_document(client, "main.mlx", main_text, folder=tmp_path)
    other = await open_document(client, "other.mlx", "let width = 3\nlet f = Dense(width)\n", folder=tmp_path)
    refs = await client.text_document_references_async(types.ReferenceParams(
        text_document=doc(lib), position=at(0, 5), context=types.ReferenceContext(include_declaration=True)))
    assert sorted((r.uri == main, r.range.start.line, r.range.start.character) for r in refs) == [
        (False, 0, 4), (True, 1, 14), (True, 2, 14)]  # not other.mlx's own `width`
    refs = await client.text_document_references_async(types.ReferenceParams(
        text_document=doc(main), position=at(1, 15), context=types.ReferenceContext(include_declaration=False)))
    assert sorted((r.uri == lib, r.range.start.line) for r in refs) == [(False, 1), (False, 2)]
    assert other not in {r.uri for r in refs}

    edit = await client.text_document_rename_async(types.RenameParams(
        text_document=doc(lib), position=at(0, 5), new_name="size"))
    assert {uri: len(edits) for uri, edits in edit.changes.items()} == {lib: 1, main: 2}
    with pytest.raises(Exception, match="is defined in lib.mlx: rename it there"):
        await client.text_document_rename_async(types.RenameParams(
            text_document=doc(main), position=at(1, 15), new_name="size"))
