"""Patching: named, typed edits of an experiment (PyGlove's ``pg.patching``).

A patcher is a function whose first parameter is the value being patched and whose other parameters
are its typed arguments::

    @patcher([("learning_rate", typing.Float(min_value=0.0))])
    def change_lr(experiment, learning_rate):
        return {path: learning_rate for path in sym.query(experiment, r"(^|\\.)learning_rate$")}

It returns a dict ``{path: value}`` of edits (``{"": new}`` replaces the whole value), a rule
``fn(key_path, value[, parent]) -> new_value`` (see ``rebind``), a new value replacing the whole target,
a list of patches to apply in turn, :class:`Unchanged` saying why it found nothing to do, or None after
editing its argument in place. Calling a patcher with arguments gives a :class:`PatcherCall`
(validated against the signature).

``patch(x, patches)`` edits ``x`` in place and returns it, as ``pg.patch`` does (or the new value when a
patch replaces the whole of it); ``patch(x.clone(deep=True), patches)`` leaves ``x`` as it is. Patches
apply in order and are any mix of:

* :class:`PatcherCall` objects (``change_lr(0.003)``) or patchers with no required argument;
* dicts ``{path: value}``, and :class:`Patch` (a named dict of edits: a ``patch NAME { ... }`` of a
  ``.mlx`` file);
* strings ``'scale_lr_with_batch_size?batch_size=1024'``, ``'change_lr?0.003'``, ``'relu_to_elu'``:
  arguments (``&``-separated, ``k=v`` or positional) are parsed as Python literals and coerced to the
  parameter's type, so ``name=Cifar10`` or ``factor=2`` work unquoted;
* rules ``fn(key_path, value)`` or ``fn(key_path, value, parent) -> new_value``.

A name is resolved by :func:`resolve_patch`, the one resolver behind ``with`` in ``.mlx`` files,
``mldsl run --patch``, the REPL's ``:patch`` and this function: the caller's ``scope`` (a loaded module,
or any mapping of names to patches) first, then patchers defined with ``@patcher`` outside plugins, then
the plugins' patchers (contributed through the ``mldsl_patchers`` hook). ``plugin.name`` (``std.relu_to_elu``)
always means the plugin's. A patcher call or named patch that changes nothing issues a
:class:`PatchWarning` saying which and why.
"""
from __future__ import annotations

import ast
import inspect
import typing
import warnings
from collections.abc import Mapping
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union
from urllib.parse import quote, unquote

from mldsl import symbolic as sym
from mldsl.errors import MldslError, PatchError, RegistryError, ValidationError, suggestion_text
from mldsl.symbolic import typing as pt
from mldsl.symbolic.base import as_rule

__all__ = ["patcher", "Patcher", "PatcherCall", "Patch", "Unchanged", "PatchWarning", "patch",
           "parse_patch", "resolve_patch", "PatchError"]

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


class PatchWarning(UserWarning):
    """A patcher call or named patch changed nothing (the message names it and says why)."""


def _error(message: str, path: Any = "") -> PatchError:
    err = PatchError(f"{message} (path={path})" if path != "" else message)
    err.path, err.reason = str(path), message
    return err


