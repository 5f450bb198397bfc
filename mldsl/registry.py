"""The registry: every name the DSL and JSON files can use, contributed by plugins.

``get_registry()`` loads the plugins (see :mod:`mldsl.plugin_manager`) on first call and caches the
result. Only registered names resolve: the registry never imports a module or looks up a Python name,
so ``os.system``, ``__import__``, ``eval`` or ``subprocess.run`` in a file are refused, not run.

Names: a component is registered under its ``type_name`` (``"Dense"``). Two plugins registering the
same name is an error naming both: the plugin loaded later (mldsl's own ``std`` loads first, then the
others by plugin name) fails to register and is reported, the rest keeps working. A plugin avoids the
clash by giving its class a qualified ``type_name`` (``"myplugin.Dense"``). Every component can also be
written qualified by its plugin's name (``std.Dense``).
"""
from __future__ import annotations

import builtins
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from mldsl import hookspecs
from mldsl import symbolic as sym
from mldsl.errors import RegistryError, UnknownComponentError, UnknownTypeError, suggestion_text
from mldsl.plugin_manager import PluginManager, PluginRecord, describe_exception

#: The kinds of components, in the order ``mldsl plugins`` lists them.
KINDS: Tuple[str, ...] = ("experiment", "model", "layer", "activation", "optimizer", "loss", "metric",
                          "regularizer", "callback", "dataset")
PLUGINS_HINT = "run `mldsl plugins` to list what is installed"
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_PLURAL = {"loss": "losses"}
#: Backends whose lowerings ``mldsl plugins`` lists even before a plugin registers them.
KNOWN_BACKENDS: Tuple[str, ...] = ("native", "keras")


@dataclass(frozen=True)
class Entry:
    """One registered contribution."""

    name: str        # the name it is registered under (a component's type_name)
    value: Any       # the component class, patcher, backend or algorithm factory
    kind: str        # a component kind (KINDS), or "patcher", "backend", "algorithm"
    plugin: str      # name of the plugin that contributed it
    part: str = ""   # pluggy name of the plugin part whose hook returned it


