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
- ``MLDSL_PLUGIN_IMPORT_WARN_S=SECONDS`` (default 5; 0 turns it off): when one plugin is still importing
  or registering after this long, a line on stderr names it and says how to skip it.

Isolation covers every exception a plugin raises while it is imported or registered, ``SystemExit``
included (a plugin calling ``sys.exit()`` at import fails like any other); only ``KeyboardInterrupt``
goes through, so Ctrl-C still stops the command. A plugin that *hangs* is not abandoned: Python cannot
cancel an import in progress (a thread cannot be killed, and importing plugins on a side thread would
break those that install signal handlers or need the main thread, and leave a half-imported module
running). So the watchdog only tells the user which plugin is slow and how to skip it; the command waits
(a slow plugin may just be importing a large library) until the plugin finishes or Ctrl-C.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import os
import re
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

import pluggy

from mldsl import hookspecs

AUTOLOAD_ENV = "MLDSL_DISABLE_PLUGIN_AUTOLOAD"
ENABLE_ENV = "MLDSL_PLUGINS"
BLOCK_ENV = "MLDSL_PLUGINS_BLOCK"
IMPORT_WARN_ENV = "MLDSL_PLUGIN_IMPORT_WARN_S"
#: Seconds one plugin may take to import or register before the watchdog names it on stderr.
DEFAULT_IMPORT_WARN_S = 5.0
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
    """``"ImportError: No module named 'x'"``; ``"SystemExit: the plugin called sys.exit(3)"``."""
    if isinstance(exc, SystemExit):
        code = "" if exc.code is None else repr(exc.code)
        return f"SystemExit: the plugin called sys.exit({code})"
    return f"{type(exc).__name__}: {exc}"


def import_warn_seconds() -> float:
    """``$MLDSL_PLUGIN_IMPORT_WARN_S`` (0: never warn), or the default; a bad value warns and uses it."""
    text = os.environ.get(IMPORT_WARN_ENV, "").strip()
    if not text:
        return DEFAULT_IMPORT_WARN_S
    try:
        seconds = float(text)
        if seconds >= 0 and seconds != float("inf"):
            return seconds
    except ValueError:
        pass
    warnings.warn(f"{IMPORT_WARN_ENV}={text!r} is not a number of seconds >= 0; using "
                  f"{DEFAULT_IMPORT_WARN_S:g}", PluginWarning, stacklevel=2)
    return DEFAULT_IMPORT_WARN_S


class PluginLoadInterrupted(KeyboardInterrupt):
    """Ctrl-C while a plugin was importing or registering; the message names it and how to skip it."""


class SlowLoadWatchdog:
    """Names a plugin on stderr when importing or registering it takes longer than ``warn_after`` seconds.

    ``with watchdog.watch("slow", "mldsl-slow 0.1", "importing slow_plugin"): ...`` prints one line if the
    block is still running after ``warn_after`` seconds, and a second line when it finally ends.
    ``warn_after=0`` turns it off. One daemon thread serves every watch; it ends after a second idle.
    """

    IDLE_EXIT_S = 1.0

    def __init__(self, warn_after: Optional[float] = None) -> None:
        self.warn_after = import_warn_seconds() if warn_after is None else warn_after
        self._cond = threading.Condition()
        self._job: Optional[_Watch] = None
        self._thread: Optional[threading.Thread] = None

    @contextlib.contextmanager
    def watch(self, plugin: str, source: str, doing: str) -> Iterator[None]:
        """Runs the block under the watchdog; Ctrl-C inside it becomes :class:`PluginLoadInterrupted`."""
        try:
            with self._timed(_Watch(plugin, source, doing, time.monotonic())):
                yield
        except PluginLoadInterrupted:
            raise
        except KeyboardInterrupt:
            raise PluginLoadInterrupted(
                f"interrupted while loading plugin {plugin!r} ({source}, {doing}); to skip it, use "
                f"`mldsl -p no:{plugin} ...` or set {BLOCK_ENV}={plugin}") from None

    @contextlib.contextmanager
    def _timed(self, job: "_Watch") -> Iterator[None]:
        if self.warn_after <= 0:
            yield
            return
        with self._cond:
            self._job = job
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mldsl-plugin-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
        try:
            yield
        finally:
            with self._cond:
                self._job = None
                warned = job.warned
                self._cond.notify()
        if warned:
            _say(f"mldsl: plugin {job.plugin!r} finished loading after {time.monotonic() - job.started:.1f} s.")

    def _run(self) -> None:
        while True:
            with self._cond:
                job = self._job
                if job is None:
                    if not self._cond.wait(self.IDLE_EXIT_S) and self._job is None:
                        self._thread = None
                        return
                    continue
                remaining = job.started + self.warn_after - time.monotonic()
                if remaining > 0 or job.warned:
                    self._cond.wait(remaining if remaining > 0 else None)
                    continue
                job.warned = True
            _say(f"mldsl: plugin {job.plugin!r} ({job.source}) is still loading after {self.warn_after:g} s "
                 f"({job.doing}). If it hangs, press Ctrl-C and skip it with `mldsl -p no:{job.plugin} ...` "
                 f"or {BLOCK_ENV}={job.plugin}; {IMPORT_WARN_ENV}=0 silences this.")


@dataclass
class _Watch:
    plugin: str
    source: str
    doing: str
    started: float
    warned: bool = False


def _say(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr closed: the message is advice, never worth a failure
        pass


class PluginManager(pluggy.PluginManager):
    """pluggy's manager for the project ``"mldsl"`` with the hook specs of :mod:`mldsl.hookspecs`,
    per-plugin failure isolation, and a :class:`PluginRecord` for every plugin seen."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.records: Dict[str, PluginRecord] = {}
        self._part_owner: Dict[str, str] = {}
        self.watchdog = SlowLoadWatchdog()

    def watch(self, record: PluginRecord, doing: str):
        """Context manager: the watchdog names ``record``'s plugin if ``doing`` takes too long."""
        return self.watchdog.watch(record.name, record.source, doing)

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
                    with self.watch(record, f"importing {module_name}"):
                        part = importlib.import_module(module_name)
                except KeyboardInterrupt:
                    raise
                except BaseException as exc:  # noqa: BLE001 - isolate any import failure, SystemExit too
                    self.fail(record, f"{name}:{module_name}", exc)
                    continue
                self._register_part(record, part, f"{name}:{module_name}")
        return record

    def _register_part(self, record: PluginRecord, obj: Any, part_name: str) -> bool:
        try:
            if self.register(obj, name=part_name) is None:
                return False  # blocked via pluggy's set_blocked
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - a bad signature, a duplicate module, ...
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
            f"plugin {what} ({record.source}) failed to load and is ignored: {message}. "
            f"Run `mldsl plugins` to see all plugins; to stop loading it, use `mldsl -p no:{record.name}` "
            f"or set {BLOCK_ENV}={record.name}.",
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
            record = PluginRecord(ep.name, ep.value, dist_name, dist.version)
            try:
                with self.watch(record, f"importing {ep.value}"):
                    plugin = ep.load()
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # noqa: BLE001 - isolate any import failure, SystemExit too
                self.records[ep.name] = record
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
