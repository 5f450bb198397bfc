"""``sym.symbolize``: a symbolic class from a plain class or function (its signature is the schema)."""
from __future__ import annotations

import inspect
import re
import typing as _t
from typing import Any, Callable, Optional

from mldsl.errors import ValidationError
from mldsl.symbolic import typing as pt
from mldsl.symbolic._util import path_error
from mldsl.symbolic.missing import MISSING
from mldsl.symbolic.object import Object, members

__all__ = ["symbolize", "Functor"]


def _arg_docs(doc: Optional[str]) -> dict[str, str]:
    """Google-style ``Args:`` section -> {name: description}."""
    out: dict[str, str] = {}
    if not doc:
        return out
    lines = inspect.cleandoc(doc).splitlines()
    in_args, current, indent = False, None, None
    for line in lines:
        if re.match(r"^\s*(Args|Arguments|Parameters):\s*$", line):
            in_args, current = True, None
            continue
        if not in_args:
            continue
        if line.strip() and not line.startswith(" "):
            break
        m = re.match(r"^(\s+)(\*{0,2}\w+)(?:\s*\([^)]*\))?\s*:\s*(.*)$", line)
        if m and (indent is None or len(m.group(1)) <= indent):
            indent = len(m.group(1))
            current = m.group(2).lstrip("*")
            out[current] = m.group(3).strip()
        elif current and line.strip():
            out[current] = (out[current] + " " + line.strip()).strip()
    return out


def _fields_from_signature(fn: Callable, skip_first: bool, doc: Optional[str],
                           args: Optional[list] = None) -> list[pt.Field]:
    """The fields of ``fn``'s parameters; ``args`` (``[(name, value_spec[, description]), ...]``)
    overrides the specs inferred from annotations, a signature default completing a spec without one."""
    sig = inspect.signature(fn)
    overrides = {f.key: f for f in (pt.Field.make(tuple(a)) for a in args or ())}
    try:
        hints = _t.get_type_hints(fn)
    except Exception:  # noqa: BLE001 - unresolvable string annotations: use the raw ones
        hints = {}
    docs = _arg_docs(doc)
    fields = []
    params = list(sig.parameters.values())
    if skip_first and params:
        params = params[1:]
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        default = MISSING if p.default is inspect.Parameter.empty else p.default
        override = overrides.pop(p.name, None)
        if override is not None:
            spec = override.value_spec
            if default is not MISSING and not spec.has_default:
                spec = spec.with_default(default)
            fields.append(pt.Field(p.name, spec, override.description or docs.get(p.name)))
            continue
        try:
            spec = pt.from_annotation(hints.get(p.name, p.annotation), default)
        except ValidationError:  # the default does not fit the annotation: accept anything
            spec = pt.Any(default)
        fields.append(pt.Field(p.name, spec, docs.get(p.name)))
    if overrides:
        raise ValidationError(f"symbolize: {sorted(overrides)} are not parameters of "
                              f"{getattr(fn, '__qualname__', fn)!r}")
    return fields


def _no_parameters(self) -> None:
    """The constructor of a class that takes no arguments."""


class _ClassWrapper(Object):
    """Base of classes made by ``symbolize(cls)``: the original ``__init__`` runs on every (re)bind."""

    _sym_wrapped_cls: type = object

    def _on_bound(self) -> None:
        super()._on_bound()
        init = self._sym_wrapped_cls.__init__
        if init is object.__init__:
            return
        object.__setattr__(self, "_sym_raw_setattr", True)
        try:
            init(self, **{k: v for k, v in self._sym_values.items() if v is not MISSING})
        finally:
            object.__setattr__(self, "_sym_raw_setattr", False)
            for k, v in self._sym_values.items():  # fields stay symbolic
                self.__dict__[k] = v


class Functor(Object):
    """A symbolic function call: fields are the function's parameters; calling the object runs it.

    Arguments may be left unbound when creating it (``f = symbolic_fn(a=1)``) and supplied at call
    time (``f(b=2)``): positional call arguments fill the unbound parameters in order.
    """

    _sym_function: Callable = staticmethod(lambda: None)
    _sym_default_partial = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fields = type(self).__schema__.fields
        bound = {k: v for k, v in self._sym_values.items() if v is not MISSING}
        unbound = [k for k in fields if k not in bound and k not in kwargs]
        if len(args) > len(unbound):
            raise TypeError(f"{type(self).__name__}() got {len(args)} positional argument(s) for "
                            f"{len(unbound)} unbound parameter(s) {unbound}")
        call = dict(bound)
        for k, v in zip(unbound, args):
            call[k] = fields[k].value_spec.apply(v, self.sym_path + k)
        for k, v in kwargs.items():
            if k not in fields:
                raise pt.unknown_key_error(k, list(fields), type(self).__name__, self.sym_path + k)
            call[k] = fields[k].value_spec.apply(v, self.sym_path + k)
        missing = [k for k in fields if k not in call]
        if missing:
            raise path_error(f"{type(self).__name__}() is missing argument(s) {missing}.", self.sym_path)
        fn = type(self).__dict__.get("_sym_function") or type(self)._sym_function
        fn = fn.__func__ if isinstance(fn, staticmethod) else fn
        sig = inspect.signature(fn)
        pos = [call.pop(p.name) for p in sig.parameters.values()
               if p.kind is p.POSITIONAL_ONLY and p.name in call]
        return fn(*pos, **call)


def symbolize(cls_or_fn: Any = None, *, type_name: Optional[str] = None, args: Optional[list] = None) -> Any:
    """Make a symbolic class from a plain class or function (usable as ``@symbolize``).

    A class becomes a ``sym.Object`` subclass (also a subclass of the original) whose fields are the
    ``__init__`` parameters; the original ``__init__`` runs after construction and every change.
    A function becomes a :class:`Functor` subclass. Annotations give the value specs, defaults the
    defaults, a Google-style ``Args:`` docstring section the field descriptions. As in PyGlove,
    ``@symbolize([(name, value_spec[, description]), ...])`` (or ``args=``) gives some parameters'
    specs explicitly, e.g. ``[("learning_rate", typing.Float(min_value=0))]``.
    """
    if isinstance(cls_or_fn, (list, tuple)):  # @symbolize([...])
        cls_or_fn, args = None, cls_or_fn
    if cls_or_fn is None:
        return lambda x: symbolize(x, type_name=type_name, args=args)
    if isinstance(cls_or_fn, type):
        if issubclass(cls_or_fn, Object):
            return cls_or_fn
        cls = cls_or_fn
        init = cls.__init__ if cls.__init__ is not object.__init__ else _no_parameters
        fields = _fields_from_signature(init, True, init.__doc__ or cls.__doc__, args)
        ns = {"__module__": cls.__module__, "__qualname__": cls.__qualname__, "__doc__": cls.__doc__,
              "_sym_wrapped_cls": cls}
        if type_name:
            ns["type_name"] = type_name
        new = type(cls.__name__, (_ClassWrapper, cls), ns)
        return members(fields)(new)
    if callable(cls_or_fn):
        fn = cls_or_fn
        name = getattr(fn, "__name__", "functor")
        ns = {"__module__": getattr(fn, "__module__", __name__),
              "__qualname__": getattr(fn, "__qualname__", name), "__doc__": fn.__doc__,
              "_sym_function": staticmethod(fn)}
        if type_name:
            ns["type_name"] = type_name
        new = type(name, (Functor,), ns)
        return members(_fields_from_signature(fn, False, fn.__doc__, args))(new)
    raise ValidationError(f"symbolize() takes a class or a function, got {cls_or_fn!r}")