# -- patcher definitions -----------------------------------------------------------------------------
class Patcher:
    """A named, typed patcher (what ``@patcher`` returns). Call it with arguments to get a
    :class:`PatcherCall`; ``args`` is the ordered ``{name: value_spec}`` of its arguments."""

    def __init__(self, fn: Callable, name: Optional[str] = None,
                 args: Optional[Sequence[tuple]] = None, description: Optional[str] = None):
        if not callable(fn):
            raise TypeError(f"@patcher needs a function, got {fn!r}")
        self.fn = fn
        self.name = name or fn.__name__
        if not self.name or not set(self.name) <= _NAME_CHARS:
            raise ValidationError(f"invalid patcher name {self.name!r} (letters, digits and _ only)")
        self.__name__ = self.name
        self.__doc__ = description or inspect.getdoc(fn) or ""
        self.__wrapped__ = fn
        self.args: Dict[str, pt.ValueSpec] = {}
        self.descriptions: Dict[str, Optional[str]] = {}
        overrides: Dict[str, pt.Field] = {}
        for entry in args or ():
            f = pt.Field.make(tuple(entry))
            overrides[f.key] = f
        params = list(inspect.signature(fn).parameters.values())
        if not params or params[0].kind not in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
            raise ValidationError(f"patcher {self.name!r}: the first parameter must take the value being "
                                  f"patched (def {fn.__name__}(experiment, ...))")
        for p in params[1:]:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise ValidationError(f"patcher {self.name!r}: *args/**kwargs are not supported")
            default = sym.MISSING if p.default is inspect.Parameter.empty else p.default
            if p.name in overrides:
                field = overrides.pop(p.name)
                spec = field.value_spec
                if default is not sym.MISSING and not spec.has_default:
                    spec = spec.with_default(default)
                self.descriptions[p.name] = field.description
            else:
                spec = pt.from_annotation(_resolve_annotation(fn, p), default)
                self.descriptions[p.name] = None
            self.args[p.name] = spec
        if overrides:
            raise ValidationError(f"patcher {self.name!r}: args {sorted(overrides)} are not parameters of "
                                  f"{fn.__name__}")

    @property
    def signature(self) -> str:
        """``name(arg: Spec, ...)`` for help text."""
        return f"{self.name}(" + ", ".join(f"{k}: {v!r}" for k, v in self.args.items()) + ")"

    def bind(self, args: Sequence[Any] = (), kwargs: Optional[Dict[str, Any]] = None) -> "PatcherCall":
        """A validated :class:`PatcherCall` of this patcher with these arguments."""
        kwargs = dict(kwargs or {})
        names = list(self.args)
        if len(args) > len(names):
            raise _error(f"patcher {self.name!r} takes {len(names)} argument(s)"
                         f"{' (' + ', '.join(names) + ')' if names else ''} but {len(args)} were given")
        given = dict(zip(names, args))
        for k, v in kwargs.items():
            if k not in self.args:
                hint = suggestion_text(k, names)
                raise _error(f"patcher {self.name!r} has no argument {k!r}"
                             + (f"; {hint}" if hint else "")
                             + (f" (arguments: {', '.join(names)})" if names else " (it takes no arguments)"))
            if k in given:
                raise _error(f"patcher {self.name!r} got multiple values for argument {k!r}")
            given[k] = v
        values = {}
        for k, spec in self.args.items():
            v = given.get(k, sym.MISSING)
            if v is sym.MISSING and not spec.has_default:
                raise _error(f"patcher {self.name!r} needs argument {k!r} ({spec!r})")
            try:
                values[k] = spec.apply(v, sym.KeyPath(k))
            except ValidationError as e:
                reason = getattr(e, "reason", None) or str(e)
                raise _error(f"patcher {self.name!r}: bad argument {k}={v!r}: {reason}", k) from None
        return PatcherCall(self, values)

    def __call__(self, *args: Any, **kwargs: Any) -> "PatcherCall":
        return self.bind(args, kwargs)

    def patch(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        """Applies this patcher with these arguments to ``target`` in place; returns the result."""
        return self.bind(args, kwargs).patch(target)

    def __repr__(self) -> str:
        return f"<patcher {self.signature}>"


def _resolve_annotation(fn: Callable, p: inspect.Parameter) -> Any:
    ann = p.annotation
    if isinstance(ann, str):
        try:
            return typing.get_type_hints(fn).get(p.name, inspect.Parameter.empty)
        except Exception:  # noqa: BLE001 - an unresolvable annotation means "any value"
            return inspect.Parameter.empty
    return ann


#: Patchers defined with ``@patcher`` in this process, by name (the latest definition wins).
_DEFINED: Dict[str, Patcher] = {}


def patcher(args: Any = None, name: Optional[str] = None) -> Any:
    """Decorator making a function a :class:`Patcher`, in PyGlove's forms: ``@patcher``,
    ``@patcher()``, ``@patcher([("batch_size", typing.Int(min_value=1)), ...])``, ``@patcher(args=[...])``,
    ``@patcher(name="x")`` (and ``@patcher("x")``).

    Argument types come from the annotations (``float``, ``int``, ``Optional[str]``, ...) and defaults;
    ``args=[(name, value_spec[, description]), ...]`` overrides them with ``mldsl.typing`` specs (e.g.
    bounds). A patcher defined here takes precedence over a plugin's patcher of the same name wherever
    a name is looked up; the plugin's stays reachable by its qualified name (``std.relu_to_elu``)."""
    if isinstance(args, str) and name is None:  # @patcher("name")
        args, name = None, args
    fn = None
    if callable(args) and not isinstance(args, (list, tuple)):  # @patcher without parentheses
        fn, args = args, None
    if args is not None and not isinstance(args, (list, tuple)):
        raise TypeError(f"@patcher takes a list of (name, value_spec) pairs, got {type(args).__name__} "
                        f"{args!r}")

    def make(f: Callable) -> Patcher:
        p = Patcher(f, name=name, args=args)
        _DEFINED[p.name] = p
        return p

    return make if fn is None else make(fn)


# -- what patch() applies ----------------------------------------------------------------------------
class Patch(dict):
    """A named set of path edits (``patch NAME { path = value ... }`` in a ``.mlx`` file): a dict
    ``{"a.b[1].c": value}`` in source order; ``patch(x, [p])`` applies it, and a module holding it makes
    it reachable by name (``patch(x, ["NAME"], scope=module)``)."""

    def __init__(self, edits=(), name: Optional[str] = None) -> None:
        super().__init__(edits)
        self.name = name

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, dict) or list(self) != list(other):
            return False
        return all(sym.eq(self[k], other[k]) for k in self)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # mutable

    def __repr__(self) -> str:
        return f"Patch({dict.__repr__(self)}, name={self.name!r})"