class _Table:
    """Name -> Entry for one sort of contribution; a name belongs to one plugin."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.entries: Dict[str, Entry] = {}

    def check(self, entry: Entry, pending: Dict[str, Entry], describe: Callable[[str], str]) -> None:
        other = self.entries.get(entry.name) or pending.get(entry.name)
        if other is None or (other.value is entry.value and other.plugin == entry.plugin):
            return
        if other.plugin == entry.plugin:
            raise RegistryError(f"plugin {entry.plugin!r} registers two different {self.what}s named "
                                f"{entry.name!r}")
        leaf = entry.name.rsplit(".", 1)[-1]
        raise RegistryError(
            f"{self.what} name {entry.name!r} is registered by plugin {describe(other.plugin)} and again by "
            f"plugin {describe(entry.plugin)}; a plugin must give its own version a qualified name "
            f"such as '{entry.plugin}.{leaf}' (or block one plugin with MLDSL_PLUGINS_BLOCK)")

    def find(self, name: str) -> Optional[Entry]:
        entry = self.entries.get(name)
        if entry is None and "." in name:  # plugin-qualified: std.Dense
            qualifier, leaf = name.rsplit(".", 1)
            entry = self.entries.get(leaf)
            if entry is not None and entry.plugin != qualifier:
                entry = None
        return entry


class Registry:
    """Names of components, patchers, backends, search algorithms and lowerings, from plugins.

    Build one with :func:`get_registry` (cached, configured by the environment) or
    :func:`build_registry` (fresh; for tests and tools).
    """

    def __init__(self, plugin_manager: Optional[PluginManager] = None) -> None:
        self.plugin_manager = plugin_manager or PluginManager()
        self._components = _Table("component")
        self._tables = {"patcher": _Table("patcher"), "backend": _Table("backend"),
                        "algorithm": _Table("algorithm")}
        self._lowerings: Dict[str, Dict[type, Tuple[Any, str]]] = {}
        self._lock = threading.RLock()
        for record in list(self.plugin_manager.records.values()):
            for part in list(record.parts):
                self._register_part(record, part)

    # -- building ---------------------------------------------------------------------------------
    def _register_part(self, record: PluginRecord, part: str) -> None:
        """Calls the part's contribution hooks and registers all it returns, or nothing if any fails."""
        try:
            entries: List[Entry] = []
            with self.plugin_manager.watch(record, f"registering {part.split(':', 1)[-1]}"):
                for hook_name in hookspecs.HOOK_KINDS:
                    for impl in getattr(self.plugin_manager.hook, hook_name).get_hookimpls():
                        if impl.plugin_name == part:
                            result = impl.function()
                            entries += self._entries(hook_name, result, record.name, part)
            self._add(entries)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - isolate the plugin part, whatever it raised
            self.plugin_manager.unregister_part(part)
            self.plugin_manager.fail(record, part, exc)

    def _entries(self, hook_name: str, result: Any, plugin: str, part: str) -> List[Entry]:
        if result is None:
            return []
        if isinstance(result, (str, bytes)) or not hasattr(result, "__iter__"):
            raise RegistryError(f"hook {hook_name} must return a list or a dict, got {type(result).__name__}")
        pairs = list(result.items()) if hasattr(result, "items") else [(None, v) for v in result]
        out = []
        for name, value in pairs:
            if hook_name in ("mldsl_components", "mldsl_datasets"):
                kind = _component_kind(value, "dataset" if hook_name == "mldsl_datasets" else None)
                name = name or getattr(value, "type_name", None) or value.__name__
            else:
                kind = hook_name[len("mldsl_"):-1]  # patcher, backend, algorithm
                name = name or getattr(value, "name", None) or getattr(value, "__name__", None)
            out.append(Entry(_check_name(name, kind), value, kind, plugin, part))
        return out

    def _table(self, kind: str) -> _Table:
        return self._tables.get(kind, self._components)

    def _add(self, entries: Sequence[Entry]) -> None:
        pending: Dict[str, Dict[str, Entry]] = {}
        for entry in entries:
            table = self._table(entry.kind)
            table.check(entry, pending.setdefault(table.what, {}), self._describe_plugin)
            pending[table.what][entry.name] = entry
        for entry in entries:
            self._table(entry.kind).entries[entry.name] = entry

    def _describe_plugin(self, plugin: str) -> str:
        record = self.plugin_manager.records.get(plugin)
        return f"{plugin!r} ({record.source})" if record else repr(plugin)

    def register_component(self, cls: type, kind: Optional[str] = None, name: Optional[str] = None,
                           plugin: str = "tests") -> type:
        """Registers a component class directly (for tests and interactive use); returns ``cls``.

        ``kind`` defaults to ``cls.kind`` and ``name`` to ``cls.type_name``. Raises RegistryError for a
        bad class or name, or a name another plugin already registered.
        """
        kind = _component_kind(cls, kind)
        name = _check_name(name or getattr(cls, "type_name", None) or cls.__name__, kind)
        with self._lock:
            self._add([Entry(name, cls, kind, plugin)])
        return cls

    # -- components -------------------------------------------------------------------------------
    def resolve(self, name: str, kind: Optional[str] = None) -> type:
        """The component class registered as ``name`` (or ``plugin.name``).

        Args:
          name: a DSL/JSON name such as ``"Dense"`` or ``"std.Dense"``.
          kind: if given, the component must be of this kind (``"optimizer"``, ...).

        Raises:
          UnknownComponentError: not registered (or not of ``kind``); the message suggests close names
            and says to run ``mldsl plugins``. Nothing is ever imported.
        """
        if kind is not None and kind not in KINDS:
            raise RegistryError(f"unknown component kind {kind!r}; kinds are: {', '.join(KINDS)}")
        entry = self._components.find(name) if isinstance(name, str) else None
        if entry is None:
            raise self._unknown(name, kind)
        if kind is not None and entry.kind != kind:
            choices = ", ".join(self.names(kind)) or "none installed"
            raise UnknownComponentError(f"{name!r} is {_a(entry.kind)}, not {_a(kind)}; {_plural(kind)} are: "
                                        f"{choices} ({PLUGINS_HINT})")
        return entry.value

    def _unknown(self, name: Any, kind: Optional[str]) -> UnknownComponentError:
        what = kind or "component"
        text = f"unknown {what} {name!r}"
        if not isinstance(name, str) or "." in name or hasattr(builtins, name) or name.startswith("__"):
            text += (": only registered components can be used, and mldsl never imports modules or looks "
                     "up Python names written in a file")
        else:
            hint = suggestion_text(name, self.names(kind))
            if hint:
                text += f"; {hint}"
        return UnknownComponentError(f"{text} ({PLUGINS_HINT})")

    def names(self, kind: Optional[str] = None) -> List[str]:
        """Registered component names (of ``kind``, if given), sorted."""
        return sorted(n for n, e in self._components.entries.items() if kind is None or e.kind == kind)

    def kind_of(self, name: str) -> str:
        """The kind (``"layer"``, ...) of the component registered as ``name``."""
        entry = self._components.find(name)
        if entry is None:
            raise self._unknown(name, None)
        return entry.kind

    def entry(self, name: str) -> Entry:
        """The registry entry of component ``name`` (its class, kind and plugin)."""
        entry = self._components.find(name)
        if entry is None:
            raise self._unknown(name, None)
        return entry

    def json_resolver(self, type_name: str) -> Optional[type]:
        """Resolver for ``mldsl.symbolic.from_json(..., resolver=registry.json_resolver)``.

        Returns the registered component class, or None for a name the symbolic core itself knows (such
        as hyper primitives), so it resolves it; raises UnknownComponentError for anything else.
        """
        entry = self._components.find(type_name) if isinstance(type_name, str) else None
        if entry is not None:
            return entry.value
        if _symbolic_knows(type_name):
            from mldsl.components import Component

            if issubclass(sym.lookup_type(type_name), Component):  # a base class, or unregistered
                raise self._not_a_component(type_name, sym.lookup_type(type_name).kind)
            return None
        raise self._unknown(type_name, None)

    def _not_a_component(self, type_name: str, kind: Optional[str]) -> UnknownComponentError:
        names = self.names(kind) if kind else []
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        use = f"; use a registered {kind}: {shown}" if names else ""
        return UnknownComponentError(f"{type_name!r} is not a registered component (an abstract base "
                                     f"class or a class no plugin registers){use} ({PLUGINS_HINT})")

    # -- patchers, backends, algorithms -------------------------------------------------------------
    def _lookup(self, kind: str, name: str) -> Any:
        entry = self._tables[kind].find(name) if isinstance(name, str) else None
        if entry is None:
            text = f"unknown {kind} {name!r}"
            hint = suggestion_text(name, self._tables[kind].entries) if isinstance(name, str) else None
            if hint:
                text += f"; {hint}"
            available = ", ".join(sorted(self._tables[kind].entries)) or "none installed"
            raise RegistryError(f"{text} ({_plural(kind)}: {available}; {PLUGINS_HINT})")
        return entry.value

    def patcher(self, name: str) -> Any:
        """The patcher registered as ``name``; RegistryError (with suggestions) if none."""
        return self._lookup("patcher", name)

    def patchers(self) -> Dict[str, Any]:
        """All patchers, name -> patcher, sorted by name."""
        return self._all("patcher")

    def backend(self, name: str) -> Any:
        """The backend registered as ``name``; RegistryError (with suggestions) if none."""
        return self._lookup("backend", name)

    def backends(self) -> Dict[str, Any]:
        """All backends, name -> backend."""
        return self._all("backend")

    def algorithm(self, name: str) -> Any:
        """The search-algorithm factory registered as ``name``; RegistryError (with suggestions) if none."""
        return self._lookup("algorithm", name)

    def algorithms(self) -> Dict[str, Any]:
        """All search-algorithm factories, name -> factory."""
        return self._all("algorithm")

    def _all(self, kind: str) -> Dict[str, Any]:
        return {n: e.value for n, e in sorted(self._tables[kind].entries.items())}

    # -- lowerings ----------------------------------------------------------------------------------
    def lowerings(self, backend: str) -> Dict[type, Any]:
        """Component class -> lowering for ``backend``, from every plugin's ``mldsl_lowerings`` hook
        (called once per backend name, on first use; a failing plugin part is reported and skipped)."""
        with self._lock:
            if backend not in self._lowerings:
                self._lowerings[backend] = self._collect_lowerings(backend)
        return {cls: fn for cls, (fn, _) in self._lowerings[backend].items()}

    def lowering(self, backend: str, component_cls: type) -> Optional[Any]:
        """The lowering of ``component_cls`` (or of its nearest registered base class) for
        ``backend``, or None when no plugin provides one (the backend then reports it by name)."""
        found = self._lowering_entry(backend, component_cls)
        return None if found is None else found[0]

    def lowering_plugin(self, backend: str, component_cls: type) -> Optional[str]:
        """The name of the plugin whose lowering :meth:`lowering` gives for ``component_cls``, or None."""
        found = self._lowering_entry(backend, component_cls)
        return None if found is None else found[1]

    def _lowering_entry(self, backend: str, component_cls: type) -> Optional[Tuple[Any, str]]:
        """``(lowering, plugin name)`` of ``component_cls`` or of its nearest registered base class."""
        self.lowerings(backend)
        table = self._lowerings[backend]
        for cls in getattr(component_cls, "__mro__", (component_cls,)):
            if cls in table:
                return table[cls]
        return None

    def _collect_lowerings(self, backend: str) -> Dict[type, Tuple[Any, str]]:
        found: Dict[type, Tuple[Any, str]] = {}
        pm = self.plugin_manager
        for impl in pm.hook.mldsl_lowerings.get_hookimpls():
            record = pm.owner_of(impl.plugin_name)
            try:
                with pm.watch(record, f"giving its lowerings for backend {backend!r}"):
                    result = impl.function(*[{"backend": backend}[a] for a in impl.argnames])
                if result is None:
                    continue
                if not hasattr(result, "items"):
                    raise RegistryError(f"mldsl_lowerings must return a dict, got {type(result).__name__}")
                batch = {}
                for key, fn in result.items():
                    cls = self.resolve(key) if isinstance(key, str) else key
                    if not isinstance(cls, type):
                        raise RegistryError(f"lowering key {key!r} is neither a class nor a component name")
                    if cls in found and found[cls][1] != record.name:
                        raise RegistryError(f"plugin {found[cls][1]!r} already lowers {cls.__name__} on "
                                            f"backend {backend!r}")
                    batch[cls] = (fn, record.name)
                found.update(batch)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # noqa: BLE001 - isolate the failing plugin part, SystemExit too
                pm.fail(record, impl.plugin_name, f"lowerings for backend {backend!r}: "
                                                  f"{describe_exception(exc)}")
        return found

    # -- reporting ----------------------------------------------------------------------------------
    def plugins(self) -> List[PluginRecord]:
        """Every plugin seen (loaded, failed or blocked), in load order."""
        return list(self.plugin_manager.records.values())

    def contributions(self, plugin: str) -> Dict[str, Any]:
        """What ``plugin`` contributed: ``{"components": {kind: [names]}, "datasets": [...],
        "patchers": [...], "backends": [...], "algorithms": [...], "lowerings": {backend: [names]}}``."""
        comps = [e for e in self._components.entries.values() if e.plugin == plugin]
        out: Dict[str, Any] = {
            "components": {k: sorted(e.name for e in comps if e.kind == k) for k in KINDS
                           if k != "dataset" and any(e.kind == k for e in comps)},
            "datasets": sorted(e.name for e in comps if e.kind == "dataset"),
        }
        for kind, table in self._tables.items():
            out[kind + "s"] = sorted(e.name for e in table.entries.values() if e.plugin == plugin)
        lowered: Dict[str, List[str]] = {}
        backends = set(self._tables["backend"].entries) | set(self._lowerings) | set(KNOWN_BACKENDS)
        for backend in sorted(backends):
            self.lowerings(backend)
            names = sorted(getattr(c, "type_name", c.__name__) for c, (_, p) in self._lowerings[backend].items()
                           if p == plugin)
            if names:
                lowered[backend] = names
        out["lowerings"] = lowered
        return out


