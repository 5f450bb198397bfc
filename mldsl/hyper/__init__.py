"""mldsl.hyper: search spaces (``oneof``, ``manyof``, ``floatv``, ``intv``), their encoding (``DNA``,
``dna_spec``), ``materialize``, and search algorithms (``Grid``, ``Random``, ``Evolution``, ``TPE`` through
Optuna, ``sample``).

Modelled on PyGlove (``pg.oneof``, ``pg.dna_spec``, ``pg.sample``). Imports only the symbolic core.
"""
from mldsl.hyper.algorithm import Algorithm
from mldsl.hyper.dna import DNA
from mldsl.hyper.evolution import Evolution
from mldsl.hyper.geno import Choices, DNASpec, FloatDecision, IntDecision, Space
from mldsl.hyper.grid import Grid
from mldsl.hyper.primitives import (FloatValue, HyperPrimitive, IntValue, ManyOf, OneOf, floatv, intv,
                                    manyof, oneof)
from mldsl.hyper.random_search import Random
from mldsl.hyper.sampling import Feedback, sample
from mldsl.hyper.tpe import TPE
from mldsl.hyper.space import (dna_spec, find_primitives, is_deterministic, iter_dna, materialize,
                               random_dna)

__all__ = [
    "oneof", "manyof", "floatv", "intv", "OneOf", "ManyOf", "FloatValue", "IntValue", "HyperPrimitive",
    "DNA", "DNASpec", "Space", "Choices", "FloatDecision", "IntDecision",
    "dna_spec", "materialize", "is_deterministic", "iter_dna", "random_dna", "find_primitives",
    "Algorithm", "Grid", "Random", "Evolution", "TPE", "sample", "Feedback",
]
