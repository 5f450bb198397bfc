# cython: language_level=3
"""Dense layer kernels: ``out = f(x @ w + b)`` through BLAS GEMM with the bias and the activation
fused, and its backward pass (dW, db, dX). float32/float64, GIL released, no allocation."""
include "_blas.pxi"
include "_math.pxi"
include "_check.pxi"
include "_act.pxi"


cdef void _dense_forward(floating[:, ::1] x, floating[:, ::1] w, floating[::1] b, bint has_b,
                         floating[:, ::1] pre, floating[:, ::1] out, int code, floating alpha) noexcept:
    cdef Py_ssize_t n = x.shape[0], i = x.shape[1], o = w.shape[1], r, c
    with nogil:
        if n == 0 or o == 0:
            return
        for r in range(n):
            if has_b:
                for c in range(o):
                    pre[r, c] = b[c]
            else:
                for c in range(o):
                    pre[r, c] = 0
        if i > 0:
            gemm_rowmajor(False, False, <int>n, <int>o, <int>i, <floating>1.0, &x[0, 0], <int>i,
                          &w[0, 0], <int>o, <floating>1.0, &pre[0, 0], <int>o)
        if code != ACT_LINEAR or &pre[0, 0] != &out[0, 0]:
            act_forward(code, pre, out, alpha)


cdef void _dense_backward(floating[:, ::1] x, floating[:, ::1] w, floating[:, ::1] dz,
                          floating[:, ::1] dw, floating[::1] db, bint has_db,
                          floating[:, ::1] dx, bint has_dx) noexcept:
    cdef Py_ssize_t n = x.shape[0], i = x.shape[1], o = w.shape[1], r, c
    with nogil:
        if i > 0 and o > 0:
            if n > 0:
                gemm_rowmajor(True, False, <int>i, <int>o, <int>n, <floating>1.0, &x[0, 0], <int>i,
                              &dz[0, 0], <int>o, <floating>0.0, &dw[0, 0], <int>o)
            else:
                for r in range(i):
                    for c in range(o):
                        dw[r, c] = 0
        if has_db:
            for c in range(o):
                db[c] = 0
            for r in range(n):
                for c in range(o):
                    db[c] += dz[r, c]
        if has_dx and n > 0 and i > 0:
            if o > 0:
                gemm_rowmajor(False, True, <int>n, <int>i, <int>o, <floating>1.0, &dz[0, 0], <int>o,
                              &w[0, 0], <int>o, <floating>0.0, &dx[0, 0], <int>i)
            else:
                for r in range(n):
                    for c in range(i):
                        dx[r, c] = 0


def dense_forward(x, w, b, out, activation="linear", z=None, alpha=None):
    """Dense layer forward: writes ``out = activation(x @ w + b)`` and returns ``out``.

    x: (n, i); w: (i, o); b: (o,) or None (no bias); out: (n, o), written in place.
    activation: one of ``ACTIVATIONS`` (softmax is row-wise); alpha: slope of leaky_relu
    (default 0.2) / alpha of elu (default 1.0). z: optional (n, o) buffer that receives the
    pre-activation ``x @ w + b`` (needed by :func:`dense_backward` for gelu and swish).
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
            act_backward_released[float](code, z, y, dy, dz, a)
        else:
            act_backward_released[double](code, z, y, dy, dz, a)
    else:
        dz = dy
    if t == cnp.NPY_FLOAT32:
        _dense_backward[float](x, w, dz, dw, db, has_db, dx, has_dx)
    else:
        _dense_backward[double](x, w, dz, dw, db, has_db, dx, has_dx)
    return dw
