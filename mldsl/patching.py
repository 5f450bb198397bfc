"""Patching: named, typed edits of an experiment (PyGlove's ``pg.patching``).

A patcher is a function whose first parameter is the value being patched and whose other parameters
are its typed arguments::

    @patcher
    def change_lr(experiment, learning_rate: float):
        return {path: learning_rate for path in sym.query(experiment, r"(^|\\.)learning_rate$")}

It returns a dict ``{path: value}`` of edits, a rule ``fn(key_path, value, parent) -> new_value``
(see ``rebind``), a new value replacing the whole target, or None after editing its argument in place.
Calling a patcher with arguments gives a :class:`Patch` (validated against the signature);
``patch(experiment, patches)`` applies, in order and on a clone, any mix of:

* :class:`Patch` objects (``change_lr(0.003)``) or patchers with no required argument;
* dicts ``{path: value}``;
* strings ``'scale_lr_with_batch_size?batch_size=1024'``, ``'change_lr?0.003'``, ``'relu_to_elu'``:
  arguments (``&``-separated, ``k=v`` or positional) are parsed as Python literals and coerced to the
  parameter's type, so ``name=Cifar10`` or ``factor=2`` work unquoted;
* rules ``fn(key_path, value, parent) -> new_value``.

Named patchers are found in the registry (``get_registry().patcher(name)``, contributed by plugins
through the ``mldsl_patchers`` hook), then among patchers defined with ``@patcher`` in this process.
"""
from __future__ import annotations

import ast
import inspect
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union
from urllib.parse import quote, unquote

from mldsl import symbolic as sym
from mldsl.errors import MldslError, PatchError, RegistryError, ValidationError, suggestion_text
from mldsl.symbolic import typing as pt

__all__ = ["patcher", "Patcher", "Patch", "patch", "parse_patch", "get_patcher", "PatchError"]

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


def _error(message: str, path: Any = "") -> PatchError:
    err = PatchError(f"{message} (path={path})" if path != "" else message)
    err.path, err.reason = str(path), message
    return err


