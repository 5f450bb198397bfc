# cython: language_level=3
# distutils: extra_compile_args = -fopenmp
# distutils: extra_link_args = -fopenmp
"""Inverted dropout with a counter-based generator (SplitMix64 keyed by ``seed``): element ``k``
is kept when ``uniform(seed, offset + k) >= rate`` and scaled by ``1 / (1 - rate)``. The same
(seed, offset) always gives the same mask; callers advance ``offset`` by ``x.size`` per step.
float32/float64, GIL released, no allocation."""
include "_blas.pxi"
include "_math.pxi"
include "_par.pxi"
include "_check.pxi"
include "_rng.pxi"


cdef void _dropout_forward(floating[::1] x, floating[::1] out, floating[::1] mask, double rate,
                           uint64_t key, uint64_t offset) noexcept:
    cdef Py_ssize_t k
    cdef floating scale = <floating>(1.0 / (1.0 - rate))
    cdef int nt = _team(x.shape[0] * 4)
    cdef unsigned int csr = 0
    with nogil:
        with parallel(num_threads=nt):
            csr = _ftz_on()
            for k in prange(x.shape[0], schedule="static"):
                if _uniform24(key, offset + <uint64_t>k) >= rate:
                    mask[k] = scale
                else:
                    mask[k] = 0
                out[k] = x[k] * mask[k]
            _csr_restore(csr)


cdef void _mul(floating[::1] a, floating[::1] b, floating[::1] out) noexcept:
    cdef Py_ssize_t k
    cdef int nt = _team(a.shape[0])
    cdef unsigned int csr = 0
    with nogil:
        with parallel(num_threads=nt):
            csr = _ftz_on()
            for k in prange(a.shape[0], schedule="static"):
                out[k] = a[k] * b[k]
            _csr_restore(csr)


def dropout_forward(x, out, mask, rate, seed, offset=0):
    """Training-time dropout: writes ``mask`` (0 or ``1/(1-rate)``) and ``out = x * mask``.

    x, out, mask: same shape and dtype (``out`` may be ``x``); rate in [0, 1); seed, offset:
    non-negative ints selecting the random stream. Returns ``out``."""
    fn = "dropout_forward"
    x = _as_float_array(fn, "x", x)
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>x)
    shape = tuple(x.shape)
    out = _as_output(fn, "out", out, t, shape)
    mask = _as_output(fn, "mask", mask, t, shape)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"{fn}: rate must be in [0, 1), got {rate}")
    if seed < 0 or offset < 0:
        raise ValueError(f"{fn}: seed and offset must be >= 0, got seed={seed}, offset={offset}")
    cdef uint64_t key = _rng_key(<uint64_t>(seed & 0xFFFFFFFFFFFFFFFF))
    cdef uint64_t off = <uint64_t>(offset & 0xFFFFFFFFFFFFFFFF)
    if x.size == 0:
        return out
    if t == cnp.NPY_FLOAT32:
        _dropout_forward[float](x.reshape(-1), out.reshape(-1), mask.reshape(-1), rate, key, off)
    else:
        _dropout_forward[double](x.reshape(-1), out.reshape(-1), mask.reshape(-1), rate, key, off)
    return out


def dropout_backward(dy, mask, dx):
    """``dx = dy * mask`` (``dx`` may be ``dy``); returns ``dx``."""
    fn = "dropout_backward"
    dy = _as_float_array(fn, "dy", dy)
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>dy)
    mask = _as_float_array(fn, "mask", mask, t)
    if mask.shape != dy.shape:
        raise ValueError(f"{fn}: shapes do not fit: dy{_shape_str(dy)} vs mask{_shape_str(mask)}")
    dx = _as_output(fn, "dx", dx, t, tuple(dy.shape))
    if dy.size == 0:
        return dx
    if t == cnp.NPY_FLOAT32:
        _mul[float](dy.reshape(-1), mask.reshape(-1), dx.reshape(-1))
    else:
        _mul[double](dy.reshape(-1), mask.reshape(-1), dx.reshape(-1))
    return dx
