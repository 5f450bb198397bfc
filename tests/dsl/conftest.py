import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dsl_helpers import fake_registry  # noqa: E402


@pytest.fixture
def registry():
    """The fake-component registry (isolated from installed plugins)."""
    return fake_registry()


@pytest.fixture(scope="session")
def std_registry():
    """The registry of the installed plugins (the standard library's real components)."""
    import warnings

    from mldsl.registry import build_registry

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        registry = build_registry()
    if "Experiment" not in registry.names():
        pytest.skip("the standard library plugin is not installed")
    return registry


@pytest.fixture
def use_fake_registry(registry):
    """Installs the fake registry as the process-wide one (for CLI tests); forgets it after."""
    from mldsl.registry import reset_registry

    reset_registry(registry)
    yield registry
    reset_registry(None)
