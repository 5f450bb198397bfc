# The L2 penalty core, shared by ``regularizers.pyx`` and ``step.pyx`` (textually included).


cdef double _l2_penalty(floating[::1] w) noexcept:
    cdef Py_ssize_t k
    cdef double s = 0
    cdef unsigned int csr = 0
    with nogil:
        csr = _ftz_on()
        for k in range(w.shape[0]):
            s += <double>(w[k] * w[k])
        _csr_restore(csr)
        return s
