"""The registry: resolution, duplicate names, qualified names, safety, lowerings."""
import sys
import types
import warnings

import pytest

from mldsl import components as c
from mldsl import symbolic as sym
from mldsl.errors import RegistryError, UnknownComponentError, UnknownTypeError
from mldsl.hookspecs import hookimpl
from mldsl.plugin_manager import PluginWarning
from mldsl.registry import build_registry


_BASES = {"layer": c.Layer, "optimizer": c.Optimizer, "dataset": c.Dataset, "metric": c.Metric}


def _component(name, kind="layer", type_name=None):
    """A component class; names are unique to these tests (the symbolic type table is global)."""
    return type(name, (_BASES[kind],), {"type_name": type_name or name})


def _plugin(name, **hooks):
    """A module-like plugin whose hooks return the given values."""
    mod = types.ModuleType(name)
    for hook, value in hooks.items():
        fn = (lambda v: (lambda: v))(value) if hook != "mldsl_lowerings" else value
        fn.__name__ = hook
        setattr(mod, hook, hookimpl(fn))
    return mod


def _registry(*plugins):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg = build_registry(entrypoints=False, plugins=[(p.__name__, p) for p in plugins])
    return reg, [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]


Widget, Gadget, Gizmo = _component("Widget"), _component("Gadget", "optimizer"), _component("Gizmo", "dataset")


def test_resolve_names_kinds_and_kind_filter():
    reg, _ = _registry(_plugin("core", mldsl_components=[Widget, Gadget], mldsl_datasets=[Gizmo]))
    assert reg.resolve("Widget") is Widget and reg.resolve("Gadget", kind="optimizer") is Gadget
    assert reg.kind_of("Gizmo") == "dataset"
    assert reg.names() == ["Gadget", "Gizmo", "Widget"] and reg.names("layer") == ["Widget"]
    with pytest.raises(UnknownComponentError, match=r"'Widget' is a layer, not an optimizer; optimizers are: Gadget"):
        reg.resolve("Widget", kind="optimizer")
    with pytest.raises(RegistryError, match="unknown component kind 'layers'"):
        reg.resolve("Widget", kind="layers")


def test_unknown_name_suggests_and_hints_mldsl_plugins():
    reg, _ = _registry(_plugin("core", mldsl_components=[Widget, Gadget]))
    with pytest.raises(UnknownComponentError) as err:
        reg.resolve("Widgt")
    assert "unknown component 'Widgt'; did you mean 'Widget'?" in str(err.value)
    assert "run `mldsl plugins` to list what is installed" in str(err.value)
    assert isinstance(err.value, UnknownTypeError)  # callers catching the symbolic core's error see it too
    with pytest.raises(UnknownComponentError, match="unknown optimizer 'Gadgett'; did you mean 'Gadget'"):
        reg.resolve("Gadgett", kind="optimizer")


@pytest.mark.parametrize("name", ["os.system", "__import__", "eval", "subprocess.run", "exec",
                                  "antigravity.fly", "mldsl_std.layers.Dense", "builtins.open"])
def test_python_names_and_module_paths_are_refused_without_importing(name):
    import mldsl.symbolic  # noqa: F401 - the resolver consults the symbolic core's (import-free) type table
    reg, _ = _registry(_plugin("core", mldsl_components=[Widget]))
    before = set(sys.modules)
    for call in (reg.resolve, reg.json_resolver, reg.kind_of):
        with pytest.raises(UnknownComponentError) as err:
            call(name)
        assert "never imports modules" in str(err.value) and "mldsl plugins" in str(err.value)
    assert set(sys.modules) == before
    assert "antigravity" not in sys.modules


def test_two_plugins_with_the_same_name_is_an_error_naming_both():
    other_dense = _component("Widget")
    reg, warned = _registry(_plugin("core", mldsl_components=[Widget]),
                            _plugin("rival", mldsl_components=[other_dense, _component("Sprocket")]))
    assert reg.resolve("Widget") is Widget  # the first keeps the name, and the rest works
    err = {r.name: r for r in reg.plugins()}["rival"].errors["rival"]
    assert "RegistryError" in err and "'core'" in err and "'rival'" in err and "rival.Widget" in err
    assert "Sprocket" not in reg.names()  # the failing part registers nothing
    assert len(warned) == 1 and "rival" in warned[0]
    with pytest.raises(RegistryError, match="registered by plugin 'core'.*and again by plugin 'tests'"):
        reg.register_component(_component("Widget"), "layer")


def test_qualified_names_do_not_clash():
    rival = _component("Widget", type_name="rival.Widget")
    reg, warned = _registry(_plugin("core", mldsl_components=[Widget]), _plugin("rival", mldsl_components=[rival]))
    assert warned == []
    assert reg.resolve("Widget") is Widget and reg.resolve("rival.Widget") is rival
    assert reg.resolve("core.Widget") is Widget  # any component can be qualified by its plugin
    with pytest.raises(UnknownComponentError):
        reg.resolve("rival.Gadget")
    with pytest.raises(UnknownComponentError):
        reg.resolve("other.Widget")


