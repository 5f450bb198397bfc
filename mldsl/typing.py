"""``mldsl.typing``: the value specs of symbolic fields (PyGlove's ``pg.typing``): ``Int``, ``Float``,
``Str``, ``Bool``, ``Enum``, ``List``, ``Dict``, ``Object``, ``Callable``, ``Any``, ``Union``, ...

They are defined in :mod:`mldsl.symbolic.typing`; this module re-exports its public names."""
from mldsl.symbolic.typing import *  # noqa: F401,F403 - the re-export is this module's purpose
from mldsl.symbolic.typing import __all__  # noqa: F401
