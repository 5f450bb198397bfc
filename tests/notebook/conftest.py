"""Fixtures of the notebook tests: an in-process IPython shell with the extension loaded (fast), and a
real kernel (ipykernel running this interpreter, found through a kernelspec in a temporary Jupyter path)
in a temporary folder with its own store, so that nothing is written into the repository."""
import json
import os
import sys

import pytest

KERNEL = "mldsl-test-python"


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A temporary working folder and store (``$MLDSL_STORE``), no shared data folder."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setenv("MLDSL_STORE", str(folder / "mldsl.db"))
    monkeypatch.delenv("MLDSL_DATA_DIR", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    return folder


@pytest.fixture
def shell(work):
    """IPython's shell with ``%load_ext mldsl`` done, and a fresh session for this test."""
    pytest.importorskip("IPython", reason="the notebook extra: pip install 'mldsl[notebook]'")
    from IPython.core.interactiveshell import InteractiveShell

    from mldsl.notebook.magics import MlxMagics

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "mldsl")
    ip.register_magics(MlxMagics(ip))  # a new session: earlier tests' definitions are gone
    yield ip


@pytest.fixture
def kernel_name(tmp_path, monkeypatch):
    """A kernelspec running this Python (the one that imports this checkout's mldsl)."""
    pytest.importorskip("ipykernel", reason="the notebook extra: pip install 'mldsl[notebook]'")
    root = tmp_path / "jupyter"
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "mldsl tests", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(root) + os.pathsep + os.environ.get("JUPYTER_PATH", ""))
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return KERNEL
