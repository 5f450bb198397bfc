# cython: language_level=3
# distutils: extra_compile_args = -fopenmp
# distutils: extra_link_args = -fopenmp
"""Dense layer kernels: ``out = f(x @ w + b)`` through BLAS GEMM with the bias and the activation
fused, and its backward pass (dW, db, dX). float32/float64, GIL released, no allocation."""
include "_blas.pxi"
include "_math.pxi"
include "_par.pxi"
include "_check.pxi"
include "_act.pxi"
include "_dense.pxi"


cdef void _dense_backward(floating[:, ::1] x, floating[:, ::1] w, floating[:, ::1] dz,
                          floating[:, ::1] dw, floating[::1] db, bint has_db,
                          floating[:, ::1] dx, bint has_dx) noexcept:
    cdef Py_ssize_t n = x.shape[0], i = x.shape[1], o = w.shape[1], r, c, lo, hi
    cdef int nt = _team(n * i * o), t, na
    if n == 0 or i == 0 or o == 0:
        with nogil:
            for r in range(i):
                for c in range(o):
                    dw[r, c] = 0
            if has_db:
                for c in range(o):
                    db[c] = 0
                for r in range(n):
                    for c in range(o):
                        db[c] += dz[r, c]
            if has_dx:
                for r in range(n):
                    for c in range(i):
                        dx[r, c] = 0
        return
    cdef unsigned int csr = 0
    with nogil:
        if nt <= 1:
            csr = _ftz_on()
            gemm_rowmajor(True, False, <int>i, <int>o, <int>n, <floating>1.0, &x[0, 0], <int>i,
                          &dz[0, 0], <int>o, <floating>0.0, &dw[0, 0], <int>o)
            if has_db:
                _colsum(dz, db, 0, o)
            if has_dx:
                gemm_rowmajor(False, True, <int>n, <int>i, <int>o, <floating>1.0, &dz[0, 0], <int>o,
                              &w[0, 0], <int>o, <floating>0.0, &dx[0, 0], <int>i)
            _csr_restore(csr)
        elif has_dx:
            # dW (i x o) and dX (n x i) cost the same n*i*o multiply-adds: half the team computes dW
            # (rows split), the other half dX (columns split) and db.
            na = (nt + 1) // 2
            t = 0
            lo = hi = 0
            with parallel(num_threads=nt):
                csr = _ftz_on()
                t = threadid()
                if t < na:
                    lo = _chunk_lo(t, na, i, 16)
                    hi = _chunk_hi(t, na, i, 16)
                    if hi > lo:
                        gemm_rowmajor(True, False, <int>(hi - lo), <int>o, <int>n, <floating>1.0, &x[0, lo],
                                      <int>i, &dz[0, 0], <int>o, <floating>0.0, &dw[lo, 0], <int>o)
                else:
                    lo = _chunk_lo(t - na, nt - na, i, 16)
                    hi = _chunk_hi(t - na, nt - na, i, 16)
                    if hi > lo:
                        gemm_rowmajor(False, True, <int>n, <int>(hi - lo), <int>o, <floating>1.0, &dz[0, 0],
                                      <int>o, &w[lo, 0], <int>o, <floating>0.0, &dx[0, lo], <int>i)
                    if has_db and t == na:
                        _colsum(dz, db, 0, o)
                _csr_restore(csr)
        else:
            t = 0
            lo = hi = 0
            with parallel(num_threads=nt):
                csr = _ftz_on()
                t = threadid()
                lo = _chunk_lo(t, nt, i, 16)
                hi = _chunk_hi(t, nt, i, 16)
                if hi > lo:
                    gemm_rowmajor(True, False, <int>(hi - lo), <int>o, <int>n, <floating>1.0, &x[0, lo],
                                  <int>i, &dz[0, 0], <int>o, <floating>0.0, &dw[lo, 0], <int>o)
                if has_db:
                    lo = _chunk_lo(t, nt, o, 16)
                    hi = _chunk_hi(t, nt, o, 16)
                    if hi > lo:
                        _colsum(dz, db, lo, hi)
                _csr_restore(csr)


def dense_forward(x, w, b, out, activation="linear", z=None, alpha=None):
    """Dense layer forward: writes ``out = activation(x @ w + b)`` and returns ``out``.

    x: (n, i); w: (i, o); b: (o,) or None (no bias); out: (n, o), written in place.
    activation: a name of ``mldsl.kernels.catalogue.ACTIVATIONS`` (softmax is row-wise); alpha: its
    parameter (leaky_relu's slope, default 0.2; elu's alpha, default 1.0). z: optional (n, o) buffer that
    receives the pre-activation ``x @ w + b`` (needed by :func:`dense_backward` for the activations whose
    catalogue entry says ``needs_x``: gelu, gelu_tanh, swish).
    All float arrays share one dtype (float32 or float64); non-contiguous inputs are copied.
    """
    fn = "dense_forward"
    x = _as_float_array(fn, "x", x)
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>x)
    w = _as_float_array(fn, "w", w, t)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ValueError(f"{fn}: shapes do not fit: x{_shape_str(x)} @ w{_shape_str(w)} "
                         f"(need x (n, i) and w (i, o))")
    n, o = x.shape[0], w.shape[1]
    cdef bint has_b = b is not None
    if has_b:
        b = _as_float_array(fn, "b", b, t)
        if b.shape != (o,):
            raise ValueError(f"{fn}: shapes do not fit: x{_shape_str(x)} @ w{_shape_str(w)} + "
                             f"b{_shape_str(b)} (b must be ({o},))")
    out = _as_output(fn, "out", out, t, (n, o))
    code, a = _act_code(fn, activation, alpha)
    pre = out if z is None else _as_output(fn, "z", z, t, (n, o))
    if t == cnp.NPY_FLOAT32:
        _dense_forward[float](x, w, b, has_b, pre, out, code, a)
    else:
        _dense_forward[double](x, w, b, has_b, pre, out, code, a)
    return out


