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


def _bind_blas():
    """Points this module's sgemm/dgemm at the library :func:`mldsl.kernels.blas.gemm_addresses` picks."""
    global sgemm, dgemm
    from mldsl.kernels.blas import gemm_addresses
    addresses = gemm_addresses()
    if addresses is not None:
        sgemm = <_sgemm_t><size_t>addresses[0]
        dgemm = <_dgemm_t><size_t>addresses[1]


_bind_blas()

ctypedef fused floating:
    float
    double


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
        sgemm(&ta, &tb, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc)
    else:
        dgemm(&ta, &tb, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc)
