"""Symbolic values -> canonical ``.mlx`` text.

``to_mlx(value)`` prints an expression; ``to_mlx(value, name="x")`` a statement (``experiment x = ...``,
``let x = ...``, ``patch x { ... }`` or ``search x over ... { ... }``, by the kind of value).
``parse(to_mlx(x, name="x"))["x"] == x`` and printing is a fixpoint.

Every value that is set is printed, defaults included: a record written with it says exactly what ran,
whatever the defaults of a later version. ``hide_defaults=True`` leaves out fields equal to their
default (for reading); ``verbose=True`` writes each field's documentation as a comment above it. Hyper
primitives print as they are written (``floatv(0.001, 0.1)``, no ``scale="linear"``).

Canonical form: components print their fields in schema order; up to two leading required fields
holding a scalar, a list or a hyper primitive print positionally (``Dense(512, activation="relu")``), the
rest as keywords. Lists and calls stay on one line when they fit in 100 columns, else one item per line
with a trailing comma; dicts print as ``{ key = value, ... }``.

A symbolic object is called by its class's ``type_name``: the name a component is registered under, the
name of a hyper primitive (``oneof``), or ``module.QualName`` for a class defined in a script (which
``parse`` resolves in the process that defined it). Values with a shape of their own (a search's
objective, a patch, a whole module) print through the printer registered for their class
(:func:`register_printer`); this module imports nothing else of the language.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from mldsl import symbolic as sym
from mldsl.dsl import shapes
from mldsl.dsl.layout import render
from mldsl.dsl.spelling import float_text, key_text, quote_string
from mldsl.dsl.vocabulary import HYPER_PRIMITIVES, can_define, is_name

__all__ = ["to_mlx", "Printer", "register_printer"]


def to_mlx(value: Any, name: Optional[str] = None, kind: Optional[str] = None, *,
           hide_defaults: bool = False, verbose: bool = False) -> str:
    """Canonical ``.mlx`` text of ``value``: an expression, or a statement defining ``name``.

    ``kind`` ("let", "experiment", "patch", "search") overrides the statement keyword guessed from the
    value. A module (``mldsl.parse`` result) prints all its own definitions. ``hide_defaults`` leaves out
    fields equal to their default; ``verbose`` writes field documentation as comments. Raises TypeError
    for a value ``.mlx`` cannot write (e.g. a class whose ``type_name`` is not a dotted name).
    """
    printer = Printer(hide_defaults=hide_defaults, verbose=verbose)
    custom = _custom(value)
    if custom is not None and custom.program is not None:
        return custom.program(printer, value)
    if name is None:
        return render(printer.value(value)) + "\n"
    return render(printer.statement(name, value, kind)) + "\n"


# ------------------------------------------------------------------------------ printers by class

@dataclass
class _Custom:
    keyword: Optional[str]          # the statement a value of this class defines ("patch", "search")
    expression: Optional[Callable]  # (printer, value) -> document
    statement: Optional[Callable]   # (printer, name, value, space_name) -> document
    program: Optional[Callable]     # (printer, value) -> text of a whole file


_CUSTOM: Dict[type, _Custom] = {}


def register_printer(cls: type, *, keyword: Optional[str] = None, expression: Optional[Callable] = None,
                     statement: Optional[Callable] = None, program: Optional[Callable] = None) -> None:
    """How values of ``cls`` (and its subclasses) print, for those that are not plain components.

    ``expression(printer, value)`` returns the layout document of the value where an expression goes;
    ``keyword`` and ``statement(printer, name, value, space_name)`` give the statement that defines one;
    ``program(printer, value)`` returns the text of a whole file (a module)."""
    _CUSTOM[cls] = _Custom(keyword, expression, statement, program)


def _custom(value: Any) -> Optional[_Custom]:
    for cls in type(value).__mro__:
        found = _CUSTOM.get(cls)
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------------------------------- printer

class Printer:
    """Layout documents of values and statements, with the options of one ``to_mlx`` call."""

    def __init__(self, *, hide_defaults: bool = False, verbose: bool = False) -> None:
        self.hide_defaults = hide_defaults
        self.verbose = verbose

    # -- statements --------------------------------------------------------------------------------
    def statement(self, name: str, value: Any, kind: Optional[str] = None, space_name: Optional[str] = None):
        """The document of the statement defining ``name`` (``kind`` guessed from the value if None)."""
        if not can_define(name):
            raise TypeError(f"cannot print a definition named {name!r}: not a .mlx name")
        custom = _custom(value)
        if kind is None:
            if custom is not None and custom.keyword is not None:
                kind = custom.keyword
            elif getattr(type(value), "kind", None) == "experiment":
                kind = "experiment"
            else:
                kind = "let"
        if custom is not None and custom.statement is not None and kind == custom.keyword:
            return custom.statement(self, name, value, space_name)
        if kind == "patch":
            return ["patch ", name, " ", self.patch_block(value)]
        if kind not in ("let", "experiment"):
            raise TypeError(f"cannot print {_a(_type_name(value))} as a {kind} statement")
        return [kind, " ", name, " = ", self.value(value)]

    def patch_block(self, edits) -> Any:
        """``{ path = value ... }`` of a mapping path -> value (a patch, or a ``with`` block)."""
        return shapes.block([[patch_key_text(path), " = ", self.value(v)] for path, v in edits.items()])

    # -- values ------------------------------------------------------------------------------------
    def value(self, value: Any):
        """The layout document of a value."""
        if value is None:
            return "none"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(int(value))
        if isinstance(value, float):
            return float_text(value)
        if isinstance(value, str):
            return quote_string(value)
        custom = _custom(value)
        if custom is not None and custom.expression is not None:
            return custom.expression(self, value)
        if isinstance(value, sym.Object):
            return self.object(value)
        if isinstance(value, dict):
            return shapes.seq("{", "}", self.dict_entries(value), padded=True)
        if isinstance(value, (list, tuple)):
            return shapes.seq("[", "]", [self.value(v) for v in value])
        if isinstance(value, numbers.Integral):  # numpy scalars and friends
            return str(int(value))
        if isinstance(value, numbers.Real):
            return float_text(float(value))
        raise TypeError(f"cannot print a {type(value).__name__} as .mlx: {value!r}")

    def dict_entries(self, value) -> List[Any]:
        """``key = value`` entries of a dict (a dict with a schema may leave out its defaults)."""
        schema = getattr(getattr(value, "value_spec", None), "schema", None)
        out = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"cannot print a dict with the key {k!r} as .mlx: keys are strings")
            field = schema.fields.get(k) if schema is not None else None
            if field is not None and self.hide_defaults and _is_default(v, field.value_spec):
                continue
            out.append(self._documented(field, [key_text(k), " = ", self.value(v)]))
        return out

    def object(self, value):
        """``Name(positional..., key=value...)`` of a symbolic object."""
        fields = self.object_fields(value)
        order = list(type(value).__schema__.fields)
        positional: List[Any] = []
        keywords: List[Any] = []
        for i, (field, v) in enumerate(fields):
            if not keywords and not self.verbose and not field.value_spec.has_default \
                    and len(positional) < 2 and _is_plain(v) and order[i] == field.key:
                positional.append(self.value(v))
            else:
                keywords.append(self._documented(field, [field.key, "=", self.value(v)]))
        args = positional + keywords
        hug = len(args) == 1 and len(positional) == 1 and isinstance(fields[0][1], (list, dict))
        return shapes.call(call_name(value), args, hug=hug)

    def object_fields(self, value) -> List[tuple]:
        """``[(field, value)]`` of a symbolic object's fields to print, in schema order. A hyper
        primitive prints as it is written (``floatv(0.001, 0.1)``): the defaults of its factory are
        part of the language's notation, not settings of an experiment."""
        args = value.sym_init_args
        hide = self.hide_defaults or _is_hyper(value)
        out = []
        for key, field in type(value).__schema__.fields.items():
            v = args.get(key, sym.MISSING)
            if v is sym.MISSING or (hide and _is_default(v, field.value_spec)):
                continue
            out.append((field, v))
        return out

    def _documented(self, field, doc):
        if not self.verbose or field is None or not field.description:
            return doc
        lines = [("# " + line).rstrip() for line in field.description.splitlines()]
        return shapes.with_comments(doc, lines)