class PatcherCall:
    """A patcher with validated arguments (``change_lr(0.003)``); ``patch(target)`` applies it."""

    def __init__(self, patcher_: Patcher, args: Dict[str, Any]):
        self.patcher = patcher_
        self.args = dict(args)

    @property
    def name(self) -> str:
        return self.patcher.name

    def patch(self, target: Any) -> Any:
        """Applies this call to ``target`` in place; returns the result (a new value if it replaced it)."""
        return patch(target, [self])

    def _run(self, target: Any) -> Any:
        """What the patcher function returns for ``target`` (its errors name the patcher)."""
        try:
            return self.patcher.fn(target, **self.args)
        except MldslError:
            raise
        except Exception as exc:  # noqa: BLE001 - name the patcher in whatever went wrong
            raise _error(f"patcher {self.name!r} failed: {type(exc).__name__}: {exc}") from exc

    def to_string(self) -> str:
        """The URL-like form ``name?k=v&k2=v2`` (what ``patch()`` and ``--patch`` accept)."""
        if not self.args:
            return self.name
        parts = []
        for k, v in self.args.items():
            spec = self.patcher.args.get(k)
            if spec is not None and spec.has_default and sym.eq(v, spec.default):
                continue
            text = v if isinstance(v, str) else repr(sym.to_json(v) if isinstance(v, sym.Symbolic) else v)
            parts.append(f"{k}={quote(str(text), safe=_SAFE)}")
        return self.name + ("?" + "&".join(parts) if parts else "")

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.args.items())
        return f"{self.name}({args})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, PatcherCall) and other.patcher is self.patcher
                and all(sym.eq(v, other.args.get(k)) for k, v in self.args.items()))

    def __hash__(self) -> int:
        return hash((self.name, tuple(self.args)))


class Unchanged:
    """What a patcher returns when it finds nothing to change, saying why: ``patch`` then issues a
    :class:`PatchWarning` with ``reason`` (``return edits or Unchanged("the model has no Conv2D")``)."""

    def __init__(self, reason: str):
        self.reason = reason

    def __repr__(self) -> str:
        return f"Unchanged({self.reason!r})"


_SAFE = "[]()'\",.:-+_~*/ "


