import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _no_search_path(monkeypatch):
    """Tests start without ``$MLDSL_PATH`` (the import policy reads it); a test sets it when needed."""
    monkeypatch.delenv("MLDSL_PATH", raising=False)

