"""The standard backends and the standard components' lowerings, contributed like any plugin's.

``mldsl_backends`` gives the native and the Keras backend (each imported only if its module exists; the
Keras one imports TensorFlow only when it runs). ``mldsl_lowerings(backend)`` gives how the standard
components run on each: :mod:`mldsl_std.native_lowerings` and :mod:`mldsl_std.keras_lowerings`. The
backends know no component by name; they ask the registry, so another plugin lowers its own components
(or subclasses of ours) the same way.
"""
import importlib
import importlib.util
import warnings

from mldsl import hookimpl
from mldsl.plugin_manager import PluginWarning

#: backend name -> (module, class); the class is instantiated without arguments.
STD_BACKENDS = {
    "native": ("mldsl.backends.native", "NativeBackend"),
    "keras": ("mldsl.backends.keras", "KerasBackend"),
}


@hookimpl
def mldsl_backends():
    """Every standard backend whose module is installed; one that fails to load is skipped with a
    warning naming it, so the others still register."""
    found = {}
    for name, (module_name, class_name) in STD_BACKENDS.items():
        try:
            present = importlib.util.find_spec(module_name) is not None
        except ImportError:
            present = False
        if not present:
            continue
        try:
            found[name] = getattr(importlib.import_module(module_name), class_name)()
        except Exception as exc:  # noqa: BLE001 - isolate one backend from the other
            warnings.warn(f"mldsl's {name!r} backend failed to load and is not available: "
                          f"{type(exc).__name__}: {exc}", PluginWarning, stacklevel=2)
    return found


#: backend name -> the std module whose ``LOWERINGS`` maps component classes to their lowerings.
LOWERING_MODULES = {"native": "native_lowerings", "keras": "keras_lowerings"}


@hookimpl
def mldsl_lowerings(backend):
    """The standard components' lowerings for ``backend`` (``{class: fn(component, ctx)}``); None for a
    backend the standard library has none for."""
    module = LOWERING_MODULES.get(backend)
    if module is None:
        return None
    return dict(importlib.import_module(f"{__package__}.{module}").LOWERINGS)
