# Kernel-level threading, shared (textually included) by the kernel modules that split work.
#
# By default every kernel runs on the calling thread and BLAS uses its own threads. After
# ``set_num_threads(n)`` with n > 1, kernels split large work over an OpenMP team of n threads and
# call BLAS from each thread: BLAS must then be single-threaded (the native trainer arranges both).
# One team for everything (GEMMs, optimizer updates, batch gathering) avoids BLAS worker threads
# spin-waiting on cores the next kernel needs. Splits are fixed by the sizes and n, so results do
# not depend on timing. Inside ``with parallel():`` blocks every per-thread variable must be
# *assigned* in the block (``lo = _chunk_lo(...)``), which is what makes Cython treat it as private. ``mldsl.kernels.set_num_threads`` sets every module at once.
from cython.parallel cimport prange, parallel, threadid
cimport openmp

# ``_nthreads`` (the team size set below) is declared in ``_blas.pxi``, which the GEMM routing reads.
#: Below this much work (multiply-adds or elements) a kernel stays on one thread.
cdef Py_ssize_t _PAR_MIN_WORK = 1 << 15


def set_num_threads(int n):
    """Threads this module's kernels may use (1: serial, BLAS threads itself). Returns the previous value."""
    global _nthreads
    old = _nthreads
    _nthreads = n if n > 1 else 1
    return old


def get_num_threads():
    """Threads this module's kernels may use."""
    return _nthreads


cdef inline int _team(Py_ssize_t work) noexcept nogil:
    """Team size for ``work`` units (1 below the threshold)."""
    if _nthreads <= 1 or work < _PAR_MIN_WORK:
        return 1
    return _nthreads


cdef inline Py_ssize_t _chunk_lo(int t, int nt, Py_ssize_t total, Py_ssize_t align) noexcept nogil:
    """Start of thread ``t``'s share of ``total`` (of ``nt`` shares rounded up to ``align``)."""
    cdef Py_ssize_t chunk = ((total + nt - 1) // nt + align - 1) // align * align
    cdef Py_ssize_t lo = t * chunk
    return lo if lo < total else total


cdef inline Py_ssize_t _chunk_hi(int t, int nt, Py_ssize_t total, Py_ssize_t align) noexcept nogil:
    """End (exclusive) of thread ``t``'s share; see :func:`_chunk_lo`."""
    cdef Py_ssize_t chunk = ((total + nt - 1) // nt + align - 1) // align * align
    cdef Py_ssize_t hi = (t + 1) * chunk
    return hi if hi < total else total
