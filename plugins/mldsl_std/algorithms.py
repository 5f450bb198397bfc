"""The standard search algorithms ``grid``, ``random`` and ``evolution``. This is their only registration:
:mod:`mldsl.hyper` holds the classes (each with the ``name`` a ``search`` block uses), and the search
engine finds them through the registry like any plugin's algorithms."""
from mldsl import hookimpl
from mldsl.hyper import Evolution, Grid, Random


@hookimpl
def mldsl_algorithms():
    return [Grid, Random, Evolution]
