# Activation functions, forward and backward, shared by ``activations.pyx`` and ``dense.pyx``
# (textually included after ``_blas.pxi`` and ``_math.pxi``). Work on 2-D C-contiguous views;
# the softmax is taken along the last axis (rows). Outputs may alias inputs (in place).

cdef enum:
    # The codes of mldsl.kernels.catalogue.ACTIVATIONS (tests/kernels/test_catalogue.py checks they match).
    ACT_LINEAR = 0
    ACT_RELU = 1
    ACT_LEAKY_RELU = 2
    ACT_ELU = 3
    ACT_SIGMOID = 4
    ACT_TANH = 5
    ACT_SOFTMAX = 6
    ACT_GELU = 7
    ACT_SWISH = 8
    ACT_GELU_TANH = 9
    ACT_SELU = 10
    ACT_SOFTPLUS = 11

from mldsl.kernels import catalogue as _catalogue

#: Activations whose derivative needs the pre-activation x (the others use the output y).
_NEEDS_X = frozenset(a.code for a in _catalogue.ACTIVATIONS.values() if a.needs_x)

cdef double _SQRT_2_OVER_PI = 0.7978845608028654
cdef double _INV_SQRT_2 = 0.7071067811865476
cdef double _INV_SQRT_2PI = 0.3989422804014327
cdef double _SELU_SCALE = _catalogue.SELU_SCALE
cdef double _SELU_SCALE_ALPHA = _catalogue.SELU_SCALE * _catalogue.SELU_ALPHA


cdef object _act_code(str fn, object activation, object alpha):
    """(code, alpha) for an activation name (the catalogue's); ValueError listing the names otherwise."""
    act = _catalogue.activation(activation, fn)
    if alpha is None:
        alpha = act.default_alpha if act.default_alpha is not None else 0.0
    if act.default_alpha is not None and alpha < 0:
        raise ValueError(f"{fn}: {act.name} needs alpha >= 0, got {alpha}")
    return act.code, float(alpha)


cdef inline void _softmax_row(floating* x, floating* y, Py_ssize_t m) noexcept nogil:
    cdef Py_ssize_t c
    cdef floating mx = x[0], s = 0
    for c in range(1, m):
        if x[c] > mx:
            mx = x[c]
    for c in range(m):
        y[c] = _exp(x[c] - mx)
        s += y[c]
    s = 1 / s
    for c in range(m):
        y[c] *= s


cdef void act_forward(int code, floating[:, ::1] x, floating[:, ::1] y, floating alpha) noexcept nogil:
    """y = f(x) elementwise (row-wise for softmax). ``y`` may be ``x``."""
    cdef Py_ssize_t n = x.shape[0], m = x.shape[1], r, c
    cdef floating v, t
    if n == 0 or m == 0:
        return
    if code == ACT_LINEAR:
        if &x[0, 0] != &y[0, 0]:
            for r in range(n):
                for c in range(m):
                    y[r, c] = x[r, c]
    elif code == ACT_RELU:
        for r in range(n):
            for c in range(m):
                v = x[r, c]
                y[r, c] = 0 if v <= 0 else v      # NaN propagates (a diverged run must show up)
    elif code == ACT_LEAKY_RELU:
        for r in range(n):
            for c in range(m):
                v = x[r, c]
                y[r, c] = v if v > 0 else alpha * v
    elif code == ACT_ELU:
        for r in range(n):
            for c in range(m):
                v = x[r, c]
                y[r, c] = v if v > 0 else alpha * (_exp(v) - 1)
    elif code == ACT_SIGMOID:
        for r in range(n):
            for c in range(m):
                y[r, c] = _sigmoid(x[r, c])
    elif code == ACT_TANH:
        for r in range(n):
            for c in range(m):
                y[r, c] = _tanh(x[r, c])
    elif code == ACT_SOFTMAX:
        for r in range(n):
            _softmax_row(&x[r, 0], &y[r, 0], m)
    elif code == ACT_GELU:
        for r in range(n):
            for c in range(m):
                v = x[r, c]
                y[r, c] = <floating>0.5 * v * (1 + _erf(v * <floating>_INV_SQRT_2))
    elif code == ACT_GELU_TANH:
        for r in range(n):
            for c in range(m):
                v = x[r, c]
                t = _tanh(<floating>_SQRT_2_OVER_PI * (v + <floating>0.044715 * v * v * v))
                y[r, c] = <floating>0.5 * v * (1 + t)
    elif code == ACT_SWISH:
        for r in range(n):
            for c in range(m):
                v = x[r, c]
                y[r, c] = v * _sigmoid(v)
    elif code == ACT_SELU:
        for r in range(n):
            for c in range(m):
                v = x[r, c]
                y[r, c] = <floating>_SELU_SCALE * v if v > 0 else <floating>_SELU_SCALE_ALPHA * (_exp(v) - 1)
    elif code == ACT_SOFTPLUS:
        for r in range(n):
            for c in range(m):
                v = x[r, c]
                y[r, c] = (v if v > 0 else 0) + _log1p(_exp(-_fabs(v)))