# -- strings -------------------------------------------------------------------------------------------
def parse_patch(text: str, scope: Optional[Mapping] = None, registry: Any = None) -> Union[PatcherCall, Patch]:
    """What ``'name'``, ``'name?v1&v2'`` or ``'name?k=v&k2=v2'`` means: a :class:`PatcherCall`, or
    the :class:`Patch` a bare name of ``scope`` holds (see :func:`resolve_patch`)."""
    if not isinstance(text, str):
        raise _error(f"a patch string is expected, got {type(text).__name__} {text!r}")
    text = text.strip()
    name, _, query = text.partition("?")
    name = name.strip()
    if not name or not set(name) <= _NAME_CHARS:
        raise _error(f"bad patch {text!r}: expected 'name', 'name?value' or 'name?key=value&key2=value2'")
    found = resolve_patch(name, scope, registry)
    if isinstance(found, Patch):
        if query.strip():
            raise _error(f"bad patch {text!r}: patch {name!r} is a set of edits and takes no arguments")
        return found
    args: List[Any] = []
    kwargs: Dict[str, Any] = {}
    if query.strip():
        for item in query.split("&"):
            if not item.strip():
                continue
            key, eq, raw = item.partition("=")
            if eq and key.strip().isidentifier():
                key = key.strip()
                if key in kwargs:
                    raise _error(f"bad patch {text!r}: argument {key!r} given twice")
                kwargs[key] = _coerce(found, key, unquote(raw))
            else:
                if kwargs:
                    raise _error(f"bad patch {text!r}: positional value {item!r} after a keyword argument")
                names = list(found.args)
                key = names[len(args)] if len(args) < len(names) else None
                args.append(_coerce(found, key, unquote(item)))
    return found.bind(args, kwargs)


def _coerce(p: Patcher, key: Optional[str], raw: str) -> Any:
    """A string argument as the parameter's type: a Python literal, else the text itself."""
    text = raw.strip()
    spec = p.args.get(key) if key is not None else None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = text
    if spec is None:
        return value
    if text.lower() in ("none", "null") and spec.is_noneable:
        return None
    base = _base_specs(spec)
    if any(isinstance(s, pt.Str) for s in base) and not isinstance(value, str):
        if not any(isinstance(s, (pt.Int, pt.Float, pt.Bool, pt.List, pt.Dict)) for s in base):
            return text
    if any(isinstance(s, pt.Bool) for s in base) and isinstance(value, str):
        low = text.lower()
        if low in ("true", "yes", "on", "1"):
            return True
        if low in ("false", "no", "off", "0"):
            return False
    if any(isinstance(s, pt.Bool) for s in base) and value in (0, 1) and not isinstance(value, bool):
        if not any(isinstance(s, (pt.Int, pt.Float)) for s in base):
            return bool(value)
    if (any(isinstance(s, pt.Int) for s in base) and not any(isinstance(s, pt.Float) for s in base)
            and isinstance(value, float) and value.is_integer()):
        return int(value)
    return value


def _base_specs(spec: pt.ValueSpec) -> List[pt.ValueSpec]:
    if isinstance(spec, pt.Union):
        out: List[pt.ValueSpec] = []
        for c in spec.candidates:
            out.extend(_base_specs(c))
        return out
    return [spec]


# -- names ---------------------------------------------------------------------------------------------
def resolve_patch(name: str, scope: Optional[Mapping] = None, registry: Any = None) -> Union[Patcher, Patch]:
    """What the patch name ``name`` means, looked up in this order:

    1. ``scope``: the caller's named patches, a module from ``mldsl.load_mlx`` (its ``patch``
       definitions) or any mapping of names to :class:`Patch` or :class:`Patcher` values; a name the
       scope gives to something else (an experiment) is an error, not a reason to look further;
    2. patchers defined with ``@patcher`` in this process, outside any plugin's package;
    3. the plugins' patchers (``registry``, by default :func:`mldsl.get_registry`).

    A qualified name ``plugin.name`` (``std.relu_to_elu``) means the plugin's patcher. A value does not
    remember the file it was loaded from (a clone or a JSON round trip would lose or wrongly keep it), so
    a file's patches are found only through ``scope``; ``mldsl run FILE --patch`` and the REPL pass the
    file's or the session's definitions. Unknown names raise RegistryError with a did-you-mean.
    """
    if registry is None:
        from mldsl.registry import get_registry

        registry = get_registry()
    if "." in name:
        found = _plugin_patcher(name, registry)
        if found is not None:
            return found
    if scope is not None and name in scope:
        value = scope[name]
        if isinstance(value, (Patch, Patcher)):
            return value
        raise _error(f"{name!r} is {_describe(value)}, not a patch: a patch name is a `patch` definition "
                     f"or a patcher")
    defined = _defined_patchers(registry).get(name)
    if defined is not None:
        return defined
    found = _plugin_patcher(name, registry)
    if found is not None:
        return found
    known = sorted(set(_plugin_names(registry)) | set(_defined_patchers(registry))
                   | {n for n, v in (scope or {}).items() if isinstance(v, (Patch, Patcher))})
    hint = suggestion_text(name, known)
    scope_hint = ("" if scope is not None else
                  "; a patch defined in a .mlx file is found through the file's module: "
                  "patch(value, [NAME], scope=mldsl.load_mlx(FILE))")
    raise RegistryError(f"unknown patch or patcher {name!r}" + (f"; {hint}" if hint else "")
                        + f" (patchers: {', '.join(known) or 'none installed'}{scope_hint}; run `mldsl "
                          f"plugins` to list what is installed)")


