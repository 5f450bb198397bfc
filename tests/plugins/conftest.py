"""Fixtures for the plugins tests: fake installed distributions with ``mldsl`` entry points."""
import sys
import textwrap

import pytest


@pytest.fixture
def fake_site(tmp_path, monkeypatch):
    """``make(dist, version, {ep_name: "module"}, {module: source})`` installs a fake distribution (a
    dist-info folder with entry_points.txt) on sys.path; modules are written next to it."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    created = []

    def make(dist, version, entry_points, modules=None):
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        eps = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
        (info / "entry_points.txt").write_text("[mldsl]\n" + eps)
        for module, source in (modules or {}).items():
            (site / f"{module}.py").write_text(textwrap.dedent(source))
            created.append(module)
        return site

    yield make
    for module in created:
        sys.modules.pop(module, None)


@pytest.fixture(autouse=True)
def clean_plugin_env(monkeypatch):
    for var in ("MLDSL_DISABLE_PLUGIN_AUTOLOAD", "MLDSL_PLUGINS", "MLDSL_PLUGINS_BLOCK"):
        monkeypatch.delenv(var, raising=False)