def call_name(value) -> str:
    """The name a symbolic object is called by in ``.mlx``: its class's ``type_name``."""
    cls = type(value)
    name = getattr(cls, "type_name", None) or cls.__name__
    parts = name.split(".")
    if not all(is_name(p) for p in parts) or not can_define(parts[0]):
        raise TypeError(f"cannot print a {cls.__qualname__} as .mlx: its type_name {name!r} is not a "
                        f"(dotted) .mlx name; define the class at module level or give it a type_name")
    return name


def patch_key_text(path: Any) -> str:
    """A path key of a patch block: ``model.layers[1].units``, quoted when a key is not a name."""
    keys = sym.KeyPath.parse(path)
    text = str(keys)
    if keys.is_root or not all(isinstance(k, int) or is_name(k) for k in keys) or not isinstance(keys[0], str):
        return quote_string(text)
    return text


def _is_hyper(value: Any) -> bool:
    """A hyper primitive (``oneof(...)``): a symbolic object called by a hyper primitive's name (the
    ``type_name`` of ``mldsl.hyper``'s classes; tested), without importing ``mldsl.hyper``."""
    return isinstance(value, sym.Object) and getattr(type(value), "type_name", None) in HYPER_PRIMITIVES


def _is_plain(value: Any) -> bool:
    """A scalar, a list or a hyper primitive: may be printed positionally."""
    if isinstance(value, sym.Object):
        return _is_hyper(value)
    return not isinstance(value, dict)


def _is_default(value, spec) -> bool:
    if not spec.has_default:
        return False
    default = spec.default
    try:
        if sym.eq(value, default):
            return True
        if isinstance(default, (dict, list)) and isinstance(value, (dict, list)):
            import copy

            return sym.eq(value, spec.apply(copy.deepcopy(default)))
    except Exception:  # noqa: BLE001 - a default that cannot be compared is printed
        return False
    return False


def _type_name(value) -> str:
    return getattr(type(value), "type_name", None) or type(value).__name__


def _a(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word