def _plugin_patcher(name: str, registry: Any) -> Optional[Patcher]:
    try:
        found = registry.patcher(name)
    except RegistryError:
        return None
    if isinstance(found, Patcher):
        return found
    if callable(found):  # a plain function registered by a plugin
        return Patcher(found, name=name)
    raise RegistryError(f"patcher {name!r} is registered as {found!r}, which is not a patcher")


def _plugin_names(registry: Any) -> List[str]:
    try:
        return list(registry.patchers())
    except Exception:  # noqa: BLE001 - a partial registry: suggest what we have
        return []


def _defined_patchers(registry: Any) -> Dict[str, Patcher]:
    """The ``@patcher`` definitions of this process that are not a plugin's: those whose function lives
    outside the module (and its submodules) of every plugin the registry knows, loaded or blocked."""
    plugin_modules = tuple(record.module.split(":")[0] for record in registry.plugins() if record.module)

    def in_plugin(module: str) -> bool:
        return any(module == m or module.startswith(m + ".") for m in plugin_modules)

    return {n: p for n, p in _DEFINED.items() if not in_plugin(getattr(p.fn, "__module__", None) or "")}


def _describe(value: Any) -> str:
    """``an Experiment``, ``a Dense``, ``an int value``."""
    name = type(value).__name__
    what = name if isinstance(value, sym.Object) else f"{name} value"
    return ("an " if name[0] in "AEIOUaeiou" else "a ") + what


# -- patch ---------------------------------------------------------------------------------------------
PatchLike = Union[PatcherCall, Patcher, Patch, dict, str, Callable]


def _as_patch(item: Any, scope: Optional[Mapping], registry: Any) -> Any:
    if isinstance(item, (PatcherCall, Patch)):
        return item
    if isinstance(item, Patcher):
        return item.bind()
    if isinstance(item, str):
        return parse_patch(item, scope, registry)
    if isinstance(item, dict):
        return item
    if callable(item):
        try:
            return as_rule(item)
        except TypeError as exc:
            raise _error(f"{exc}; a function taking the experiment is a patcher: decorate it with "
                         f"@mldsl.patcher") from None
    raise _error(f"cannot apply {type(item).__name__} {item!r} as a patch: expected a patcher call, a "
                 f"dict {{path: value}}, a 'name?k=v' string or a rule fn(key_path, value[, parent])")


def patch(value: Any, patches: Union[PatchLike, Iterable[PatchLike]], scope: Optional[Mapping] = None,
          registry: Any = None) -> Any:
    """Applies ``patches`` in order to ``value`` in place and returns it, as PyGlove's ``pg.patch``
    does: the result is ``value`` itself unless a patch replaced the whole of it (a patcher returning a
    new value, or ``{"": new}``), then the new value. Patch a clone to keep the original:
    ``patch(value.clone(deep=True), patches)``.

    Each patch is a :class:`PatcherCall` (``change_lr(0.003)``), a :class:`Patcher` taking no required
    argument, a dict ``{path: value}`` or :class:`Patch`, a string ``'name?k=v&k2=v2'`` / ``'name?value'``
    / ``'name'`` (names resolve through :func:`resolve_patch` with ``scope``), or a rule
    ``fn(key_path, value[, parent]) -> new_value``. All strings are parsed (and their arguments
    validated) before any patch runs; a patch that fails leaves the earlier ones applied. A patcher call
    or named patch that changes nothing issues a :class:`PatchWarning`.
    """
    if isinstance(patches, (str, dict, PatcherCall, Patcher)) or (
            callable(patches) and not isinstance(patches, (list, tuple))):
        patches = [patches]
    items = [_as_patch(p, scope, registry) for p in patches]
    if not isinstance(value, sym.Symbolic):
        raise _error(f"cannot patch a {type(value).__name__}; patch a symbolic value (an experiment, "
                     f"mldsl.Dict or mldsl.List)")
    for item in items:
        value = _apply(value, item, scope, registry)
    return value


