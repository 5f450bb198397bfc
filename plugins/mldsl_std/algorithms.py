"""The standard search algorithms ``grid``, ``random``, ``evolution`` and ``tpe`` (Optuna's TPE sampler; it
needs Optuna, and says so when a search uses it without). This is their only registration:
:mod:`mldsl.hyper` holds the classes (each with the ``name`` a ``search`` block uses), and the search
engine finds them through the registry like any plugin's algorithms."""
from mldsl import hookimpl
from mldsl.hyper import Evolution, Grid, Random
from mldsl.hyper.tpe import TPE


@hookimpl
def mldsl_algorithms():
    return [Grid, Random, Evolution, TPE]