# -- patcher definitions -----------------------------------------------------------------------------
class Patcher:
    """A named, typed patcher (what ``@patcher`` returns). Call it with arguments to get a
    :class:`Patch`; ``args`` is the ordered ``{name: value_spec}`` of its arguments."""

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
                    spec = _with_default(spec, default)
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

    def bind(self, args: Sequence[Any] = (), kwargs: Optional[Dict[str, Any]] = None) -> "Patch":
        """A validated :class:`Patch` of this patcher with these arguments."""
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
        return Patch(self, values)

    def __call__(self, *args: Any, **kwargs: Any) -> "Patch":
        return self.bind(args, kwargs)

    def patch(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        """Applies this patcher to a clone of ``target``; returns the result."""
        return self.bind(args, kwargs).apply(_clone(target))

    def __repr__(self) -> str:
        return f"<patcher {self.signature}>"


def _resolve_annotation(fn: Callable, p: inspect.Parameter) -> Any:
    ann = p.annotation
    if isinstance(ann, str):
        try:
            hints = __import__("typing").get_type_hints(fn)
            return hints.get(p.name, inspect.Parameter.empty)
        except Exception:  # noqa: BLE001 - an unresolvable annotation means "any value"
            return inspect.Parameter.empty
    return ann


def _with_default(spec: pt.ValueSpec, default: Any) -> pt.ValueSpec:
    import copy

    spec = copy.copy(spec)
    if default is None:
        return spec.noneable()
    spec._set_default(default)  # noqa: SLF001 - the symbolic core's way to set a default on a copy
    return spec


#: Patchers defined with ``@patcher`` in this process, by name (the latest definition wins).
_LOCAL: Dict[str, Patcher] = {}


def patcher(fn: Optional[Callable] = None, *, name: Optional[str] = None,
            args: Optional[Sequence[tuple]] = None) -> Any:
    """Decorator making a function a :class:`Patcher`: ``@patcher`` or ``@patcher(name="x")``.

    Argument types come from the annotations (``float``, ``int``, ``Optional[str]``, ...) and defaults;
    ``args=[(name, value_spec), ...]`` overrides them with ``sym.typing`` specs (e.g. bounds)."""
    if isinstance(fn, str) and name is None:  # @patcher("name")
        fn, name = None, fn
    def make(f: Callable) -> Patcher:
        p = Patcher(f, name=name, args=args)
        _LOCAL[p.name] = p
        return p

    return make if fn is None else make(fn)


# -- bound patches ---------------------------------------------------------------------------------
class Patch:
    """A patcher with validated arguments; ``apply(target)`` edits ``target`` and returns the result."""

    def __init__(self, patcher_: Patcher, args: Dict[str, Any]):
        self.patcher = patcher_
        self.args = dict(args)

    @property
    def name(self) -> str:
        return self.patcher.name

    def apply(self, target: Any) -> Any:
        """Runs the patcher on ``target`` (edited in place where possible); returns the result."""
        try:
            result = self.patcher.fn(target, **self.args)
        except MldslError:
            raise
        except Exception as exc:  # noqa: BLE001 - name the patcher in whatever went wrong
            raise _error(f"patcher {self.name!r} failed: {type(exc).__name__}: {exc}") from exc
        return _apply_result(target, result, f"patcher {self.name!r}")

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
        return (isinstance(other, Patch) and other.patcher is self.patcher
                and all(sym.eq(v, other.args.get(k)) for k, v in self.args.items()))

    def __hash__(self) -> int:
        return hash((self.name, tuple(self.args)))


_SAFE = "[]()'\",.:-+_~*/ "


def _apply_result(target: Any, result: Any, who: str) -> Any:
    if result is None or result is target:
        return target
    if isinstance(result, dict) and not isinstance(result, sym.Symbolic):
        return _rebind(target, result, who)
    if isinstance(result, sym.Symbolic):
        return result.clone(deep=True) if result.sym_parent is not None else result
    if callable(result):
        return _rebind(target, result, who)
    raise _error(f"{who} returned {type(result).__name__} {result!r}; a patcher returns a dict of "
                 f"{{path: value}}, a rule fn(key_path, value, parent), a new value, or None")


def _rebind(target: Any, edits: Any, who: str) -> Any:
    if not isinstance(target, sym.Symbolic):
        raise _error(f"{who}: cannot patch a {type(target).__name__}; patch a symbolic value "
                     f"(an experiment, sym.Dict or sym.List)")
    if isinstance(edits, dict):
        root = [str(k) for k in edits if sym.KeyPath.from_value(k).is_root]
        if root:
            raise _error(f"{who}: an edit with an empty path replaces the whole value; return the new "
                         f"value instead")
    target.rebind(edits)
    return target


# -- strings ---------------------------------------------------------------------------------------
def parse_patch(text: str, registry: Any = None) -> Patch:
    """A :class:`Patch` from ``'name'``, ``'name?v1&v2'`` or ``'name?k=v&k2=v2'``."""
    if not isinstance(text, str):
        raise _error(f"a patch string is expected, got {type(text).__name__} {text!r}")
    text = text.strip()
    name, _, query = text.partition("?")
    name = name.strip()
    if not name or not set(name) <= _NAME_CHARS:
        raise _error(f"bad patch {text!r}: expected 'name', 'name?value' or 'name?key=value&key2=value2'")
    p = get_patcher(name, registry)
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
                kwargs[key] = _coerce(p, key, unquote(raw))
            else:
                if kwargs:
                    raise _error(f"bad patch {text!r}: positional value {item!r} after a keyword argument")
                names = list(p.args)
                key = names[len(args)] if len(args) < len(names) else None
                args.append(_coerce(p, key, unquote(item)))
    return p.bind(args, kwargs)


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


# -- lookup ----------------------------------------------------------------------------------------
def get_patcher(name: str, registry: Any = None) -> Patcher:
    """The patcher named ``name``: from the registry (plugins), else one defined with ``@patcher``
    in this process. Unknown names raise RegistryError with a did-you-mean."""
    known: List[str] = []
    if registry is None:
        from mldsl.registry import get_registry

        registry = get_registry()
    found: Any = None
    try:
        found = registry.patcher(name)
    except RegistryError:
        try:
            known = list(registry.patchers())
        except Exception:  # noqa: BLE001 - a partial registry: suggest what we have
            known = []
    if found is None:
        found = _LOCAL.get(name)
    if found is None:
        names = sorted(set(known) | set(_LOCAL))
        hint = suggestion_text(name, names)
        raise RegistryError(f"unknown patcher {name!r}" + (f"; {hint}" if hint else "")
                            + f" (patchers: {', '.join(names) or 'none installed'}; run `mldsl plugins` "
                              f"to list what is installed)")
    if isinstance(found, Patcher):
        return found
    if callable(found):  # a plain function registered by a plugin
        return Patcher(found, name=name)
    raise RegistryError(f"patcher {name!r} is registered as {found!r}, which is not a patcher")


# -- patch -----------------------------------------------------------------------------------------
PatchLike = Union[Patch, Patcher, dict, str, Callable]


def _clone(value: Any) -> Any:
    if isinstance(value, sym.Symbolic):
        return value.clone(deep=True)
    raise _error(f"cannot patch a {type(value).__name__}; patch a symbolic value (an experiment, "
                 f"sym.Dict or sym.List)")


def _as_patch(item: Any, registry: Any) -> Any:
    if isinstance(item, Patch):
        return item
    if isinstance(item, Patcher):
        return item.bind()
    if isinstance(item, str):
        return parse_patch(item, registry)
    if isinstance(item, dict):
        return item
    if callable(item):
        return item
    raise _error(f"cannot apply {type(item).__name__} {item!r} as a patch: expected a patcher call, a "
                 f"dict {{path: value}}, a 'name?k=v' string or a rule fn(key_path, value, parent)")


def patch(experiment: Any, patches: Union[PatchLike, Iterable[PatchLike]], registry: Any = None) -> Any:
    """Applies ``patches`` in order to a clone of ``experiment`` and returns it (the input is never
    changed). Each patch is a :class:`Patch` (``change_lr(0.003)``), a :class:`Patcher` taking no
    required argument, a dict ``{path: value}``, a string ``'name?k=v&k2=v2'`` / ``'name?value'``, or
    a rule ``fn(key_path, value, parent) -> new_value``. All strings are parsed (and their arguments
    validated) before any patch runs."""
    if isinstance(patches, (str, dict, Patch, Patcher)) or (callable(patches) and not isinstance(
            patches, (list, tuple))):
        patches = [patches]
    items = [_as_patch(p, registry) for p in patches]
    target = _clone(experiment)
    for item in items:
        if isinstance(item, Patch):
            target = item.apply(target)
        elif isinstance(item, dict):
            target = _rebind(target, item, "patch")
        else:
            target = _rebind(target, item, "patch rule")
    return target
