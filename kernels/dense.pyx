# cython: language_level=3
"""Dense layer kernels: forward ``Y = X @ W + b`` through BLAS GEMM."""
include "_blas.pxi"


def dense_forward(floating[:, ::1] x, floating[:, ::1] w, floating[::1] b, floating[:, ::1] out):
    """Writes ``x @ w + b`` into ``out`` (shapes (n, i), (i, o), (o,), (n, o)); returns ``out``."""
    cdef int n = x.shape[0], i = x.shape[1], o = w.shape[1]
    if w.shape[0] != i or b.shape[0] != o or out.shape[0] != n or out.shape[1] != o:
        raise ValueError(
            f"dense_forward: shapes do not fit: x{(x.shape[0], x.shape[1])} @ "
            f"w{(w.shape[0], w.shape[1])} + b{(b.shape[0],)} -> out{(out.shape[0], out.shape[1])}")
    cdef Py_ssize_t r, c
    with nogil:
        for r in range(n):
            for c in range(o):
                out[r, c] = b[c]
        if n > 0 and o > 0:
            gemm_rowmajor(False, False, n, o, i, <floating>1.0, &x[0, 0], i, &w[0, 0], o,
                          <floating>1.0, &out[0, 0], o)
    return out.base if out.base is not None else out
