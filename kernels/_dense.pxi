# Dense-layer cores (the forward pass with bias and activation fused, column sums), shared by
# ``dense.pyx`` and ``step.pyx`` (textually included after ``_par.pxi`` and ``_act.pxi``).


cdef void _fwd_block(floating[:, ::1] x, floating[:, ::1] w, floating[::1] b, bint has_b, floating[:, ::1] pre,
                     floating[:, ::1] out, int code, floating alpha, Py_ssize_t c0, Py_ssize_t c1) noexcept nogil:
    """Columns [c0, c1) of ``pre = x @ w + b`` and (elementwise activations) of ``out``."""
    cdef Py_ssize_t n = x.shape[0], i = x.shape[1], o = w.shape[1], r, c
    for r in range(n):
        if has_b:
            for c in range(c0, c1):
                pre[r, c] = b[c]
        else:
            for c in range(c0, c1):
                pre[r, c] = 0
    if i > 0:
        gemm_rowmajor(False, False, <int>n, <int>(c1 - c0), <int>i, <floating>1.0, &x[0, 0], <int>i,
                      &w[0, c0], <int>o, <floating>1.0, &pre[0, c0], <int>o)
    if code != ACT_SOFTMAX and (code != ACT_LINEAR or &pre[0, 0] != &out[0, 0]):
        act_forward(code, pre[:, c0:c1], out[:, c0:c1], alpha)


cdef void _dense_forward(floating[:, ::1] x, floating[:, ::1] w, floating[::1] b, bint has_b,
                         floating[:, ::1] pre, floating[:, ::1] out, int code, floating alpha) noexcept:
    cdef Py_ssize_t n = x.shape[0], i = x.shape[1], o = w.shape[1], c0, c1
    cdef int nt = _team(n * i * o), t
    if n == 0 or o == 0:
        return
    cdef unsigned int csr = 0
    with nogil:
        if nt <= 1:
            csr = _ftz_on()
            _fwd_block(x, w, b, has_b, pre, out, code, alpha, 0, o)
            _csr_restore(csr)
        else:   # split the output columns (cache-line aligned); each thread runs a BLAS call
            t = 0
            c0 = c1 = 0
            with parallel(num_threads=nt):
                csr = _ftz_on()
                t = threadid()
                c0 = _chunk_lo(t, nt, o, 16)
                c1 = _chunk_hi(t, nt, o, 16)
                if c1 > c0:
                    _fwd_block(x, w, b, has_b, pre, out, code, alpha, c0, c1)
                _csr_restore(csr)
    if code == ACT_SOFTMAX:
        act_forward_released(code, pre, out, alpha, _team(n * o * 16))


cdef inline void _colsum(floating[:, ::1] dz, floating[::1] db, Py_ssize_t c0, Py_ssize_t c1) noexcept nogil:
    """db[c0:c1] = column sums of dz[:, c0:c1]."""
    cdef Py_ssize_t r, c
    for c in range(c0, c1):
        db[c] = 0
    for r in range(dz.shape[0]):
        for c in range(c0, c1):
            db[c] += dz[r, c]
