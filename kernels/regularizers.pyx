# cython: language_level=3
# distutils: extra_compile_args = -fopenmp
# distutils: extra_link_args = -fopenmp
"""The weight regularizers' terms (``mldsl.kernels.catalogue.PENALTY``): L2 (Keras' ``L2(l2)``), penalty
``l2 * sum(w**2)`` and gradient ``2 * l2 * w``; L1 (``L1(l1)``), penalty ``l1 * sum(|w|)`` and gradient
``l1 * sign(w)`` (``sign(0) = 0``, as TensorFlow's)."""
include "_blas.pxi"
include "_math.pxi"
include "_par.pxi"
include "_check.pxi"
include "_penalty.pxi"


cdef void _l2_grad(floating[::1] w, floating[::1] dw, floating scale) noexcept:
    cdef Py_ssize_t k
    cdef int nt = _team(w.shape[0])
    cdef unsigned int csr = 0
    with nogil:
        with parallel(num_threads=nt):
            csr = _ftz_on()
            for k in prange(w.shape[0], schedule="static"):
                dw[k] += scale * w[k]
            _csr_restore(csr)


def l2_penalty(w, l2):
    """Returns ``l2 * sum(w**2)`` (the term Keras adds to the loss)."""
    w = _as_float_array("l2_penalty", "w", w)
    if w.size == 0:
        return 0.0
    if _is_f32(w):
        return float(l2) * _l2_penalty[float](w.reshape(-1))
    return float(l2) * _l2_penalty[double](w.reshape(-1))


def l2_grad(w, dw, l2):
    """Adds the L2 gradient ``2 * l2 * w`` to ``dw`` in place; returns ``dw``."""
    fn = "l2_grad"
    w = _as_float_array(fn, "w", w)
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>w)
    dw = _as_output(fn, "dw", dw, t, tuple(w.shape))
    if w.size == 0:
        return dw
    if t == cnp.NPY_FLOAT32:
        _l2_grad[float](w.reshape(-1), dw.reshape(-1), <float>(2.0 * l2))
    else:
        _l2_grad[double](w.reshape(-1), dw.reshape(-1), 2.0 * l2)
    return dw


cdef void _l1_grad(floating[::1] w, floating[::1] dw, floating l1) noexcept:
    cdef Py_ssize_t k
    cdef int nt = _team(w.shape[0])
    cdef unsigned int csr = 0
    with nogil:
        with parallel(num_threads=nt):
            csr = _ftz_on()
            for k in prange(w.shape[0], schedule="static"):
                dw[k] += l1 * _sign(w[k])
            _csr_restore(csr)


def l1_penalty(w, l1):
    """Returns ``l1 * sum(|w|)`` (the term Keras' ``L1`` adds to the loss)."""
    w = _as_float_array("l1_penalty", "w", w)
    if w.size == 0:
        return 0.0
    if _is_f32(w):
        return float(l1) * _l1_penalty[float](w.reshape(-1))
    return float(l1) * _l1_penalty[double](w.reshape(-1))


def l1_grad(w, dw, l1):
    """Adds the L1 gradient ``l1 * sign(w)`` (``sign(0) = 0``) to ``dw`` in place; returns ``dw``."""
    fn = "l1_grad"
    w = _as_float_array(fn, "w", w)
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>w)
    dw = _as_output(fn, "dw", dw, t, tuple(w.shape))
    if w.size == 0:
        return dw
    if t == cnp.NPY_FLOAT32:
        _l1_grad[float](w.reshape(-1), dw.reshape(-1), <float>l1)
    else:
        _l1_grad[double](w.reshape(-1), dw.reshape(-1), <double>l1)
    return dw