def dense_backward(x, w, dy, dw, db, dx=None, activation="linear", y=None, z=None, alpha=None, dz=None):
    """Dense layer backward: from ``dy`` = dLoss/d(out) writes dw, db and (optionally) dx.

    x: (n, i) the layer input; w: (i, o); dy: (n, o); dw: (i, o) and db: (o,) or None are
    overwritten; dx: (n, i) or None (skip, e.g. for the first layer). With an activation other
    than "linear", ``y`` (the forward output) is required, and ``z`` (the pre-activation) too for
    gelu/swish; the gradient w.r.t. the pre-activation goes to ``dz`` if given, else into ``dy``
    in place. Returns ``dw``.
    """
    fn = "dense_backward"
    x = _as_float_array(fn, "x", x)
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>x)
    w = _as_float_array(fn, "w", w, t)
    dy = _as_float_array(fn, "dy", dy, t)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0] or dy.shape != (x.shape[0], w.shape[1]):
        raise ValueError(f"{fn}: shapes do not fit: x{_shape_str(x)}, w{_shape_str(w)}, dy{_shape_str(dy)} "
                         f"(need x (n, i), w (i, o), dy (n, o))")
    n, i, o = x.shape[0], x.shape[1], w.shape[1]
    dw = _as_output(fn, "dw", dw, t, (i, o))
    cdef bint has_db = db is not None, has_dx = dx is not None
    if has_db:
        db = _as_output(fn, "db", db, t, (o,))
    if has_dx:
        dx = _as_output(fn, "dx", dx, t, (n, i))
    code, a = _act_code(fn, activation, alpha)
    if code != ACT_LINEAR:
        if y is None:
            raise ValueError(f"{fn}: activation {activation!r} needs y (the forward output)")
        y = _as_float_array(fn, "y", y, t)
        if y.shape != (n, o):
            raise ValueError(f"{fn}: y has shape {_shape_str(y)}, expected {(n, o)}")
        if code in _NEEDS_X:
            if z is None:
                raise ValueError(f"{fn}: activation {activation!r} needs z (the pre-activation)")
            z = _as_float_array(fn, "z", z, t)
            if z.shape != (n, o):
                raise ValueError(f"{fn}: z has shape {_shape_str(z)}, expected {(n, o)}")
        else:
            z = y
        if dz is None:
            if not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>dy):
                raise ValueError(f"{fn}: dy is read-only; pass a dz buffer")
            dz = dy
        else:
            dz = _as_output(fn, "dz", dz, t, (n, o))
        if t == cnp.NPY_FLOAT32:
            act_backward_released[float](code, z, y, dy, dz, a, _team(n * o * 4))
        else:
            act_backward_released[double](code, z, y, dy, dz, a, _team(n * o * 4))
    else:
        dz = dy
    if t == cnp.NPY_FLOAT32:
        _dense_backward[float](x, w, dz, dw, db, has_db, dx, has_dx)
    else:
        _dense_backward[double](x, w, dz, dw, db, has_db, dx, has_dx)
    return dw


def matmul(a, b, out):
    """Plain matrix product ``out = a @ b`` through the kernels' BLAS (one GEMM, no bias, no
    activation); returns ``out``. a: (m, k); b: (k, n); out: (m, n), written in place; one dtype
    (float32 or float64). Runs on the calling thread with BLAS threading itself, whatever
    :func:`set_num_threads` says: it is what ``mldsl bench mlp`` times the BLAS with."""
    fn = "matmul"
    a = _as_float_array(fn, "a", a)
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>a)
    b = _as_float_array(fn, "b", b, t)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"{fn}: shapes do not fit: a{_shape_str(a)} @ b{_shape_str(b)} (need a (m, k) and b (k, n))")
    m, k, n = a.shape[0], a.shape[1], b.shape[1]
    out = _as_output(fn, "out", out, t, (m, n))
    if m == 0 or n == 0:
        return out
    if k == 0:
        out[...] = 0
        return out
    if t == cnp.NPY_FLOAT32:
        _matmul[float](a, b, out)
    else:
        _matmul[double](a, b, out)
    return out


cdef void _matmul(floating[:, ::1] a, floating[:, ::1] b, floating[:, ::1] out) noexcept:
    cdef int m = a.shape[0], k = a.shape[1], n = b.shape[1]
    with nogil:
        gemm_rowmajor(False, False, m, n, k, <floating>1.0, &a[0, 0], k, &b[0, 0], n, <floating>0.0, &out[0, 0], n)
