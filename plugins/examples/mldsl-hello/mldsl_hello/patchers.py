"""The ``hello_dropout`` patcher: ``'hello_dropout?rate=0.3'`` in a ``with`` clause or ``--patch``."""
from mldsl import hookimpl
from mldsl import symbolic as sym
from mldsl.patching import patcher
from mldsl_hello.components import HelloDense


@patcher
def hello_dropout(experiment, rate: float = 0.1):
    """Sets the dropout rate of every HelloDense layer of the experiment."""
    found = sym.query(experiment, where=lambda v: isinstance(v, HelloDense))
    return {f"{path}.dropout": rate for path in found}


@hookimpl
def mldsl_patchers():
    return [hello_dropout]