# -- helpers ----------------------------------------------------------------------------------------
def _a(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def _plural(kind: str) -> str:
    return _PLURAL.get(kind, kind + "s")


def _check_name(name: Any, kind: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise RegistryError(f"{name!r} is not a valid {kind} name (letters, digits and _, optionally "
                            f"qualified as plugin.Name)")
    return name


def _component_kind(cls: Any, expected: Optional[str]) -> str:
    if not (isinstance(cls, type) and issubclass(cls, sym.Object)):
        raise RegistryError(f"a component must be a symbolic class (a subclass of a base class in "
                            f"mldsl.components), got {cls!r}")
    kind = expected or getattr(cls, "kind", None)
    if kind not in KINDS:
        raise RegistryError(f"component {cls.__name__} has kind {kind!r}; expected one of {', '.join(KINDS)} "
                            f"(subclass a base class of mldsl.components)")
    if expected and getattr(cls, "kind", expected) != expected:
        raise RegistryError(f"{cls.__name__} has kind {cls.kind!r} but is registered as a {expected}")
    return kind


def _symbolic_knows(type_name: Any) -> bool:
    """Whether the symbolic core's own type table has ``type_name`` (it never imports anything)."""
    try:
        sym.lookup_type(type_name)
        return True
    except UnknownTypeError:
        return False


# -- the process-wide registry ------------------------------------------------------------------------
_registry: Optional[Registry] = None
_registry_lock = threading.Lock()


def build_registry(block: Iterable[str] = (), enable: Iterable[str] = (), autoload: Optional[bool] = None,
                   plugins: Iterable[Tuple[str, Any]] = (), entrypoints: bool = True) -> Registry:
    """A fresh registry (not cached).

    Args:
      block: plugin (entry-point or distribution) names not to load, added to ``MLDSL_PLUGINS_BLOCK``.
      enable: entry points to load even with autoloading disabled, added to ``MLDSL_PLUGINS``.
      autoload: load third-party entry points; None follows ``MLDSL_DISABLE_PLUGIN_AUTOLOAD``.
      plugins: extra ``(name, plugin_object)`` pairs registered after the entry points (like pytest's
        ``plugins=`` argument).
      entrypoints: False loads no entry point at all (only ``plugins``).
    """
    pm = PluginManager()
    if entrypoints:
        pm.load_from_environment(block, enable, autoload)
    for name, plugin in plugins:
        pm.register_plugin(plugin, name)
    return Registry(pm)


def get_registry() -> Registry:
    """The process-wide registry; plugins are loaded on the first call (configured by the environment)."""
    global _registry
    if _registry is None:
        with _registry_lock:
            if _registry is None:
                _registry = build_registry()
    return _registry


def reset_registry(registry: Optional[Registry] = None) -> None:
    """Forgets the cached registry (the next ``get_registry()`` reloads plugins), or installs ``registry``."""
    global _registry
    with _registry_lock:
        _registry = registry
