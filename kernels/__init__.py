"""Compiled kernels (Cython). Each kernel has a plain NumPy twin of the same name and signature
beside it, in :mod:`mldsl.kernels.reference`; which activations, optimizer updates and losses exist is
:mod:`mldsl.kernels.catalogue`'s (plain Python, read by everything above the kernels).

Modules: ``dense``, ``activations``, ``losses``, ``regularizers``, ``dropout``, ``optimizers``,
``batching``. Every public kernel is also reachable flat from this package
(``mldsl.kernels.dense_forward``), loaded lazily on first access.

Threading: by default kernels run on the calling thread and BLAS threads itself. ``set_num_threads(n)``
makes large kernels split over an OpenMP team of n threads instead (BLAS then must be single-threaded;
see the function). Mixing the two (BLAS worker threads spinning while OpenMP threads work) made
training steps several times slower in our measurements, so do one or the other.

Builds: on x86-64 every module also exists built for x86-64-v3 (AVX2, FMA) as
``mldsl.kernels.x86_64_v3.<module>``; this package serves that build when the CPU supports it and the
portable one otherwise. ``MLDSL_KERNELS_ISA`` chooses: ``auto`` (default), ``baseline`` or ``x86_64_v3``
(an error when this CPU or build cannot run it). :func:`build_info` says which is in use, and which BLAS
(see :mod:`mldsl.kernels.blas`).

Small-batch float32 products (a dimension up to 256) go to mldsl's own AVX-512 sgemm
(``kernels/_sgemm.h``) where the CPU has AVX-512 and the product would run on one thread anyway (inside
the kernels' team, or with BLAS single-threaded) when it is the faster of the two on this CPU: see
:func:`sgemm_choice`, :func:`set_own_sgemm` and ``MLDSL_SGEMM``.

OpenMP threads spin briefly, then sleep: unless ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` is set, importing
this package sets ``GOMP_SPINCOUNT`` to :data:`SPIN_COUNT` before the OpenMP runtime loads. A team's idle
thread then polls for some tens of microseconds before it sleeps: long enough to catch the next parallel
region of the same training step without a wake-up (sleeping at once, ``OMP_WAIT_POLICY=PASSIVE``, paid
one at every region), short enough not to hold a core another process wants (GNU OpenMP's own default
polls for milliseconds, which made busy machines many times slower). The figures are in the README's
"Benchmarks". :func:`build_info` says which policy is in force.

``MLDSL_KERNELS_PATH``: when set, compiled modules are looked up first in
``$MLDSL_KERNELS_PATH/mldsl/kernels`` (the ``--build-lib`` of a debug build, see ``.ci/kernels-debug``),
leaving the installed optimised modules untouched; the portable modules are used then (a debug build
has no variants).
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import types
from typing import Any, Dict, Iterable, Optional

from mldsl.kernels import catalogue

WAIT_POLICY_ENV = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
#: polls of an idle OpenMP thread before it sleeps (see the module docstring)
SPIN_COUNT = 1000


def _openmp_runtime_loaded() -> bool:
    """Whether GNU OpenMP (the kernels' runtime) is already in this process (it reads its settings once)."""
    try:
        with open("/proc/self/maps") as f:
            return any(line.rstrip().endswith("/libgomp.so.1") for line in f)
    except OSError:  # pragma: no cover - not Linux
        return False


def wait_policy(environ=os.environ, runtime_loaded: bool = False) -> str:
    """Bounds how long OpenMP's idle threads spin before they sleep (``GOMP_SPINCOUNT=``:data:`SPIN_COUNT` in
    ``environ``) unless the user chose a policy or the runtime already started; returns what is in force,
    for :func:`build_info`."""
    chosen = [f"{k}={environ[k]}" for k in WAIT_POLICY_ENV if k in environ]
    if chosen:
        return "as set: " + ", ".join(chosen)
    if runtime_loaded:
        return "runtime default (OpenMP was loaded before mldsl.kernels)"
    environ["GOMP_SPINCOUNT"] = str(SPIN_COUNT)
    return f"spin {SPIN_COUNT}, then sleep"


_wait_policy = wait_policy(os.environ, _openmp_runtime_loaded())

_override = os.environ.get("MLDSL_KERNELS_PATH")
if _override:
    __path__.insert(0, os.path.join(os.path.abspath(_override), "mldsl", "kernels"))  # noqa: F821

ISA_ENV = "MLDSL_KERNELS_ISA"
#: instruction-set variants, best first: name -> the CPU features it needs (NumPy's names)
VARIANTS: Dict[str, tuple] = {"x86_64_v3": ("AVX", "AVX2", "FMA3", "F16C", "BMI", "BMI2", "LZCNT", "MOVBE")}

MODULES = ("dense", "activations", "losses", "regularizers", "dropout", "optimizers", "batching", "step")

# public kernel name -> module
KERNELS: dict[str, str] = {
    "matmul": "dense",
    "dense_forward": "dense",
    "dense_backward": "dense",
    "activation_forward": "activations",
    "activation_backward": "activations",
    **{f"{a}_{d}": "activations" for a in catalogue.ACTIVATIONS for d in ("forward", "backward")},
    "softmax_cross_entropy": "losses",
    "mse": "losses",
    "count_correct": "losses",
    "l2_penalty": "regularizers",
    "l2_grad": "regularizers",
    "l1_penalty": "regularizers",
    "l1_grad": "regularizers",
    "dropout_forward": "dropout",
    "dropout_backward": "dropout",
    "optimizer_update": "optimizers",
    "sgd_update": "optimizers",
    "momentum_update": "optimizers",
    "nesterov_update": "optimizers",
    "adam_update": "optimizers",
    "rmsprop_update": "optimizers",
    "adagrad_update": "optimizers",
    "gather_rows": "batching",
    "DenseTrainStep": "step",
}

__all__ = sorted(KERNELS)


def cpu_features() -> Dict[str, bool]:
    """This CPU's features as NumPy detected them (``{"AVX2": True, ...}``; empty if unavailable)."""
    for where in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        try:
            return dict(importlib.import_module(where).__cpu_features__)
        except (ImportError, AttributeError):
            continue
    return {}  # pragma: no cover - NumPy without its feature table


def choose_variant(requested: str, features: Dict[str, bool], built: Iterable[str]) -> str:
    """The build to use ("" = portable) for the ``MLDSL_KERNELS_ISA`` value ``requested`` ("" or "auto",
    "baseline", or a variant name), this CPU's ``features`` and the variants ``built``; raises ImportError
    with what to do when the request cannot be met."""
    requested = (requested or "auto").strip().lower()
    built = set(built)
    runnable = [v for v, needs in VARIANTS.items() if v in built and all(features.get(f) for f in needs)]
    if requested == "auto":
        return runnable[0] if runnable else ""
    if requested == "baseline":
        return ""
    if requested not in VARIANTS:
        raise ImportError(f"{ISA_ENV}={requested!r} is not a kernel build; use one of: auto, baseline, "
                          f"{', '.join(VARIANTS)}")
    if requested not in built:
        raise ImportError(f"{ISA_ENV}={requested} but the kernels were not built for it (a debug build, a "
                          f"non-x86 machine, or MLDSL_KERNELS_VARIANTS=baseline); unset {ISA_ENV} or reinstall")
    if requested not in runnable:
        missing = [f for f in VARIANTS[requested] if not features.get(f)]
        raise ImportError(f"{ISA_ENV}={requested} but this CPU lacks {', '.join(missing)}; unset {ISA_ENV} to use "
                          f"the portable kernels")
    return requested


def built_variants() -> list:
    """The variants whose modules are installed next to the portable ones (none under MLDSL_KERNELS_PATH)."""
    if _override:
        return []
    return [v for v in VARIANTS if importlib.util.find_spec(f"{__name__}.{v}.{MODULES[0]}") is not None]


_variant: Optional[str] = None


def variant() -> str:
    """The build in use: ``"baseline"`` or a variant name such as ``"x86_64_v3"``."""
    return _selected() or "baseline"


def _selected() -> str:
    global _variant
    if _variant is None:
        _variant = choose_variant(os.environ.get(ISA_ENV, ""), cpu_features(), built_variants())
    return _variant


def module(name: str, variant: Optional[str] = None) -> Any:
    """The compiled module ``name`` (e.g. "dense") of the build in use, or of ``variant`` ("baseline" or
    a variant name) when given. The first call decides who runs small-batch products (:func:`sgemm_choice`)."""
    v = _selected() if variant is None else ("" if variant == "baseline" else variant)
    mod = importlib.import_module(f"{__name__}.{v}.{name}" if v else f"{__name__}.{name}")
    if _sgemm is None and not _deciding:
        _decide_sgemm()
    return mod


_sgemm: Optional[Dict[str, Any]] = None
_deciding = False


def _decide_sgemm() -> None:
    """Applies ``MLDSL_SGEMM``: under ``auto``, the faster of the own sgemm and BLAS on this CPU, from the
    per-user cache or a short measurement (:mod:`mldsl.kernels.sgemm_select`)."""
    global _sgemm, _deciding
    from mldsl.kernels import blas, sgemm_select  # noqa: PLC0415
    _deciding = True
    try:
        dense = module("dense")
        lib = blas.info()
        key = sgemm_select.cache_key(variant(), f"{lib['name']} {lib['version']}")
        try:
            decision = sgemm_select.choose(blas.sgemm_requested(), dense.own_sgemm_available(), key,
                                           lambda: sgemm_select.measure(dense.matmul, dense.set_own_sgemm))
        except Exception as exc:  # noqa: BLE001 - a failed measurement leaves the default, and says why
            decision = {"sgemm": "own" if dense.own_sgemm_available() else "blas",
                        "by": f"default: the measurement failed ({type(exc).__name__}: {exc})"}
        blas.decide_own_sgemm(decision["sgemm"] == "own")
        _set_own_sgemm(decision["sgemm"] == "own", None)
        _sgemm = decision
    finally:
        _deciding = False


def sgemm_choice() -> Dict[str, Any]:
    """How the kernels chose who runs small-batch float32 products: ``{"sgemm": "own" | "blas", "by": ...}``
    with the measured seconds (``own_s``, ``blas_s``) under ``MLDSL_SGEMM=auto``."""
    module("dense")
    return dict(_sgemm or {})


def namespace(variant: str) -> Any:
    """Every public kernel of one build ("baseline" or a variant name) as attributes, with
    ``set_num_threads``/``get_num_threads`` for that build: to test or time builds side by side."""
    ns = types.SimpleNamespace(**{name: getattr(module(mod, variant), name) for name, mod in KERNELS.items()})
    ns.__name__ = f"{__name__}[{variant}]"
    ns.set_num_threads = lambda n: _set_threads(n, variant)
    ns.get_num_threads = lambda: module("dense", variant).get_num_threads()
    ns.set_own_sgemm = lambda enabled: _set_own_sgemm(enabled, variant)
    return ns


def build_info() -> Dict[str, Any]:
    """``{"isa": ..., "debug": bool, "blas": {...}, "sgemm": ..., "sgemm_choice": {...}, "openmp_wait": ...}``:
    the kernel build in use, the BLAS it calls, who runs small-batch float32 products (``"own-avx512"`` or
    ``"blas"``) and how that was chosen (:func:`sgemm_choice`), and how idle OpenMP threads wait (see the
    module docstring)."""
    dense = module("dense")
    from mldsl.kernels import blas  # noqa: PLC0415
    return {"isa": variant(), "debug": bool(dense.DEBUG_BUILD), "blas": blas.info(),
            "sgemm": "own-avx512" if dense.get_own_sgemm() else "blas", "sgemm_choice": sgemm_choice(),
            "openmp_wait": _wait_policy}


def __getattr__(name: str):
    mod = KERNELS.get(name)
    if mod is None:
        raise AttributeError(f"module 'mldsl.kernels' has no attribute {name!r}")
    value = getattr(module(mod), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def set_num_threads(n: int) -> int:
    """Lets every kernel module split large work over ``n`` OpenMP threads (1: serial, the default,
    with BLAS threading itself). With n > 1, BLAS must be limited to one thread (kernels call it from
    each thread); the native trainer does both. Returns the previous setting."""
    return _set_threads(n, None)


def _set_threads(n: int, variant: Optional[str]) -> int:
    old = 1
    for name in MODULES:
        setter = getattr(module(name, variant), "set_num_threads", None)
        if setter is not None:
            old = setter(n)
    return old


def own_sgemm_available() -> bool:
    """Whether the build has mldsl's own AVX-512 sgemm and this CPU can run it."""
    return module("dense").own_sgemm_available()


def set_own_sgemm(enabled: bool) -> bool:
    """Sends every kernel module's small-batch float32 products (a dimension up to 256) to mldsl's own
    AVX-512 sgemm (``True``, the default where :func:`own_sgemm_available`) or to BLAS (``False``).
    The two sum in different orders, so results differ in the last bits. Returns the previous setting."""
    return _set_own_sgemm(enabled, None)


def _set_own_sgemm(enabled: bool, variant: Optional[str]) -> bool:
    old = False
    for name in MODULES:
        setter = getattr(module(name, variant), "set_own_sgemm", None)
        if setter is not None:
            old = setter(bool(enabled)) or old
    return old


def get_num_threads() -> int:
    """The kernels' thread setting (see :func:`set_num_threads`)."""
    return module("dense").get_num_threads()
