# Shared BLAS helpers, textually included (``include "_blas.pxi"``) by the kernel modules:
# a cimport between .pyx files under the root ``kernels/`` folder does not resolve.
from scipy.linalg.cython_blas cimport sgemm, dgemm

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
