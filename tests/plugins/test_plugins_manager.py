"""Plugin discovery through the ``mldsl`` entry-point group, with failure isolation and blocking."""
import sys
import time
import warnings

import pytest

from mldsl.plugin_manager import PluginManager, PluginWarning, entry_point_distributions
from mldsl.registry import build_registry

GOOD = '''
import mldsl.hookspecs as hs
from mldsl import components

class Greeting(components.Layer):
    type_name = "Greeting"

@hs.hookimpl
def mldsl_components():
    return [Greeting]

@hs.hookimpl
def mldsl_patchers():
    def shout(experiment):
        return experiment
    return {"shout": shout}
'''


def _load(**kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg = build_registry(**kwargs)
    return reg, [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]


def test_entry_point_plugin_is_loaded_with_its_distribution(fake_site):
    fake_site("good-dist", "1.2.3", {"good": "good_plugin"}, {"good_plugin": GOOD})
    reg, warned = _load()
    assert warned == []
    rec = {r.name: r for r in reg.plugins()}["good"]
    assert (rec.dist_name, rec.dist_version, rec.module, rec.ok) == ("good-dist", "1.2.3", "good_plugin", True)
    assert reg.resolve("Greeting").__name__ == "Greeting"
    assert reg.resolve("good.Greeting") is reg.resolve("Greeting")
    assert "shout" in reg.patchers()
    assert ("good-dist", "1.2.3", ["good"]) in entry_point_distributions()
    assert entry_point_distributions()[0][0] == "mldsl"  # mldsl's own first


def test_a_plugin_that_fails_to_import_is_reported_and_the_rest_works(fake_site):
    fake_site("good-dist", "1.0", {"good": "good_plugin"}, {"good_plugin": GOOD})
    fake_site("broken-dist", "0.1", {"broken": "broken_plugin"},
              {"broken_plugin": "import a_module_that_does_not_exist_anywhere\n"})
    reg, warned = _load()
    assert reg.resolve("Greeting")
    rec = {r.name: r for r in reg.plugins()}["broken"]
    assert not rec.ok and "ModuleNotFoundError" in rec.errors["broken"]
    assert ("broken", rec.errors["broken"]) in reg.plugin_manager.failures()
    assert any("broken" in w and "broken-dist 0.1" in w and "MLDSL_PLUGINS_BLOCK=broken" in w for w in warned)


def test_unknown_hook_names_are_refused_per_plugin(fake_site):
    typo = GOOD.replace("def mldsl_patchers", "def mldsl_patcher")
    fake_site("typo-dist", "1.0", {"typo": "typo_plugin"}, {"typo_plugin": typo})
    reg, warned = _load()
    rec = {r.name: r for r in reg.plugins()}["typo"]
    assert "mldsl_patcher" in rec.errors["typo"] and "unknown hook" in rec.errors["typo"]
    with pytest.raises(Exception, match="unknown component 'Greeting'"):
        reg.resolve("Greeting")  # the whole part failed, nothing half-registered
    assert "std" in {r.name for r in reg.plugins() if r.ok}


def test_a_hook_that_raises_or_returns_garbage_is_isolated(fake_site):
    fake_site("raise-dist", "1.0", {"raiser": "raiser_plugin"}, {"raiser_plugin": '''
        import mldsl
        @mldsl.hookimpl
        def mldsl_components():
            raise RuntimeError("boom")
    '''})
    fake_site("garbage-dist", "1.0", {"garbage": "garbage_plugin"}, {"garbage_plugin": '''
        import mldsl
        @mldsl.hookimpl
        def mldsl_components():
            return ["not a class"]
    '''})
    fake_site("good-dist", "1.0", {"good": "good_plugin"}, {"good_plugin": GOOD})
    reg, warned = _load()
    records = {r.name: r for r in reg.plugins()}
    assert records["raiser"].errors == {"raiser": "RuntimeError: boom"}
    assert "a component must be a symbolic class" in records["garbage"].errors["garbage"]
    assert records["good"].ok and reg.resolve("Greeting")
    assert len(warned) == 2


def test_block_by_entry_point_or_distribution_name(fake_site, monkeypatch):
    fake_site("good-dist", "1.0", {"good": "good_plugin"}, {"good_plugin": GOOD})
    for kwargs in ({"block": ["good"]}, {"block": ["Good_Dist"]}):
        reg, _ = _load(**kwargs)
        assert {r.name: r for r in reg.plugins()}["good"].blocked
        assert "Greeting" not in reg.names()
    monkeypatch.setenv("MLDSL_PLUGINS_BLOCK", "other, good")
    reg, _ = _load()
    assert "Greeting" not in reg.names()
    import sys
    assert "good_plugin" not in sys.modules  # blocked: never imported


def test_disable_autoload_keeps_std_and_explicitly_enabled_plugins(fake_site, monkeypatch):
    fake_site("good-dist", "1.0", {"good": "good_plugin"}, {"good_plugin": GOOD})
    monkeypatch.setenv("MLDSL_DISABLE_PLUGIN_AUTOLOAD", "1")
    reg, _ = _load()
    assert "good" not in {r.name for r in reg.plugins()}
    assert "std" in {r.name for r in reg.plugins()}
    monkeypatch.setenv("MLDSL_PLUGINS", "good")
    reg, _ = _load()
    assert reg.resolve("Greeting")
    reg, warned = _load(enable=["missing_one"])
    assert any("no installed distribution has an entry point 'missing_one'" in w for w in warned)


def test_submodules_listed_in_mldsl_plugins_are_isolated_parts(fake_site):
    fake_site("multi-dist", "2.0", {"multi": "multi_main"}, {
        "multi_main": 'mldsl_plugins = ("multi_layers", "multi_broken", "multi_missing")\n',
        "multi_layers": GOOD,
        "multi_broken": "raise ImportError('half-written module')\n",
    })
    reg, warned = _load()
    rec = {r.name: r for r in reg.plugins()}["multi"]
    assert rec.parts == ["multi", "multi:multi_layers"]
    assert set(rec.errors) == {"multi:multi_broken", "multi:multi_missing"}
    assert reg.resolve("Greeting") and reg.entry("Greeting").plugin == "multi"
    assert reg.contributions("multi")["components"] == {"layer": ["Greeting"]}


def test_plugin_manager_is_pluggy_with_the_mldsl_hookspecs():
    pm = PluginManager()
    assert pm.project_name == "mldsl"
    names = {h for h in dir(pm.hook) if h.startswith("mldsl_")}
    assert names == {"mldsl_components", "mldsl_datasets", "mldsl_patchers", "mldsl_backends",
                     "mldsl_algorithms", "mldsl_lowerings"}
    import mldsl.hookspecs as hs
    for name in names:
        doc = getattr(hs, name).__doc__
        assert "Fires" in doc and "Return" in doc, name


def test_system_exit_at_import_in_a_part_or_in_a_hook_is_a_plugin_failure(fake_site):
    fake_site("exit-dist", "1.0", {"exiter": "exiter_plugin"}, {"exiter_plugin": "import sys\nsys.exit(3)\n"})
    fake_site("parts-dist", "1.0", {"parts": "parts_main"}, {
        "parts_main": 'mldsl_plugins = ("parts_exit", "parts_good")\n',
        "parts_exit": "raise SystemExit\n",
        "parts_good": GOOD,
    })
    fake_site("hook-dist", "1.0", {"hooker": "hooker_plugin"}, {"hooker_plugin": '''
        import sys, mldsl
        @mldsl.hookimpl
        def mldsl_lowerings(backend):
            sys.exit(f"no {backend} today")
    '''})
    reg, warned = _load()
    records = {r.name: r for r in reg.plugins()}
    assert records["exiter"].errors == {"exiter": "SystemExit: the plugin called sys.exit(3)"}
    assert records["parts"].errors == {"parts:parts_exit": "SystemExit: the plugin called sys.exit()"}
    assert reg.resolve("Greeting") and reg.entry("Greeting").plugin == "parts"
    with pytest.warns(PluginWarning, match=r"plugin hooker \(hook-dist 1.0\) failed.*no keras today"):
        assert reg.lowering("keras", reg.resolve("Dense")) is not None  # std's lowerings are unaffected
    assert records["hooker"].errors == {
        "hooker": "lowerings for backend 'keras': SystemExit: the plugin called sys.exit('no keras today')"}
    assert any("plugin exiter (exit-dist 1.0) failed to load" in w and "`mldsl -p no:exiter`" in w for w in warned)


def test_keyboard_interrupt_in_a_plugin_is_not_swallowed_and_names_the_plugin(fake_site):
    from mldsl.plugin_manager import PluginLoadInterrupted

    fake_site("ki-dist", "1.0", {"ki": "ki_plugin"}, {"ki_plugin": "raise KeyboardInterrupt\n"})
    with pytest.raises(PluginLoadInterrupted, match=r"interrupted while loading plugin 'ki' \(ki-dist 1.0, "
                                                    r"importing ki_plugin\).*-p no:ki.*MLDSL_PLUGINS_BLOCK=ki"):
        build_registry()


SLOW = '''
import time
import mldsl
time.sleep({import_s})

@mldsl.hookimpl
def mldsl_patchers():
    time.sleep({hook_s})
    return {{"{name}_patch": lambda e: e}}
'''


def test_watchdog_names_a_slow_plugin_on_stderr_and_when_it_finishes(fake_site, monkeypatch, capsys):
    fake_site("slow-dist", "0.2", {"slow": "slow_plugin"}, {"slow_plugin": SLOW.format(import_s=0.6, hook_s=0,
                                                                                       name="slow")})
    fake_site("sluggish-dist", "0.3", {"sluggish": "sluggish_plugin"},
              {"sluggish_plugin": SLOW.format(import_s=0, hook_s=0.6, name="sluggish")})
    fake_site("quick-dist", "1.0", {"quick": "quick_plugin"}, {"quick_plugin": GOOD})
    monkeypatch.setenv("MLDSL_PLUGIN_IMPORT_WARN_S", "0.2")
    started = time.monotonic()
    reg, warned = _load()
    err = capsys.readouterr().err.splitlines()
    assert warned == [] and {"slow_patch", "sluggish_patch", "shout"} <= set(reg.patchers())
    assert err[0] == ("mldsl: plugin 'slow' (slow-dist 0.2) is still loading after 0.2 s (importing slow_plugin). "
                      "If it hangs, press Ctrl-C and skip it with `mldsl -p no:slow ...` or "
                      "MLDSL_PLUGINS_BLOCK=slow; MLDSL_PLUGIN_IMPORT_WARN_S=0 silences this.")
    assert err[1].startswith("mldsl: plugin 'slow' finished loading after 0.")
    assert err[2].startswith("mldsl: plugin 'sluggish' (sluggish-dist 0.3) is still loading after 0.2 s "
                             "(registering sluggish)")
    assert err[3].startswith("mldsl: plugin 'sluggish' finished loading after 0.")
    assert len(err) == 4 and time.monotonic() - started < 30  # nothing about quick or std

    monkeypatch.setenv("MLDSL_PLUGIN_IMPORT_WARN_S", "0")
    for module in ("slow_plugin", "sluggish_plugin"):
        sys.modules.pop(module, None)
    _load()
    assert capsys.readouterr().err == ""


def test_watchdog_delay_that_is_not_a_number_warns_and_uses_the_default(monkeypatch):
    from mldsl.plugin_manager import DEFAULT_IMPORT_WARN_S, SlowLoadWatchdog

    for bad in ("soon", "-1", "nan", "inf"):
        monkeypatch.setenv("MLDSL_PLUGIN_IMPORT_WARN_S", bad)
        with pytest.warns(PluginWarning, match=f"MLDSL_PLUGIN_IMPORT_WARN_S='{bad}' is not a number of seconds"):
            assert SlowLoadWatchdog().warn_after == DEFAULT_IMPORT_WARN_S
    monkeypatch.setenv("MLDSL_PLUGIN_IMPORT_WARN_S", "2.5")
    assert SlowLoadWatchdog().warn_after == 2.5
