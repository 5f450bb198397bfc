"""Which BLAS the compiled kernels call for their matrix products.

Every kernel module calls ``sgemm``/``dgemm`` through a function pointer that it binds once, when it
is imported, to what :func:`gemm_addresses` returns:

- ``"openblas"``: the OpenBLAS of the ``scipy-openblas32`` wheel (an mldsl dependency; the same
  library SciPy and NumPy build against, in its current release). At the small-batch shapes training
  runs (100 x 784 @ 784 x 500 and the like), OpenBLAS 0.3.31+ is 6-15% faster per core than the
  0.3.30 SciPy 1.17 bundles, at the same peak on large square products.
- ``"scipy"``: SciPy's own BLAS through ``scipy.linalg.cython_blas`` (the fallback).

Next to BLAS, the float32 products whose batch dimension is small (up to 256 rows: the forward pass,
the input and the weight gradients of a training step) go to mldsl's own AVX-512 kernel
(``kernels/_sgemm.h``) when the CPU has AVX-512: at batch 100 it runs 8-25% faster per core than
OpenBLAS on those shapes, but not on every CPU. ``MLDSL_SGEMM`` chooses: ``auto`` (the default: the faster
of the two, measured once per CPU model, see :mod:`mldsl.kernels.sgemm_select`), ``own`` or ``blas`` (BLAS
for every product); :func:`mldsl.kernels.set_own_sgemm` switches at run time.

``MLDSL_BLAS`` chooses: ``auto`` (the default: openblas when it loads, else scipy), ``openblas``
(an error if it cannot be loaded) or ``scipy``. Both expose the reference Fortran interface with
32-bit integers, so the kernels' calls are the same either way. Thread limits set with
``threadpoolctl`` (which the native trainer uses) reach the chosen library like any loaded BLAS.
"""
from __future__ import annotations

import ctypes
import os
from typing import Any, Dict, Optional, Tuple

ENV = "MLDSL_BLAS"
CHOICES = ("auto", "openblas", "scipy")
SGEMM_ENV = "MLDSL_SGEMM"
SGEMM_CHOICES = ("auto", "own", "blas")

_loaded: Optional[Dict[str, Any]] = None     # what this process bound (set by the first gemm_addresses call)


def requested() -> str:
    """The ``MLDSL_BLAS`` choice (``auto`` when unset); an unknown value is an ImportError naming the choices."""
    value = os.environ.get(ENV, "").strip().lower() or "auto"
    if value not in CHOICES:
        raise ImportError(f"{ENV}={os.environ.get(ENV)!r} is not a BLAS choice; use one of: {', '.join(CHOICES)}")
    return value


def _load_openblas() -> Dict[str, Any]:
    """Loads scipy-openblas32's library and finds its sgemm/dgemm (ImportError/OSError/AttributeError)."""
    import scipy_openblas32  # noqa: PLC0415 - optional at import time, required only here

    path = os.path.join(scipy_openblas32.get_lib_dir(), scipy_openblas32.get_library(fullname=True))
    lib = ctypes.CDLL(path)
    for prefix in ("scipy_", ""):
        try:
            s, d = getattr(lib, f"{prefix}sgemm_"), getattr(lib, f"{prefix}dgemm_")
        except AttributeError:
            continue
        threads = getattr(lib, f"{prefix}openblas_get_num_threads", None)
        return {"name": "openblas", "library": path, "version": getattr(scipy_openblas32, "__version__", "?"),
                "handle": lib, "addresses": (ctypes.cast(s, ctypes.c_void_p).value,
                                             ctypes.cast(d, ctypes.c_void_p).value),
                "threads_address": ctypes.cast(threads, ctypes.c_void_p).value if threads is not None else None}
    raise AttributeError(f"{path} exports no sgemm_/dgemm_")


def gemm_addresses() -> Optional[Tuple[int, int]]:
    """The addresses of ``sgemm_`` and ``dgemm_`` for the kernels to call, or None for SciPy's
    ``cython_blas``. The library is loaded once per process and kept loaded."""
    global _loaded
    if _loaded is None:
        choice = requested()
        info: Dict[str, Any] = {"name": "scipy", "library": "scipy.linalg.cython_blas", "version": _scipy_version(),
                                "addresses": None}
        if choice != "scipy":
            try:
                info = _load_openblas()
            except (ImportError, OSError, AttributeError) as exc:
                if choice == "openblas":
                    raise ImportError(f"{ENV}=openblas but scipy-openblas32 cannot be loaded ({exc}); install it "
                                      f"with `pip install scipy-openblas32`, or set {ENV}=scipy") from exc
                info["fallback_reason"] = f"scipy-openblas32 not usable: {exc}"
        _loaded = info
    return _loaded["addresses"]


def threads_address() -> Optional[int]:
    """The address of the chosen library's ``openblas_get_num_threads`` (None when unknown): the kernels
    ask it whether BLAS runs single-threaded before calling their own single-threaded sgemm."""
    gemm_addresses()
    assert _loaded is not None
    return _loaded.get("threads_address")


def info() -> Dict[str, Any]:
    """What the kernels call: ``{"name": "openblas" | "scipy", "library": ..., "version": ...}`` (plus
    ``fallback_reason`` when ``auto`` fell back to SciPy)."""
    gemm_addresses()
    assert _loaded is not None
    return {k: v for k, v in _loaded.items() if k not in ("handle", "addresses", "threads_address")}


_own_sgemm_decided: Optional[bool] = None   # set once auto's measurement (or the cache) decided


def sgemm_requested() -> str:
    """The ``MLDSL_SGEMM`` choice: ``auto`` (when unset), ``own`` or ``blas``; an unknown value is an
    ImportError naming the choices."""
    value = os.environ.get(SGEMM_ENV, "").strip().lower() or "auto"
    if value not in SGEMM_CHOICES:
        raise ImportError(f"{SGEMM_ENV}={os.environ.get(SGEMM_ENV)!r} is not a choice; use one of: "
                          f"{', '.join(SGEMM_CHOICES)}")
    return value


def decide_own_sgemm(enabled: bool) -> None:
    """Records the decision of :mod:`mldsl.kernels.sgemm_select`, for kernel modules imported later."""
    global _own_sgemm_decided
    _own_sgemm_decided = bool(enabled)


def own_sgemm_wanted() -> bool:
    """Whether a kernel module should start with its own small-batch sgemm where the CPU can run it: the
    decision once made, else ``MLDSL_SGEMM`` (``auto`` and ``own``: yes until measured; ``blas``: no)."""
    requested = sgemm_requested()
    if _own_sgemm_decided is not None:
        return _own_sgemm_decided
    return requested != "blas"


def _scipy_version() -> str:
    import scipy  # noqa: PLC0415
    return f"scipy {scipy.__version__}"