def test_register_component_directly():
    reg, _ = _registry()
    cls = _component("Probe", "metric")
    assert reg.register_component(cls, "metric") is cls
    assert reg.register_component(cls, "metric") is cls  # idempotent
    assert reg.resolve("Probe", "metric") is cls and reg.entry("Probe").plugin == "tests"
    reg.register_component(cls, "metric", name="Probe2", plugin="mine")
    assert reg.resolve("mine.Probe2") is cls
    with pytest.raises(RegistryError, match="kind 'metric' but is registered as a layer"):
        reg.register_component(cls, "layer", name="Probe3")
    with pytest.raises(RegistryError, match="not a valid layer name"):
        reg.register_component(_component("X"), "layer", name="bad name")
    with pytest.raises(RegistryError, match="kind None"):
        reg.register_component(c.Component)
    with pytest.raises(RegistryError, match="must be a symbolic class"):
        reg.register_component(type("Plain", (), {"kind": "layer"}))


def test_patchers_backends_algorithms():
    def relu_to_elu(x):
        return x

    class Native:
        name = "native"

    reg, _ = _registry(_plugin("core", mldsl_patchers=[relu_to_elu], mldsl_backends=[Native()],
                               mldsl_algorithms={"evolution": dict, "random": list}))
    assert reg.patcher("relu_to_elu") is relu_to_elu and list(reg.patchers()) == ["relu_to_elu"]
    assert isinstance(reg.backend("native"), Native) and list(reg.backends()) == ["native"]
    assert reg.algorithm("evolution") is dict and list(reg.algorithms()) == ["evolution", "random"]
    with pytest.raises(RegistryError, match=r"unknown patcher 'relu_to_elo'; did you mean 'relu_to_elu'\?.*mldsl plugins"):
        reg.patcher("relu_to_elo")
    with pytest.raises(RegistryError, match=r"unknown backend 'jax' \(backends: native;"):
        reg.backend("jax")
    contributions = reg.contributions("core")
    assert contributions["patchers"] == ["relu_to_elu"] and contributions["algorithms"] == ["evolution", "random"]


def test_lowerings_per_backend_with_inheritance_and_isolation():
    class Sub(Widget):
        pass

    calls = []

    def lowerings(backend):
        calls.append(backend)
        return {Widget: f"{backend}-widget", "Gadget": f"{backend}-gadget"} if backend == "native" else None

    def broken(backend):
        raise ValueError("no keras here")

    reg, _ = _registry(_plugin("core", mldsl_components=[Widget, Gadget], mldsl_lowerings=lowerings),
                       _plugin("extra", mldsl_lowerings=broken))
    with pytest.warns(PluginWarning, match="extra.*lowerings for backend 'native': ValueError: no keras here"):
        assert reg.lowering("native", Widget) == "native-widget"
    assert reg.lowering("native", Gadget) == "native-gadget"
    assert reg.lowering("native", Sub) == "native-widget"
    with pytest.warns(PluginWarning):
        assert reg.lowering("keras", Widget) is None
    reg.lowering("native", Widget)
    assert calls == ["native", "keras"]  # once per backend
    extra = {r.name: r for r in reg.plugins()}["extra"]
    assert "no keras here" in extra.errors["extra"]
    assert reg.contributions("core")["lowerings"] == {"native": ["Gadget", "Widget"]}


def test_json_resolver_returns_registered_classes():
    reg, _ = _registry(_plugin("core", mldsl_components=[Widget]))
    assert reg.json_resolver("Widget") is Widget
    with pytest.raises(UnknownComponentError, match="unknown component 'Widgte'; did you mean 'Widget'"):
        reg.json_resolver("Widgte")
    # a symbolic type that is no component (e.g. a hyper primitive) is left to the symbolic core
    helper = type("RegistryTestHelper", (sym.Object,), {"type_name": "RegistryTestHelper"})
    assert reg.json_resolver("RegistryTestHelper") is None
    assert sym.from_json({"_type": "RegistryTestHelper"}, resolver=reg.json_resolver) == helper()


def test_bad_hook_return_values_fail_the_plugin():
    reg, warned = _registry(_plugin("a", mldsl_components="Widget"), _plugin("b", mldsl_patchers=[42]),
                            _plugin("c", mldsl_datasets=[Widget]))
    errors = {r.name: next(iter(r.errors.values())) for r in reg.plugins()}
    assert "must return a list or a dict, got str" in errors["a"]
    assert "not a valid patcher name" in errors["b"]
    assert "kind 'layer' but is registered as a dataset" in errors["c"]
    assert len(warned) == 3 and reg.names() == []
