"""Ctrl-C that arrives while importlib's own code runs (where Python ignores exceptions raised in its
callbacks) is delivered again once the import machinery returns, so it is never lost."""
import signal
import time
import types

import pytest

from mldsl.engine.interrupts import SigintGuard


def _frame(filename):
    return types.SimpleNamespace(f_code=types.SimpleNamespace(co_filename=filename))


def test_ctrl_c_inside_the_import_machinery_arrives_a_moment_later():
    with SigintGuard() as guard:
        guard._handler(signal.SIGINT, _frame("<frozen importlib._bootstrap>"))   # no raise here
        assert not guard.stopping
        with pytest.raises(KeyboardInterrupt):
            time.sleep(5)                                                          # delivered again
        assert guard.stopping


def test_ctrl_c_elsewhere_raises_at_once():
    with SigintGuard() as guard:
        with pytest.raises(KeyboardInterrupt):
            guard._handler(signal.SIGINT, _frame(__file__))
