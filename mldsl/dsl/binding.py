"""Matching the arguments of a call to the parameters of what it calls: the one argument binder of the
compiler, for components (their schema), hyper primitives, search algorithms and early-stopping rules
(a function's signature) and patchers (their typed arguments).

``bind`` reports what is wrong (E021 unknown parameter, E022 missing one, E023 too many positional
arguments, a parameter given twice, a positional argument after keywords) and returns which argument
goes to which parameter; compiling the values is the caller's job.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from mldsl.dsl import ir
from mldsl.errors import suggestion_text

#: ``report(message, span, code, suggestion=None, notes=())``: records one error.
Report = Callable[..., object]


@dataclass
class Parameters:
    """The parameters a call binds to.

    ``names`` in order; the first ``positional`` of them may be given positionally; ``required`` must
    be given; ``var_positional``/``var_keyword`` accept more positional / keyword arguments."""

    what: str                       # how messages name the callee: "Dense", "patcher set_batch_size"
    names: List[str]
    required: Sequence[str] = ()
    positional: Optional[int] = None  # None: all of ``names``
    var_positional: bool = False
    var_keyword: bool = False

    def __post_init__(self) -> None:
        if self.positional is None:
            self.positional = len(self.names)

    @property
    def signature(self) -> str:
        return f"{self.what.split()[-1]}({', '.join(self.names)})"

    def after_first(self) -> "Parameters":
        """These parameters without the first (a patcher's value being patched)."""
        first = self.names[:1]
        return Parameters(self.what, self.names[1:], [r for r in self.required if r not in first],
                          max(self.positional - 1, 0), self.var_positional, self.var_keyword)

    @classmethod
    def of_schema(cls, what: str, schema) -> "Parameters":
        """A symbolic schema's fields (a component): all may be positional, in field order."""
        fields = schema.fields
        return cls(what, list(fields), [k for k, f in fields.items() if not f.value_spec.has_default])

    @classmethod
    def of_specs(cls, what: str, specs: Dict[str, object]) -> "Parameters":
        """Typed arguments ``name -> value spec`` (a patcher's)."""
        return cls(what, list(specs), [k for k, s in specs.items() if not s.has_default])

    @classmethod
    def of_function(cls, what: str, fn) -> "Parameters":
        """A Python function's signature (anything goes when it has none that can be read)."""
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            return cls(what, [], var_positional=True, var_keyword=True)
        named = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        return cls(what, [p.name for p in named], [p.name for p in named if p.default is p.empty],
                   positional=sum(p.kind == p.POSITIONAL_OR_KEYWORD for p in named),
                   var_positional=any(p.kind == p.VAR_POSITIONAL for p in params),
                   var_keyword=any(p.kind == p.VAR_KEYWORD for p in params))


@dataclass
class Bound:
    """Where each argument of a call went: ``by_name`` (positional ones under their parameter's name),
    ``extra`` (positional arguments past the named ones, for ``*args``) and ``positional``/``keywords``
    (the arguments as written, for a callee that keeps them apart)."""

    by_name: Dict[str, ir.Arg] = field(default_factory=dict)
    extra: List[ir.Arg] = field(default_factory=list)
    positional: List[ir.Arg] = field(default_factory=list)
    keywords: Dict[str, ir.Arg] = field(default_factory=dict)


def bind(node: ir.Call, params: Parameters, report: Report) -> Tuple[Bound, bool]:
    """(bound arguments, whether the call binds without errors); each error is ``report``-ed.

    The bound arguments are returned even after an error, so that the caller can still compile (and
    check) the values that did bind."""
    out = Bound()
    ok = True
    what = params.what
    seen_keyword = False
    for i, arg in enumerate(node.args):
        if arg.name is None:
            if seen_keyword:
                report("positional argument after keyword arguments", arg.span, "E023")
                ok = False
                continue
            out.positional.append(arg)
            if i < params.positional:
                key = params.names[i]
            elif params.var_positional:
                out.extra.append(arg)
                continue
            else:
                n = params.positional
                report(f"{what} takes at most {n} positional argument{'s' if n != 1 else ''} "
                       f"({len(node.positional)} given)", arg.span, "E023",
                       notes=[params.signature] if params.names else ())
                ok = False
                continue
        else:
            seen_keyword = True
            key = arg.name
            if key not in params.names and not params.var_keyword:
                report(f"{what} has no parameter '{key}'", arg.name_span, "E021",
                       suggestion=suggestion_text(key, params.names),
                       notes=[f"parameters: {', '.join(params.names)}" if params.names
                              else f"{what} takes no parameters"])
                ok = False
                continue
            if key in out.keywords:
                report(f"parameter '{key}' of {what} is given twice", arg.name_span, "E023")
                ok = False
                continue
            out.keywords[key] = arg
        if key in out.by_name:
            report(f"parameter '{key}' of {what} is given twice", arg.name_span or arg.span, "E023")
            ok = False
            continue
        out.by_name[key] = arg
    unknown_keyword = not params.var_keyword and any(a.name is not None and a.name not in params.names
                                                     for a in node.args)
    if not unknown_keyword:  # a misspelt keyword is more likely the missing one: say that only
        for key in params.required:
            if key not in out.by_name:
                report(f"missing required parameter '{key}' of {what}", node.span.last_char(), "E022",
                       notes=[params.signature])
                ok = False
    return out, ok
