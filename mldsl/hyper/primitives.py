"""Hyper primitives: ``oneof``, ``manyof``, ``floatv``, ``intv`` (PyGlove's ``pg.oneof`` & co).

Each is a symbolic :class:`~mldsl.symbolic.Object` that also implements
:class:`~mldsl.symbolic.CustomTyping`, so it can stand in ANY typed field whose spec accepts what it
can become: a ``oneof`` is validated by checking every candidate against the field's spec, a
``manyof`` by checking a list of k of each candidate, ``floatv``/``intv`` by checking their bounds.
Candidates may hold primitives themselves (conditional sub-spaces)::

    Sequential([Dense(oneof([64, 128]), activation=oneof(["relu", "tanh"])),
                oneof([Dropout(floatv(0.1, 0.5)), Flatten()])])

JSON ``_type`` names (and DSL names) are ``oneof``, ``manyof``, ``floatv`` and ``intv``.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Optional

from mldsl import symbolic as sym
from mldsl.errors import ValidationError
from mldsl.symbolic import typing as pt

__all__ = ["HyperPrimitive", "OneOf", "ManyOf", "FloatValue", "IntValue", "oneof", "manyof", "floatv",
           "intv"]

_NAME = ("name", pt.Str().noneable(), "Optional name of the decision point (shown in the DNA spec).")


def _error(message: str, path: Any) -> ValidationError:
    err = ValidationError(f"{message} (path={path if path is not None else ''})")
    err.path, err.reason = str(path) if path is not None else "", message
    return err


def _reason(e: ValidationError) -> str:
    return getattr(e, "reason", None) or str(e)


class HyperPrimitive(sym.Object, sym.CustomTyping):
    """Base class of the search-space primitives (a value to be decided by a search)."""

    def custom_apply(self, path, value_spec, allow_partial):  # pragma: no cover - abstract
        raise NotImplementedError


@sym.members([
    ("candidates", pt.List(pt.Any(), min_size=1), "Values to choose one of (each may hold primitives)."),
    _NAME,
])
class OneOf(HyperPrimitive):
    """One of ``candidates`` (``oneof([128, 256, 512])``)."""

    type_name = "oneof"

    def custom_apply(self, path, value_spec, allow_partial):
        for i, c in enumerate(self.candidates):
            value_spec.apply(_probe(c), path + "candidates" + i, allow_partial)
        return True, self


@sym.members([
    ("k", pt.Int(min_value=1), "How many candidates to choose."),
    ("candidates", pt.List(pt.Any(), min_size=1), "Values to choose from (each may hold primitives)."),
    ("distinct", pt.Bool(True), "Whether a candidate may be chosen at most once."),
    ("sorted", pt.Bool(False), "Whether the chosen candidates keep the candidates' order."),
    _NAME,
])
class ManyOf(HyperPrimitive):
    """A list of ``k`` of ``candidates`` (``manyof(2, ["a", "b", "c"])``)."""

    type_name = "manyof"

    def _on_bound(self) -> None:
        super()._on_bound()
        k, n = self.k, len(self.candidates)
        if self.distinct and isinstance(k, int) and k > n:
            raise _error(f"manyof cannot choose {k} distinct values out of {n} candidates.",
                         self.sym_path + "k")

    def custom_apply(self, path, value_spec, allow_partial):
        for i, c in enumerate(self.candidates):
            try:
                value_spec.apply([_probe(c) for _ in range(self.k)], path, allow_partial)
            except ValidationError as e:
                raise _error(f"manyof candidate {i} ({_short(c)}) does not fit {value_spec!r} as a "
                             f"list of {self.k}: {_reason(e)}", path + "candidates" + i) from None
        return True, self


@sym.members([
    ("min_value", pt.Float(), "Lower bound (inclusive)."),
    ("max_value", pt.Float(), "Upper bound (inclusive)."),
    ("scale", pt.Enum("linear", ["linear", "log"]),
     "\"linear\": uniform; \"log\": log-uniform (needs min_value > 0)."),
    _NAME,
])
class FloatValue(HyperPrimitive):
    """A float in ``[min_value, max_value]`` (``floatv(1e-4, 1e-1, scale="log")``)."""

    type_name = "floatv"

    def _on_bound(self) -> None:
        super()._on_bound()
        lo, hi = self.min_value, self.max_value
        if isinstance(lo, float) and isinstance(hi, float):
            if math.isnan(lo) or math.isnan(hi) or math.isinf(lo) or math.isinf(hi):
                raise _error(f"floatv bounds must be finite, got [{lo}, {hi}].", self.sym_path)
            if lo > hi:
                raise _error(f"floatv min_value {lo!r} > max_value {hi!r}.", self.sym_path + "min_value")
            if self.scale == "log" and lo <= 0:
                raise _error(f"floatv with scale='log' needs min_value > 0, got {lo!r}.",
                             self.sym_path + "min_value")

    def custom_apply(self, path, value_spec, allow_partial):
        lo, hi = self.min_value, self.max_value
        for v in (lo, hi, lo + (hi - lo) / 2):
            try:
                value_spec.apply(v, path, allow_partial)
            except ValidationError as e:
                raise _error(f"floatv({lo!r}, {hi!r}) cannot be used here: {_reason(e)}", path) from None
        return True, self


@sym.members([
    ("min_value", pt.Int(), "Lower bound (inclusive)."),
    ("max_value", pt.Int(), "Upper bound (inclusive)."),
    _NAME,
])
class IntValue(HyperPrimitive):
    """An int in ``[min_value, max_value]`` (``intv(16, 256)``)."""

    type_name = "intv"

    def _on_bound(self) -> None:
        super()._on_bound()
        lo, hi = self.min_value, self.max_value
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            raise _error(f"intv min_value {lo!r} > max_value {hi!r}.", self.sym_path + "min_value")

    def custom_apply(self, path, value_spec, allow_partial):
        lo, hi = self.min_value, self.max_value
        values = range(lo, hi + 1) if hi - lo <= 256 else (lo, hi, lo + (hi - lo) // 2)
        for v in values:
            try:
                value_spec.apply(v, path, allow_partial)
            except ValidationError as e:
                raise _error(f"intv({lo!r}, {hi!r}) cannot be used here: {_reason(e)}", path) from None
        return True, self


def _probe(candidate: Any) -> Any:
    """A copy of a candidate that validation may adopt or convert without touching the original."""
    if isinstance(candidate, sym.Symbolic):
        return candidate.clone(deep=False)
    return candidate


def _short(value: Any) -> str:
    text = sym.format(value, compact=True)
    return text if len(text) <= 60 else text[:57] + "..."


# -- factories (PyGlove's names and signatures) ---------------------------------------------------------
def oneof(candidates: Iterable[Any], *, name: Optional[str] = None) -> OneOf:
    """A choice of one of ``candidates``; candidates may contain primitives (conditional sub-spaces)."""
    return OneOf(list(candidates), name=name)


def manyof(k: int, candidates: Iterable[Any], distinct: bool = True, sorted: bool = False,  # noqa: A002
           *, name: Optional[str] = None) -> ManyOf:
    """A list of ``k`` choices among ``candidates``: ``distinct`` forbids repeats, ``sorted`` keeps the
    candidates' order (so ``["a", "b"]`` and ``["b", "a"]`` are one point)."""
    return ManyOf(k, list(candidates), distinct, sorted, name=name)


def floatv(min_value: float, max_value: float, scale: str = "linear", *,
           name: Optional[str] = None) -> FloatValue:
    """A float in ``[min_value, max_value]``; ``scale="log"`` searches it log-uniformly."""
    return FloatValue(min_value, max_value, scale, name=name)


def intv(min_value: int, max_value: int, *, name: Optional[str] = None) -> IntValue:
    """An int in ``[min_value, max_value]`` (both included)."""
    return IntValue(min_value, max_value, name=name)
