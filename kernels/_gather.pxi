# Row-gathering cores, shared by ``batching.pyx`` and ``step.pyx`` (textually included after
# ``_par.pxi``).


cdef Py_ssize_t _gather(floating[:, ::1] src, const int64_t[::1] idx, floating[:, ::1] out) noexcept:
    cdef Py_ssize_t n = idx.shape[0], m = src.shape[1], N = src.shape[0], r, c, j
    cdef int nt = _team(n * m)
    with nogil:
        for r in range(n):              # validate first, then copy (rows split over the team)
            if idx[r] < 0 or idx[r] >= N:
                return r
        for r in prange(n, schedule="static", num_threads=nt):
            j = idx[r]
            for c in range(m):
                out[r, c] = src[j, c]
    return -1


cdef Py_ssize_t _gather_int(const int64_t[::1] src, const int64_t[::1] idx, int64_t[::1] out) noexcept:
    cdef Py_ssize_t n = idx.shape[0], N = src.shape[0], r, j
    with nogil:
        for r in range(n):
            j = idx[r]
            if j < 0 or j >= N:
                return r
            out[r] = src[j]
    return -1
