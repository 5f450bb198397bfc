"""``mldsl.typing``: the value specs of the symbolic core (the same module as ``mldsl.symbolic.typing``)."""
import sys as _sys

from mldsl.symbolic import typing as _typing

_sys.modules[__name__] = _typing
