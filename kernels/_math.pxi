# Scalar math helpers shared by the kernel modules (textually included after ``_blas.pxi``,
# which defines the ``floating`` fused type). float32 code calls the float libm variants so
# the compiler can keep single precision (and vectorise) instead of promoting to double.
from libc.math cimport (exp, expf, expm1, expm1f, log, logf, log1p, log1pf, tanh, tanhf, erf, erff, sqrt, sqrtf,
                        fabs, fabsf, isfinite)
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

# Denormals: kernels run with flush-to-zero / denormals-are-zero (as TensorFlow does). Without it, state
# that decays geometrically (Adam's moments of dead ReLU units, momentum buffers) sinks into float32
# denormals after a few hundred steps and every later update takes the slow microcode path (we measured
# training epochs 5-7x slower). ``_ftz_on`` sets the flags on the calling thread and returns the old
# control word for ``_csr_restore``; kernels do this on entry and in every thread of a parallel region.
cdef extern from *:
    """
    #if defined(__x86_64__) || defined(_M_X64) || defined(__SSE2__)
    #include <xmmintrin.h>
    static inline unsigned int mldsl_ftz_on(void) {
        unsigned int old = _mm_getcsr();
        _mm_setcsr(old | 0x8040u);   /* FTZ (bit 15) | DAZ (bit 6) */
        return old;
    }
    static inline void mldsl_csr_restore(unsigned int old) { _mm_setcsr(old); }
    #else
    static inline unsigned int mldsl_ftz_on(void) { return 0u; }
    static inline void mldsl_csr_restore(unsigned int old) { (void)old; }
    #endif
    """
    unsigned int _ftz_on "mldsl_ftz_on"() noexcept nogil
    void _csr_restore "mldsl_csr_restore"(unsigned int old) noexcept nogil


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


cdef inline floating _expm1(floating x) noexcept nogil:
    if floating is float:
        return expm1f(x)
    else:
        return expm1(x)


cdef inline floating _log1p(floating x) noexcept nogil:
    if floating is float:
        return log1pf(x)
    else:
        return log1p(x)


cdef inline floating _fabs(floating x) noexcept nogil:
    if floating is float:
        return fabsf(x)
    else:
        return fabs(x)


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
