# Shared BLAS helpers, textually included (``include "_blas.pxi"``) by the kernel modules:
# a cimport between .pyx files under the root ``kernels/`` folder does not resolve.
# The GEMMs go through function pointers bound when the module is imported: to the library
# ``mldsl.kernels.blas`` chooses (scipy-openblas32's OpenBLAS by default), else SciPy's cython_blas.
from scipy.linalg.cython_blas cimport sgemm as _scipy_sgemm, dgemm as _scipy_dgemm

ctypedef void (*_sgemm_t)(char *transa, char *transb, int *m, int *n, int *k, float *alpha, float *a, int *lda,
                          float *b, int *ldb, float *beta, float *c, int *ldc) noexcept nogil
ctypedef void (*_dgemm_t)(char *transa, char *transb, int *m, int *n, int *k, double *alpha, double *a, int *lda,
                          double *b, int *ldb, double *beta, double *c, int *ldc) noexcept nogil

cdef _sgemm_t sgemm = _scipy_sgemm
cdef _dgemm_t dgemm = _scipy_dgemm

cdef extern from "_sgemm.h":
    # mldsl's AVX-512 GEMM for small-batch float32 shapes (see kernels/_sgemm.h); 0/no-op without it
    int MLDSL_HAVE_OWN_SGEMM
    int mldsl_sgemm_cpu_ok() nogil
    void mldsl_sgemm(int trans_a, int trans_b, int m, int n, int k, const float* a, int lda, const float* b,
                     int ldb, int accumulate, float* c, int ldc) noexcept nogil
    ctypedef void (*mldsl_sg_epilogue_t)(void* ctx, int row0, int rows, int col0, int cols) noexcept nogil
    void mldsl_sgemm_ep(int trans_a, int trans_b, int m, int n, int k, const float* a, int lda, const float* b,
                        int ldb, int accumulate, float* c, int ldc, mldsl_sg_epilogue_t epilogue,
                        void* ctx) noexcept nogil

#: Products with a dimension up to this (a batch: m for forward and dX, k for dW) go to the own sgemm;
#: larger ones (evaluation over big batches, square products) to BLAS, faster there.
cdef int _OWN_SGEMM_MAX_BATCH = 256
cdef bint _own_sgemm = False
cdef int _nthreads = 1                    # kernel team size (set by _par.pxi's set_num_threads)
ctypedef int (*_threads_t)() noexcept nogil
cdef _threads_t _blas_threads = NULL      # the BLAS's openblas_get_num_threads, when known


def _bind_blas():
    """Points this module's sgemm/dgemm at the library :func:`mldsl.kernels.blas.gemm_addresses` picks,
    and turns the own small-batch sgemm on when :func:`mldsl.kernels.blas.own_sgemm_wanted` says so."""
    global sgemm, dgemm, _blas_threads
    from mldsl.kernels.blas import gemm_addresses, own_sgemm_wanted, threads_address
    addresses = gemm_addresses()
    if addresses is not None:
        sgemm = <_sgemm_t><size_t>addresses[0]
        dgemm = <_dgemm_t><size_t>addresses[1]
        if threads_address() is not None:
            _blas_threads = <_threads_t><size_t>threads_address()
    set_own_sgemm(own_sgemm_wanted())


def own_sgemm_available():
    """Whether this build has the own AVX-512 sgemm and this CPU can run it."""
    return bool(MLDSL_HAVE_OWN_SGEMM) and bool(mldsl_sgemm_cpu_ok())


def set_own_sgemm(bint enabled):
    """Whether this module's float32 products with a batch-sized dimension use the own sgemm (where
    :func:`own_sgemm_available`) instead of BLAS. Returns the previous setting."""
    global _own_sgemm
    old = _own_sgemm
    _own_sgemm = enabled and own_sgemm_available()
    return old


def get_own_sgemm():
    """Whether this module's small-batch float32 products use the own sgemm."""
    return _own_sgemm


def sgemm_route(int m, int k):
    """Who computes a float32 product with ``m`` rows and inner dimension ``k`` when called now:
    ``"own"`` or ``"blas"`` (see :func:`own_sgemm_takes`)."""
    return "own" if own_sgemm_takes(m, k, 1.0, 0.0) else "blas"


_bind_blas()

ctypedef fused floating:
    float
    double


cdef inline bint own_sgemm_takes(int m, int k, double alpha, double beta) noexcept nogil:
    """Whether a float32 product of this shape goes to the own sgemm (else BLAS). The own sgemm runs on
    the calling thread, so it is used when the kernels split work over their own team (each thread's
    share) or BLAS is single-threaded anyway, never where it would replace a multi-threaded BLAS call."""
    return (_own_sgemm and alpha == 1 and (beta == 0 or beta == 1)
            and (m <= _OWN_SGEMM_MAX_BATCH or k <= _OWN_SGEMM_MAX_BATCH)
            and (_nthreads > 1 or (_blas_threads != NULL and _blas_threads() == 1)))


cdef inline void gemm_rowmajor(bint trans_a, bint trans_b, int m, int n, int k,
                               floating alpha, floating* a, int lda,
                               floating* b, int ldb, floating beta,
                               floating* c, int ldc) noexcept nogil:
    """Row-major C[m,n] = alpha * op(A)[m,k] @ op(B)[k,n] + beta * C.

    Column-major BLAS sees a row-major matrix as its transpose, so C^T = op(B)^T op(A)^T:
    the operands are swapped and m/n exchanged. ``lda``/``ldb``/``ldc`` are row strides
    in elements.
    """
    cdef char ta = b'T' if trans_b else b'N'
    cdef char tb = b'T' if trans_a else b'N'
    if floating is float:
        if own_sgemm_takes(m, k, alpha, beta):
            mldsl_sgemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta == 1, c, ldc)
            return
        sgemm(&ta, &tb, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc)
    else:
        dgemm(&ta, &tb, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc)
