# Loss cores (serial, GIL released inside), shared by ``losses.pyx`` and ``step.pyx`` (textually
# included after ``_blas.pxi`` and ``_math.pxi``).


cdef double _sce_sparse(floating[:, ::1] lg, const int64_t[::1] labels, floating[:, ::1] dl, bint has_dl,
                        Py_ssize_t* bad) noexcept:
    """Sum over rows of -log softmax(lg)[label]; dl = (softmax - onehot) / n when has_dl."""
    cdef Py_ssize_t n = lg.shape[0], m = lg.shape[1], r, c
    cdef int64_t lab
    cdef floating mx, s, inv_n = <floating>1.0 / n if n > 0 else 0
    cdef double total = 0
    cdef unsigned int csr = 0
    with nogil:
        csr = _ftz_on()
        for r in range(n):
            lab = labels[r]
            if lab < 0 or lab >= m:
                bad[0] = r
                _csr_restore(csr)
                return 0
            mx = lg[r, 0]
            for c in range(1, m):
                if lg[r, c] > mx:
                    mx = lg[r, c]
            s = 0
            for c in range(m):
                s += _exp(lg[r, c] - mx)
            total += <double>(_log(s) + mx - lg[r, lab])
            if has_dl:
                s = inv_n / s
                for c in range(m):
                    dl[r, c] = _exp(lg[r, c] - mx) * s
                dl[r, lab] -= inv_n
        _csr_restore(csr)
        return total


cdef double _sce_dense(floating[:, ::1] lg, floating[:, ::1] tg, floating[:, ::1] dl, bint has_dl) noexcept:
    """Sum over rows of sum_j t_j * (logsumexp - l_j); dl = (softmax * sum(t) - t) / n."""
    cdef Py_ssize_t n = lg.shape[0], m = lg.shape[1], r, c
    cdef floating mx, s, lse, ts, inv_n = <floating>1.0 / n if n > 0 else 0
    cdef double total = 0
    cdef unsigned int csr = 0
    with nogil:
        csr = _ftz_on()
        for r in range(n):
            mx = lg[r, 0]
            for c in range(1, m):
                if lg[r, c] > mx:
                    mx = lg[r, c]
            s = 0
            for c in range(m):
                s += _exp(lg[r, c] - mx)
            lse = _log(s) + mx
            ts = 0
            for c in range(m):
                ts += tg[r, c]
                total += <double>(tg[r, c] * (lse - lg[r, c]))
            if has_dl:
                s = inv_n * ts / s
                for c in range(m):
                    dl[r, c] = _exp(lg[r, c] - mx) * s - tg[r, c] * inv_n
        _csr_restore(csr)
        return total


cdef double _mse(floating[:, ::1] p, floating[:, ::1] tg, floating[:, ::1] dp, bint has_dp) noexcept:
    cdef Py_ssize_t n = p.shape[0], m = p.shape[1], r, c
    cdef floating d, scale = <floating>(2.0 / (n * m)) if n * m > 0 else 0
    cdef double total = 0
    cdef unsigned int csr = 0
    with nogil:
        csr = _ftz_on()
        for r in range(n):
            for c in range(m):
                d = p[r, c] - tg[r, c]
                total += <double>(d * d)
                if has_dp:
                    dp[r, c] = scale * d
        _csr_restore(csr)
        return total


cdef Py_ssize_t _count_sparse(floating[:, ::1] s, const int64_t[::1] labels) noexcept:
    cdef Py_ssize_t n = s.shape[0], m = s.shape[1], r, c, best, hits = 0
    with nogil:
        for r in range(n):
            best = 0
            for c in range(1, m):
                if s[r, c] > s[r, best]:
                    best = c
            if best == labels[r]:
                hits += 1
        return hits


cdef Py_ssize_t _count_dense(floating[:, ::1] s, floating[:, ::1] tg) noexcept:
    cdef Py_ssize_t n = s.shape[0], m = s.shape[1], r, c, best, tbest, hits = 0
    with nogil:
        for r in range(n):
            best = 0
            tbest = 0
            for c in range(1, m):
                if s[r, c] > s[r, best]:
                    best = c
                if tg[r, c] > tg[r, tbest]:
                    tbest = c
            if best == tbest:
                hits += 1
        return hits
