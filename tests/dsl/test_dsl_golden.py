"""Golden tests: the exact rendered diagnostics of every bad file in ``tests/dsl/bad``.

Each ``NAME.mlx`` has a ``NAME.expected`` holding what ``mldsl check`` prints for it (compiled
against the fake registry of ``dsl_helpers``). A file named ``Exxx_...`` must report code Exxx.
Regenerate after an intended change with ``MLDSL_REGEN_GOLDEN=1 pytest tests/dsl``, then review.
"""
import os
from pathlib import Path

import pytest

from mldsl.dsl.api import check
from mldsl.dsl.diagnostics import ERROR_CODES

BAD = Path(__file__).parent / "bad"
FILES = sorted(BAD.glob("*.mlx"))


def render_all(errors) -> str:
    return "\n\n".join(e.render() for e in errors) + "\n"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_bad_file_renders_exactly(path, registry, monkeypatch):
    monkeypatch.chdir(BAD)
    errors = check(path.name, registry=registry)
    assert errors, f"{path.name} compiled without errors"
    text = render_all(errors)
    expected = path.with_suffix(".expected")
    if os.environ.get("MLDSL_REGEN_GOLDEN") == "1":
        expected.write_text(text, encoding="utf-8")
    assert text == expected.read_text(encoding="utf-8")
    prefix = path.stem.split("_")[0]
    if prefix in ERROR_CODES:
        assert prefix in {e.code for e in errors}


def test_every_error_code_has_a_golden_file():
    covered = {p.stem.split("_")[0] for p in FILES}
    missing = set(ERROR_CODES) - covered
    assert not missing, f"no golden file for {sorted(missing)}"


def test_several_errors_are_reported_together(registry, monkeypatch):
    monkeypatch.chdir(BAD)
    errors = check("multiple_errors.mlx", registry=registry)
    assert len(errors) >= 4
    assert len({e.line for e in errors}) >= 3
