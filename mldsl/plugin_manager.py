"""Finding and loading plugins: a pluggy ``PluginManager`` for the project ``"mldsl"``.

Plugins come from the ``mldsl`` entry-point group of installed distributions (mldsl's own standard
library is the entry point ``std`` of the ``mldsl`` distribution). Loading isolates failures: a plugin
(or one part of it) that fails to import, register or validate is recorded with its error, a
:class:`PluginWarning` is issued, ``mldsl plugins`` shows it, and every other plugin still works.

Environment:

- ``MLDSL_DISABLE_PLUGIN_AUTOLOAD=1``: load no third-party entry points; mldsl's own ``std`` plugin still
  loads, and so do those named in ``MLDSL_PLUGINS``.
- ``MLDSL_PLUGINS=name1,name2``: entry points to load even when autoloading is disabled.
- ``MLDSL_PLUGINS_BLOCK=name1,name2``: never load these (entry-point or distribution names; like pytest's
  ``-p no:NAME``). ``std`` may be blocked too, leaving only what other plugins add.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

import pluggy

from mldsl import hookspecs

AUTOLOAD_ENV = "MLDSL_DISABLE_PLUGIN_AUTOLOAD"
ENABLE_ENV = "MLDSL_PLUGINS"
BLOCK_ENV = "MLDSL_PLUGINS_BLOCK"
ENTRY_POINT_GROUP = "mldsl"
#: The distribution whose entry points are mldsl's own (loaded even with autoloading disabled).
BUILTIN_DISTRIBUTION = "mldsl"


class PluginWarning(UserWarning):
    """A plugin failed to load or register and is ignored (the message says which and why)."""


@dataclass
class PluginRecord:
    """What is known about one plugin: where it comes from and whether it loaded."""

    name: str
    module: str = ""
    dist_name: Optional[str] = None
    dist_version: Optional[str] = None
    #: pluggy names of the registered parts (the plugin module, then its ``mldsl_plugins`` modules)
    parts: List[str] = field(default_factory=list)
    #: part (or the plugin name itself, for a plugin that failed as a whole) -> "ErrorType: message"
    errors: Dict[str, str] = field(default_factory=dict)
    blocked: bool = False

    @property
    def ok(self) -> bool:
        """Loaded with no error in any part."""
        return not self.errors and not self.blocked

    @property
    def source(self) -> str:
        """``"mldsl-hello 0.1.0"`` (or ``"(not installed)"`` for a plugin registered in-process)."""
        if self.dist_name is None:
            return "(not installed)"
        return f"{self.dist_name} {self.dist_version or '?'}"


def normalize_name(name: str) -> str:
    """Plugin/distribution names compare case-insensitively with ``-``, ``_`` and ``.`` equivalent."""
    return re.sub(r"[-_.]+", "-", name).lower().strip()


def _env_names(var: str) -> Tuple[str, ...]:
    return tuple(n.strip() for n in os.environ.get(var, "").split(",") if n.strip())


def _env_flag(var: str) -> bool:
    return os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on")


def describe_exception(exc: BaseException) -> str:
    """``"ImportError: No module named 'x'"``."""
    return f"{type(exc).__name__}: {exc}"


class PluginManager(pluggy.PluginManager):
    """pluggy's manager for the project ``"mldsl"`` with the hook specs of :mod:`mldsl.hookspecs`,
    per-plugin failure isolation, and a :class:`PluginRecord` for every plugin seen."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.records: Dict[str, PluginRecord] = {}
        self._part_owner: Dict[str, str] = {}

    # -- registration ---------------------------------------------------------------------------
    def register_plugin(self, plugin: Any, name: str, dist: Any = None) -> PluginRecord:
        """Registers ``plugin`` (a module or object with hookimpls) and the modules its
        ``mldsl_plugins`` tuple names, each part isolated; returns the plugin's record."""
        record = self.records.get(name)
        if record is None:
            record = self.records[name] = PluginRecord(name=name, module=_module_name(plugin))
            if dist is not None:
                record.dist_name, record.dist_version = dist.metadata["Name"], dist.version
        if self._register_part(record, plugin, name):
            for module_name in getattr(plugin, "mldsl_plugins", ()) or ():
                try:
                    part = importlib.import_module(module_name)
                except Exception as exc:  # noqa: BLE001 - isolate any import failure
                    self.fail(record, f"{name}:{module_name}", exc)
                    continue
                self._register_part(record, part, f"{name}:{module_name}")
        return record

    def _register_part(self, record: PluginRecord, obj: Any, part_name: str) -> bool:
        try:
            if self.register(obj, name=part_name) is None:
                return False  # blocked via pluggy's set_blocked
        except Exception as exc:  # noqa: BLE001 - a bad signature, a duplicate module, ...
            self.fail(record, part_name, exc)
            return False
        try:
            self.check_pending()  # earlier parts were checked already: only this one can fail
        except pluggy.PluginValidationError as exc:
            self.unregister(name=part_name)
            self.fail(record, part_name, exc)
            return False
        record.parts.append(part_name)
        self._part_owner[part_name] = record.name
        return True

    def unregister_part(self, part_name: str) -> None:
        """Removes one registered part (after its contributions failed to register)."""
        if self.get_plugin(part_name) is not None:
            self.unregister(name=part_name)
        owner = self.records.get(self._part_owner.pop(part_name, ""))
        if owner is not None and part_name in owner.parts:
            owner.parts.remove(part_name)

    def fail(self, record: PluginRecord, part_name: str, exc: BaseException | str) -> None:
        """Records that ``part_name`` of ``record``'s plugin failed, and warns."""
        message = exc if isinstance(exc, str) else describe_exception(exc)
        record.errors[part_name] = message
        what = record.name if part_name == record.name else f"{record.name} (part {part_name.split(':', 1)[-1]})"
        warnings.warn(
            f"mldsl plugin {what} from {record.source} failed and is ignored: {message}. "
            f"Run `mldsl plugins` to see all plugins; set {BLOCK_ENV}={record.name} to stop loading it.",
            PluginWarning, stacklevel=3)

    def owner_of(self, part_name: str) -> PluginRecord:
        """The record of the plugin a registered part belongs to."""
        return self.records[self._part_owner.get(part_name, part_name)]

    # -- discovery ------------------------------------------------------------------------------
    def load_entrypoints(self, block: Iterable[str] = (), enable: Iterable[str] = (),
                         autoload: bool = True) -> None:
        """Loads the plugins of the ``mldsl`` entry-point group, mldsl's own first.

        Args:
          block: entry-point or distribution names never to load (recorded as blocked).
          enable: entry-point names to load even when ``autoload`` is False.
          autoload: False loads only mldsl's own entry points and those in ``enable``.
        """
        block, enable = tuple(block), tuple(enable)
        blocked = {normalize_name(n) for n in block}
        enabled = {normalize_name(n) for n in enable}
        for dist, ep in _entry_points():
            dist_name = dist.metadata["Name"] or ""
            if ep.name in self.records:
                other = self.records[ep.name]
                if other.dist_name == dist_name:
                    continue  # the same distribution seen twice on sys.path
                record = self.records[f"{dist_name}:{ep.name}"] = PluginRecord(ep.name, ep.value, dist_name,
                                                                              dist.version)
                self.fail(record, record.name, f"the plugin name {ep.name!r} is already taken by {other.source}")
                continue
            if blocked & {normalize_name(ep.name), normalize_name(dist_name)}:
                self.records[ep.name] = PluginRecord(ep.name, ep.value, dist_name, dist.version, blocked=True)
                continue
            builtin = normalize_name(dist_name) == BUILTIN_DISTRIBUTION
            if not (autoload or builtin or normalize_name(ep.name) in enabled):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001 - isolate any import failure
                record = self.records[ep.name] = PluginRecord(ep.name, ep.value, dist_name, dist.version)
                self.fail(record, ep.name, exc)
                continue
            self.register_plugin(plugin, ep.name, dist)
        loaded = {normalize_name(n) for n in self.records}
        for name in dict.fromkeys(n for n in enable if normalize_name(n) not in loaded):
            record = self.records[name] = PluginRecord(name)
            self.fail(record, name, f"no installed distribution has an entry point {name!r} in the "
                                    f"{ENTRY_POINT_GROUP!r} group")

    def load_from_environment(self, block: Iterable[str] = (), enable: Iterable[str] = (),
                              autoload: Optional[bool] = None) -> None:
        """``load_entrypoints`` with the environment variables documented above added to the arguments
        (``autoload=None`` follows ``MLDSL_DISABLE_PLUGIN_AUTOLOAD``)."""
        self.load_entrypoints(block=tuple(block) + _env_names(BLOCK_ENV),
                              enable=tuple(enable) + _env_names(ENABLE_ENV),
                              autoload=(not _env_flag(AUTOLOAD_ENV)) if autoload is None else autoload)

    # -- reporting ------------------------------------------------------------------------------
    def failures(self) -> List[Tuple[str, str]]:
        """``(plugin or part name, error)`` for everything that failed to load."""
        return [(part, err) for rec in self.records.values() for part, err in rec.errors.items()]


def _module_name(plugin: Any) -> str:
    return getattr(plugin, "__name__", None) or type(plugin).__name__


def _entry_points() -> List[Tuple[Any, Any]]:
    """``(distribution, entry point)`` of the ``mldsl`` group, mldsl's own first, then by name."""
    found = []
    for dist in importlib.metadata.distributions():
        for ep in dist.entry_points:
            if ep.group == ENTRY_POINT_GROUP:
                found.append((dist, ep))
    found.sort(key=lambda d_ep: (normalize_name(d_ep[0].metadata["Name"] or "") != BUILTIN_DISTRIBUTION,
                                 d_ep[1].name))
    return found


def entry_point_distributions() -> List[Tuple[str, str, List[str]]]:
    """``(distribution name, version, [entry-point names])`` of every installed distribution providing
    mldsl plugins, mldsl's own first, without importing any plugin (for ``mldsl --version -v``)."""
    seen: Dict[Tuple[str, str], List[str]] = {}
    for dist, ep in _entry_points():
        names = seen.setdefault((dist.metadata["Name"], dist.version), [])
        if ep.name not in names:
            names.append(ep.name)
    return [(name, version, eps) for (name, version), eps in seen.items()]
