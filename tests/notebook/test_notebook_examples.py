"""The shipped notebooks (``examples/notebooks/``) run top to bottom in a real kernel (nbclient and
ipykernel, this interpreter), in a temporary folder with its own store, on the digits set; the tests read
what their cells show."""
import pathlib
import re

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebook extra: pip install 'mldsl[notebook]'")
nbclient = pytest.importorskip("nbclient", reason="the notebook extra: pip install 'mldsl[notebook]'")

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[2] / "examples" / "notebooks"


def execute(name, kernel_name, cwd, parameters=None):
    """Runs the notebook ``name`` (``parameters``: ``NAME = value`` lines replacing those of its
    ``parameters`` cell) and returns it with its outputs."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            for key, value in (parameters or {}).items():
                cell.source, found = re.subn(rf"^{key} = .*$", f"{key} = {value!r}", cell.source, flags=re.M)
                assert found == 1, key
    client = nbclient.NotebookClient(nb, kernel_name=kernel_name, timeout=120,
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


def text_of(cell):
    """Everything a cell shows as text: streams, the plain text of results and displays, error lines."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.data.get("text/plain", ""))
        elif out.output_type == "error":
            parts.append("\n".join(out.traceback))
    return "\n".join(parts)


def html_of(cell):
    return "\n".join(out.data.get("text/html", "") for out in cell.get("outputs", [])
                     if out.output_type in ("execute_result", "display_data"))


def cell_with(nb, source_part):
    [cell] = [c for c in nb.cells if c.cell_type == "code" and source_part in c.source]
    return cell


def test_the_pyglove_session_patches_and_searches(kernel_name, work):
    nb = execute("pyglove_patch_and_search.ipynb", kernel_name, work)
    shown = cell_with(nb, "%mlx show exp1")
    assert "Dense(64, activation=\"relu\")" in text_of(shown) and "Dropout(0.2)" in text_of(shown)
    assert ">Dense</span>" in html_of(shown) and "<span style=" in html_of(shown)  # highlighted .mlx

    diff = text_of(cell_with(nb, "%mlx diff exp1 experiment"))
    assert re.search(r"training\.batch_size\s+32\s+256", diff), diff
    assert re.search(r"training\.optimizer\s+Adam\(\)\s+RMSprop\(learning_rate=0\.01\)", diff), diff

    [error] = cell_with(nb, "batch_sise").outputs
    assert error.output_type == "error" and error.ename == "CellError"
    message = "\n".join(error.traceback)
    assert "error[E030]: no key 'batch_sise'" in message and "^^^" in message
    assert "did you mean 'batch_size'?" in message
    assert "Traceback" not in message and ".py" not in message

    patched = text_of(cell_with(nb, "%mlx diff experiment new_experiment"))
    assert re.search(r"training\.optimizer\.learning_rate\s+0\.01\s+0\.04", patched), patched
    assert re.search(r"model\.layers\[1\]\.activation\s+ReLU\(\)\s+ELU\(\)", patched), patched

    assert "space size: 27" in text_of(cell_with(nb, "%mlx space"))
    search = cell_with(nb, "%mlx search tune")
    assert "search 'tune': 8 trials (8 completed)" in text_of(search)
    assert "<img alt='tune: trials' src='data:image/png;base64," in html_of(search)
    assert "defined tune_best" in text_of(search)

    assert re.search(r"best batch size: (32|64|128)", text_of(cell_with(nb, "best = %mlx tune_best")))
    run = text_of(cell_with(nb, "%mlx run tune_best"))
    assert re.search(r"accuracy\s+0\.\d+", run) and "recorded in" in run, run
    assert not list(NOTEBOOKS.glob("*.db")) and not (NOTEBOOKS / "runs").exists()
    assert (work / "mldsl.db").exists()


def test_the_keras_mlp_trains_on_digits_without_mnist(kernel_name, work):
    nb = execute("keras_mnist_mlp.ipynb", kernel_name, work, {"EPOCHS": 2})
    assert "data: Digits() epochs: 2" in text_of(cell_with(nb, "print(\"data:\""))
    run = cell_with(nb, "run = %mlx run mlp")
    progress = [o for o in run.outputs if o.output_type == "display_data"]
    assert progress and "<progress value='2' max='2'" in progress[0].data["text/html"]
    assert re.search(r"accuracy\s+0\.\d+", text_of(run)) and "(native," in text_of(run)
    assert "<img alt='mlp: history' src='data:image/png;base64," in html_of(run)
    accuracy = float(re.search(r"test accuracy: (\S+)", text_of(cell_with(nb, "test accuracy"))).group(1))
    assert 0.5 < accuracy <= 1.0  # 2 epochs of the 512-512 MLP on the digits
    assert re.search(r'model\.layers\[3\]\.activation\s+"relu"\s+"elu"', text_of(cell_with(nb, "diff mlp mlp_elu")))
