"""The standard search algorithms: ``grid``, ``random`` and ``evolution`` (from :mod:`mldsl.hyper`)."""
from mldsl import hookimpl
from mldsl.hyper import Evolution, Grid, Random


@hookimpl
def mldsl_algorithms():
    return {"grid": Grid, "random": Random, "evolution": Evolution}
