"""Helpers for the kernel tests (kernel namespaces, finite differences, random data)."""
import importlib

import numpy as np

import mldsl.kernels

#: "cython" is the build mldsl.kernels serves (x86_64_v3 where the CPU has it); when that is not the
#: portable build, "cython-baseline" runs every case over the portable build too.
IMPLS = ("cython", "numpy") + (("cython-baseline",) if mldsl.kernels.variant() != "baseline" else ())


def load_impl(name):
    """The kernel namespace: ``mldsl.kernels`` (compiled, the build in use), the portable build
    (``cython-baseline``) or ``mldsl.kernels.reference`` (the NumPy twins)."""
    if name == "cython":
        return importlib.import_module("mldsl.kernels")
    if name == "cython-baseline":
        return mldsl.kernels.namespace("baseline")
    return importlib.import_module("mldsl.kernels.reference")


def numgrad(f, x, eps=1e-6):
    """Central finite-difference gradient of the scalar function ``f()`` w.r.t. array ``x`` (in place)."""
    g = np.zeros_like(x, dtype=np.float64)
    flat, gf = x.reshape(-1), g.reshape(-1)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + eps
        fp = f()
        flat[k] = old - eps
        fm = f()
        flat[k] = old
        gf[k] = (fp - fm) / (2 * eps)
    return g


def rand(shape, dtype=np.float64, seed=0, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def away_from_kinks(x, margin=1e-3):
    """Moves entries of ``x`` away from 0 so relu-like kinks do not fall inside a FD step."""
    x = x.copy()
    x[np.abs(x) < margin] = margin
    return x