def _apply(target: sym.Symbolic, item: Any, scope: Optional[Mapping], registry: Any) -> Any:
    if isinstance(item, PatcherCall):
        before = target.clone(deep=True)
        result = item._run(target)  # noqa: SLF001 - the call's own runner
        who = f"patcher {item.to_string()!r}"
        if isinstance(result, Unchanged):
            _warn_unchanged(who, result.reason)
            return target
        out = _apply_result(target, result, who, scope, registry)
        if sym.eq(before, out):
            _warn_unchanged(who, _why_unchanged(result))
        return out
    if isinstance(item, Patch):  # a reusable definition: its values are copied, never adopted
        before = target.clone(deep=True)
        edits = {path: sym.clone(v, deep=True) for path, v in item.items()}
        out = _apply_edits(target, edits, f"patch {item.name!r}")
        if item and sym.eq(before, out):
            _warn_unchanged(f"patch {item.name!r}", "every value it sets is already set")
        return out
    if isinstance(item, dict):
        return _apply_edits(target, item, "patch")
    return _rebind(target, item, "patch rule")


def _apply_result(target: Any, result: Any, who: str, scope: Optional[Mapping], registry: Any) -> Any:
    if result is None or result is target:
        return target
    if isinstance(result, dict) and not isinstance(result, sym.Symbolic):
        return _apply_edits(target, result, who)
    if isinstance(result, sym.Symbolic):
        return result.clone(deep=True) if result.sym_parent is not None else result
    if isinstance(result, (list, PatcherCall, Patcher, str)):  # a composition of patches (PyGlove's)
        return patch(target, result, scope, registry)
    if callable(result):
        return _rebind(target, _as_patch(result, scope, registry), who)
    raise _error(f"{who} returned {type(result).__name__} {result!r}; a patcher returns a dict of "
                 f"{{path: value}}, a rule fn(key_path, value[, parent]), a new value, a list of patches, "
                 f"Unchanged(reason), or None")


def _why_unchanged(result: Any) -> str:
    if isinstance(result, dict) and not result:
        return "it found nothing to change"
    if isinstance(result, dict):
        return "every value it sets is already set"
    if callable(result) and not isinstance(result, sym.Symbolic):
        return "its rule matched no value"
    if isinstance(result, sym.Symbolic):
        return "the value it returned equals the one it replaces"
    return "it found nothing to change"


def _warn_unchanged(who: str, why: str) -> None:
    warnings.warn(PatchWarning(f"{who} changed nothing: {why}"), stacklevel=4)


def _apply_edits(target: Any, edits: dict, who: str) -> Any:
    """``edits`` applied to ``target``; ``{"": new}`` alone replaces the whole value (as in PyGlove)."""
    if "" in edits:
        if len(edits) > 1:
            raise _error(f"{who}: an edit with an empty path replaces the whole value, so it must be the "
                         f"only edit")
        new = edits[""]
        if not isinstance(new, sym.Symbolic):
            new = sym.as_symbolic(new)
        return new.clone(deep=True) if isinstance(new, sym.Symbolic) and new.sym_parent is not None else new
    return _rebind(target, edits, who)


def _rebind(target: Any, edits: Any, who: str) -> Any:
    if not isinstance(target, sym.Symbolic):
        raise _error(f"{who}: cannot patch a {type(target).__name__}; patch a symbolic value "
                     f"(an experiment, mldsl.Dict or mldsl.List)")
    if isinstance(edits, dict):
        root = [str(k) for k in edits if sym.KeyPath.from_value(k).is_root]
        if root:
            raise _error(f"{who}: an edit with an empty path replaces the whole value; use {{'': value}} "
                         f"alone, or return the new value")
    target.rebind(edits)
    return target
