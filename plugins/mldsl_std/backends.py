"""The standard backends, contributed through ``mldsl_backends`` like any plugin's.

Each entry is imported only if its module exists (the backends are built by other areas and the
Keras one imports TensorFlow only when it runs). The standard components' Keras lowerings live with
the backend (``mldsl.backends.keras.lowering.STD_LOWERINGS``); ``mldsl_lowerings("keras")`` below hands
them to the registry under the std classes (so ``mldsl plugins`` lists them). The Keras backend asks the
registry first, so another plugin lowers its own components (or subclasses of ours) the same way.
"""
import importlib
import importlib.util
import inspect
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


#: std modules whose component classes may have a Keras lowering.
_COMPONENT_MODULES = ("models", "layers", "activations", "optimizers", "losses", "metrics", "regularizers",
                      "callbacks")


@hookimpl
def mldsl_lowerings(backend):
    """The Keras lowerings of the standard components (``{class: fn(component, ctx)}``); None elsewhere."""
    if backend != "keras" or importlib.util.find_spec("mldsl.backends.keras") is None:
        return None
    from mldsl.backends.keras.lowering import STD_LOWERINGS  # no TensorFlow import

    found = {}
    for part in _COMPONENT_MODULES:
        try:
            module = importlib.import_module(f"{__package__}.{part}")
        except ImportError:
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            name = cls.__dict__.get("type_name")
            if cls.__module__ == module.__name__ and name in STD_LOWERINGS:
                found[cls] = STD_LOWERINGS[name][1]
    return found