cdef void act_backward(int code, floating[:, ::1] x, floating[:, ::1] y, floating[:, ::1] dy,
                       floating[:, ::1] dx, floating alpha) noexcept nogil:
    """dx = dy * f'(x). ``y`` is the forward output; ``x`` is read only by gelu/swish (pass ``y``
    for the others). ``dx`` may be ``dy`` (in place)."""
    cdef Py_ssize_t n = dy.shape[0], m = dy.shape[1], r, c
    cdef floating v, t, s, g
    if n == 0 or m == 0:
        return
    if code == ACT_LINEAR:
        if &dx[0, 0] != &dy[0, 0]:
            for r in range(n):
                for c in range(m):
                    dx[r, c] = dy[r, c]
    elif code == ACT_RELU:
        for r in range(n):
            for c in range(m):
                dx[r, c] = dy[r, c] if y[r, c] > 0 else 0
    elif code == ACT_LEAKY_RELU:
        for r in range(n):
            for c in range(m):
                dx[r, c] = dy[r, c] if y[r, c] > 0 else alpha * dy[r, c]
    elif code == ACT_ELU:
        for r in range(n):
            for c in range(m):
                v = y[r, c]
                dx[r, c] = dy[r, c] if v > 0 else dy[r, c] * (v + alpha)
    elif code == ACT_SIGMOID:
        for r in range(n):
            for c in range(m):
                v = y[r, c]
                dx[r, c] = dy[r, c] * v * (1 - v)
    elif code == ACT_TANH:
        for r in range(n):
            for c in range(m):
                v = y[r, c]
                dx[r, c] = dy[r, c] * (1 - v * v)
    elif code == ACT_SOFTMAX:
        for r in range(n):
            s = 0
            for c in range(m):
                s += dy[r, c] * y[r, c]
            for c in range(m):
                dx[r, c] = y[r, c] * (dy[r, c] - s)
    elif code == ACT_GELU:
        for r in range(n):
            for c in range(m):
                v = x[r, c]
                g = <floating>0.5 * (1 + _erf(v * <floating>_INV_SQRT_2)) \
                    + v * <floating>_INV_SQRT_2PI * _exp(<floating>-0.5 * v * v)
                dx[r, c] = dy[r, c] * g
    elif code == ACT_GELU_TANH:
        for r in range(n):
            for c in range(m):
                v = x[r, c]
                t = _tanh(<floating>_SQRT_2_OVER_PI * (v + <floating>0.044715 * v * v * v))
                g = <floating>0.5 * (1 + t) + <floating>0.5 * v * (1 - t * t) * <floating>_SQRT_2_OVER_PI \
                    * (1 + <floating>0.134145 * v * v)
                dx[r, c] = dy[r, c] * g
    elif code == ACT_SWISH:
        for r in range(n):
            for c in range(m):
                v = x[r, c]
                s = _sigmoid(v)
                dx[r, c] = dy[r, c] * (s + v * s * (1 - s))
    elif code == ACT_SELU:
        for r in range(n):
            for c in range(m):
                v = y[r, c]                       # TensorFlow's SeluGrad: the output decides the branch
                dx[r, c] = dy[r, c] * (v + <floating>_SELU_SCALE_ALPHA) if v < 0 else dy[r, c] * <floating>_SELU_SCALE
    elif code == ACT_SOFTPLUS:
        for r in range(n):
            for c in range(m):
                dx[r, c] = -dy[r, c] * _expm1(-y[r, c])      # sigmoid(x) = 1 - exp(-softplus(x))


cdef void act_forward_released(int code, floating[:, ::1] x, floating[:, ::1] y, floating alpha,
                               int nt=1) noexcept:
    """:func:`act_forward` with the GIL released, rows split over ``nt`` threads."""
    cdef int t
    cdef Py_ssize_t r0, r1
    cdef unsigned int csr = 0
    with nogil:
        if nt <= 1:
            csr = _ftz_on()
            act_forward(code, x, y, alpha)
            _csr_restore(csr)
        else:
            t = 0
            r0 = r1 = 0
            with parallel(num_threads=nt):
                csr = _ftz_on()
                t = threadid()
                r0 = _chunk_lo(t, nt, x.shape[0], 1)
                r1 = _chunk_hi(t, nt, x.shape[0], 1)
                if r1 > r0:
                    act_forward(code, x[r0:r1], y[r0:r1], alpha)
                _csr_restore(csr)


cdef void act_backward_released(int code, floating[:, ::1] x, floating[:, ::1] y, floating[:, ::1] dy,
                                floating[:, ::1] dx, floating alpha, int nt=1) noexcept:
    """:func:`act_backward` with the GIL released, rows split over ``nt`` threads."""
    cdef int t
    cdef Py_ssize_t r0, r1
    cdef unsigned int csr = 0
    with nogil:
        if nt <= 1:
            csr = _ftz_on()
            act_backward(code, x, y, dy, dx, alpha)
            _csr_restore(csr)
        else:
            t = 0
            r0 = r1 = 0
            with parallel(num_threads=nt):
                csr = _ftz_on()
                t = threadid()
                r0 = _chunk_lo(t, nt, dy.shape[0], 1)
                r1 = _chunk_hi(t, nt, dy.shape[0], 1)
                if r1 > r0:
                    act_backward(code, x[r0:r1], y[r0:r1], dy[r0:r1], dx[r0:r1], alpha)
                _csr_restore(csr)
