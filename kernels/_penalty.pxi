# The penalty cores of the weight regularizers (``mldsl.kernels.catalogue.PENALTY``), shared by
# ``regularizers.pyx`` and ``step.pyx`` (textually included).


cdef double _l2_penalty(floating[::1] w) noexcept:
    """``sum(w**2)``, accumulated in double."""
    cdef Py_ssize_t k
    cdef double s = 0
    cdef unsigned int csr = 0
    with nogil:
        csr = _ftz_on()
        for k in range(w.shape[0]):
            s += <double>(w[k] * w[k])
        _csr_restore(csr)
        return s


cdef double _l1_penalty(floating[::1] w) noexcept:
    """``sum(|w|)``, accumulated in double."""
    cdef Py_ssize_t k
    cdef double s = 0
    cdef unsigned int csr = 0
    with nogil:
        csr = _ftz_on()
        for k in range(w.shape[0]):
            s += <double>(w[k] if w[k] >= 0 else -w[k])
        _csr_restore(csr)
        return s


cdef inline floating _sign(floating v) noexcept nogil:
    """-1, 0 or 1: TensorFlow's ``sign`` (0 at 0), the subgradient of ``|v|`` the L1 term uses."""
    return <floating>((v > 0) - (v < 0))
