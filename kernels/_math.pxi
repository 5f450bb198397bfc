# Scalar math helpers shared by the kernel modules (textually included after ``_blas.pxi``,
# which defines the ``floating`` fused type). float32 code calls the float libm variants so
# the compiler can keep single precision (and vectorise) instead of promoting to double.
from libc.math cimport exp, expf, log, logf, tanh, tanhf, erf, erff, sqrt, sqrtf, fabs, fabsf, isfinite
from libc.stdint cimport int64_t, uint64_t

cdef extern from *:
    """
    #ifndef MLDSL_DEBUG_KERNELS
    #define MLDSL_DEBUG_KERNELS 0
    #endif
    """
    int MLDSL_DEBUG_KERNELS

#: True when this module was compiled by a debug build (MLDSL_DEBUG_KERNELS=1: bounds checks on).
DEBUG_BUILD = bool(MLDSL_DEBUG_KERNELS)


cdef inline floating _exp(floating x) noexcept nogil:
    if floating is float:
        return expf(x)
    else:
        return exp(x)


cdef inline floating _log(floating x) noexcept nogil:
    if floating is float:
        return logf(x)
    else:
        return log(x)


cdef inline floating _tanh(floating x) noexcept nogil:
    if floating is float:
        return tanhf(x)
    else:
        return tanh(x)


cdef inline floating _erf(floating x) noexcept nogil:
    if floating is float:
        return erff(x)
    else:
        return erf(x)


cdef inline floating _sqrt(floating x) noexcept nogil:
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)


cdef inline floating _sigmoid(floating x) noexcept nogil:
    """Logistic function without overflow for large |x|."""
    cdef floating e
    if x >= 0:
        return 1 / (1 + _exp(-x))
    e = _exp(x)
    return e / (1 + e)
