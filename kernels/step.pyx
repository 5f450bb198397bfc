# cython: language_level=3
# distutils: extra_compile_args = -fopenmp -fno-math-errno
# distutils: extra_link_args = -fopenmp
"""The compiled training step of a stack of Dense layers (:class:`DenseTrainStep`).

One call runs a whole optimizer step: gather the batch, forward through every layer, the loss (softmax
fused with cross-entropy), the L2 penalty, and backward with each layer's weights updated as soon as
its gradient is complete. It calls the same cores as the single kernels (``_dense.pxi``, ``_act.pxi``,
``_loss.pxi``, ``_optim.pxi``, ...), from C, so a step pays no Python call, argument check or buffer
lookup per kernel. On a thread team each layer's backward pass is two parallel regions: dX (needs the
old weights) with the bias gradient, then each thread's block of dW rows, their L2 term and their
optimizer update while they are still in that thread's cache (with the own sgemm, float32: each 12-row
strip of dW as soon as it is computed, while it is in L1). Splits depend only on the sizes and the
team size, so results do not depend on timing.
"""
include "_blas.pxi"
include "_math.pxi"
include "_par.pxi"
include "_check.pxi"
include "_act.pxi"
include "_dense.pxi"
include "_loss.pxi"
include "_penalty.pxi"
include "_gather.pxi"
include "_optim.pxi"

cdef enum:
    # The codes of mldsl.kernels.catalogue.LOSSES (tests/kernels/test_catalogue.py checks they match).
    LOSS_SPARSE_CE = 0
    LOSS_CE = 1
    LOSS_MSE = 2


cdef class _Layer:
    """One Dense layer's buffers as typed views (those of the step's dtype are set)."""
    cdef float[:, ::1] W_f, dW_f, out_f, z_f, g_f
    cdef float[::1] b_f, db_f
    cdef double[:, ::1] W_d, dW_d, out_d, z_d, g_d
    cdef double[::1] b_d, db_d
    cdef Py_ssize_t i, o, w_off, b_off
    cdef int act
    cdef bint has_b, has_z
    cdef double alpha, l1, l2


cdef inline object params_dtype(int t):
    return np.float32 if t == cnp.NPY_FLOAT32 else np.float64


cdef Py_ssize_t _offset_in(object whole, object part, str what, str name) except -2:
    """Element offset of the contiguous array ``part`` inside the flat buffer ``whole``."""
    cdef Py_ssize_t item = whole.itemsize
    cdef Py_ssize_t off = (part.__array_interface__["data"][0] - whole.__array_interface__["data"][0])
    if off % item or not 0 <= off // item <= whole.size - part.size or not part.flags.c_contiguous:
        raise ValueError(f"DenseTrainStep: {name} must be a contiguous view into {what}")
    return off // item


cdef class DenseTrainStep:
    """A whole training step for a stack of Dense layers, compiled: build once, then :meth:`run` per batch.

    layers: one dict per Dense layer, in order, with ``W`` (i, o) and ``dW`` (views into ``params`` and
    ``grads`` at the same offset), ``b``/``db`` ((o,) views, or None for no bias), ``activation`` and
    ``alpha`` (as for :func:`dense_forward`), ``l1`` and ``l2`` (the factors of the kernel's penalty,
``mldsl.kernels.catalogue.PENALTY``; 0 or absent for none), and the
    per-layer buffers ``out`` (capacity, o), ``grad`` (capacity, o) and ``z`` ((capacity, o) for
    gelu/gelu_tanh/swish, else None).
    loss: a name of ``mldsl.kernels.catalogue.LOSSES``: "sparse_categorical_crossentropy" /
    "categorical_crossentropy" (softmax cross-entropy taking the last layer's outputs as logits, whatever
    its activation) or "mse".
    optimizer: an optimizer spec, any object with ``name`` and ``hyper`` such as the native plan's
    ``OptimizerSpec``; its update rule and state buffers are those :mod:`mldsl.kernels.catalogue` gives
    (``update_of``, ``state_buffers``).
    xbuf: (capacity, features); ybuf: (capacity,) int64 labels or (capacity, C) targets.
    count_hits: whether :meth:`run` counts correct predictions (the argmax of the outputs against the label
    or the argmax of the target row; with mse and one output, exact matches).
    states: the optimizer's state buffers (shaped like ``params``, in the catalogue's order), to share them
    with another user of the same parameters; None (default) allocates them, initialised as the catalogue
    says. :attr:`states` holds them.
    """
    cdef list layers
    cdef int loss, dtype_num
    cdef bint f32, count_hits
    cdef OptHyper hyper
    cdef object params, grads, xbuf, ybuf
    cdef readonly list states
    cdef float[::1] s0_f, s1_f
    cdef double[::1] s0_d, s1_d
    cdef bint has_s0, has_s1
    cdef Py_ssize_t capacity, n_features, n_out
    cdef int64_t[::1] yb_i
    cdef float[:, ::1] yb_f
    cdef double[:, ::1] yb_d

    def __init__(self, layers, loss, optimizer, params, grads, xbuf, ybuf, count_hits=True, states=None):
        fn = "DenseTrainStep"
        if not layers:
            raise ValueError(f"{fn}: needs at least one Dense layer")
        found = _catalogue.LOSSES.get(loss)
        if found is None:
            raise ValueError(f"{fn}: unknown loss {loss!r}; known: {', '.join(sorted(_catalogue.LOSSES))}")
        cdef int code = found.code
        self.loss = code
        params = _as_float_array(fn, "params", params)
        cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>params)
        self.dtype_num = t
        self.f32 = t == cnp.NPY_FLOAT32
        if params.ndim != 1:
            raise ValueError(f"{fn}: params must be flat (1-D), got shape {_shape_str(params)}")
        self.params = params
        self.grads = grads = _as_output(fn, "grads", grads, t, tuple(params.shape))
        self.xbuf = xbuf = _as_output(fn, "xbuf", xbuf, t, tuple(xbuf.shape))
        if xbuf.ndim != 2:
            raise ValueError(f"{fn}: xbuf must be (capacity, features), got shape {_shape_str(xbuf)}")
        self.capacity, self.n_features = xbuf.shape[0], xbuf.shape[1]
        self.layers = []
        fan_in = self.n_features
        for k, spec in enumerate(layers):
            self.layers.append(self._layer(k, spec, fan_in, t))
            fan_in = (<_Layer>self.layers[len(self.layers) - 1]).o
        self.n_out = fan_in
        if code == LOSS_SPARSE_CE:
            self.ybuf = self.yb_i = _as_output(fn, "ybuf", ybuf, cnp.NPY_INT64, (self.capacity,))
        elif t == cnp.NPY_FLOAT32:
            self.ybuf = self.yb_f = _as_output(fn, "ybuf", ybuf, t, (self.capacity, self.n_out))
        else:
            self.ybuf = self.yb_d = _as_output(fn, "ybuf", ybuf, t, (self.capacity, self.n_out))
        self.count_hits = bool(count_hits)
        self._optimizer(optimizer, states, t)

    cdef _Layer _layer(self, int k, dict spec, Py_ssize_t fan_in, int t):
        fn = "DenseTrainStep"
        cdef _Layer L = _Layer()
        name = f"layer {k}"
        W = _as_output(fn, f"{name} W", spec["W"], t, tuple(spec["W"].shape))
        if W.ndim != 2 or W.shape[0] != fan_in:
            raise ValueError(f"{fn}: {name} W has shape {_shape_str(W)}; its input has {fan_in} features")
        L.i, L.o = W.shape[0], W.shape[1]
        shape = (L.i, L.o)
        dW = _as_output(fn, f"{name} dW", spec["dW"], t, shape)
        L.w_off = _offset_in(self.params, W, "params", f"{name} W")
        if _offset_in(self.grads, dW, "grads", f"{name} dW") != L.w_off:
            raise ValueError(f"{fn}: {name} dW must sit at the same offset in grads as W in params")
        L.has_b = spec.get("b") is not None
        b = db = np.empty(0, params_dtype(t))      # no bias: empty views, never read (has_b is false)
        if L.has_b:
            b = _as_output(fn, f"{name} b", spec["b"], t, (L.o,))
            db = _as_output(fn, f"{name} db", spec["db"], t, (L.o,))
            L.b_off = _offset_in(self.params, b, "params", f"{name} b")
            if _offset_in(self.grads, db, "grads", f"{name} db") != L.b_off:
                raise ValueError(f"{fn}: {name} db must sit at the same offset in grads as b in params")
        code, alpha = _act_code(fn, spec.get("activation"), spec.get("alpha"))
        L.act, L.alpha = code, alpha
        L.l1 = float(spec.get("l1") or 0.0)
        L.l2 = float(spec.get("l2") or 0.0)
        rows = (self.capacity, L.o)
        out = _as_output(fn, f"{name} out", spec["out"], t, rows)
        g = _as_output(fn, f"{name} grad", spec["grad"], t, rows)
        L.has_z = code in _NEEDS_X
        z = None
        if L.has_z:
            if spec.get("z") is None:
                raise ValueError(f"{fn}: {name}'s activation {spec.get('activation')!r} needs a z buffer")
            z = _as_output(fn, f"{name} z", spec["z"], t, rows)
        if not L.has_z:
            z = out                                  # never read as z (has_z is false)
        if t == cnp.NPY_FLOAT32:
            L.W_f, L.dW_f, L.out_f, L.g_f, L.b_f, L.db_f, L.z_f = W, dW, out, g, b, db, z
        else:
            L.W_d, L.dW_d, L.out_d, L.g_d, L.b_d, L.db_d, L.z_d = W, dW, out, g, b, db, z
        return L

    cdef _optimizer(self, object optimizer, object states, int t):
        fn = "DenseTrainStep"
        try:
            rule = _catalogue.update_of(optimizer)
            buffers = _catalogue.state_buffers(optimizer)
        except (ValueError, AttributeError, KeyError) as exc:
            raise ValueError(f"{fn}: optimizer must be an optimizer spec (name and hyper of "
                             f"mldsl.kernels.catalogue.OPTIMIZERS): {exc}") from None
        self.hyper = opt_hyper(fn, rule, optimizer.hyper, 1)
        shape = tuple(self.params.shape)
        if states is None:
            states = [np.full(shape, init, params_dtype(t)) for _, init in buffers]
        states = list(states)
        if len(states) != len(buffers):
            raise ValueError(f"{fn}: the {rule.name} update needs {len(buffers)} state buffer(s) "
                             f"({', '.join(n for n, _ in buffers) or 'none'}), got {len(states)}")
        states = [_as_output(fn, f"state {name}", s, t, shape) for (name, _), s in zip(buffers, states)]
        self.has_s0, self.has_s1 = len(states) > 0, len(states) > 1
        if t == cnp.NPY_FLOAT32:
            if self.has_s0:
                self.s0_f = states[0]
            if self.has_s1:
                self.s1_f = states[1]
        else:
            if self.has_s0:
                self.s0_d = states[0]
            if self.has_s1:
                self.s1_d = states[1]
        self.states = states

    def run(self, x, y, indices, long iteration=1, bint update=True):
        """One step on the rows ``indices`` of ``x`` (N, features) and ``y`` (N,) labels or (N, C) targets:
        fills the gradients and, with ``update``, applies the optimizer (``iteration``: the 1-based step
        count, for Adam's bias correction). Returns ``(loss, hits)``: the batch's mean loss plus the L2
        penalty (taken before the update) and the number of correct predictions (0.0 without count_hits)."""
        fn = "DenseTrainStep.run"
        indices = _as_labels(fn, "indices", indices)
        cdef Py_ssize_t n = indices.shape[0] if indices.ndim == 1 else -1
        if not 0 < n <= self.capacity:
            raise ValueError(f"{fn}: indices must be 1-D with 1..{self.capacity} entries, got shape "
                             f"{_shape_str(indices)}")
        if update and iteration < 1:
            raise ValueError(f"{fn}: iteration is 1-based, got {iteration}")
        x = _as_float_array(fn, "x", x, self.dtype_num)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"{fn}: x has shape {_shape_str(x)}, expected (N, {self.n_features})")
        if not cnp.PyArray_Check(y):
            y = np.asarray(y)
        if self.loss == LOSS_SPARSE_CE:
            y = _as_labels(fn, "y", y)
            if y.shape != (x.shape[0],):
                raise ValueError(f"{fn}: y has shape {_shape_str(y)}, expected ({x.shape[0]},) labels")
        else:
            y = _as_float_array(fn, "y", y, self.dtype_num)
            if y.shape != (x.shape[0], self.n_out):
                raise ValueError(f"{fn}: y has shape {_shape_str(y)}, expected ({x.shape[0]}, {self.n_out})")
        if self.f32:
            return self._run_f(x, y, indices, iteration, update)
        return self._run_d(x, y, indices, iteration, update)

    cdef tuple _run_f(self, float[:, ::1] x, object y, const int64_t[::1] idx, long iteration, bint update):
        return self._step(x, y, idx, iteration, update)

    cdef tuple _run_d(self, double[:, ::1] x, object y, const int64_t[::1] idx, long iteration, bint update):
        return self._step(x, y, idx, iteration, update)

    cdef tuple _step(self, floating[:, ::1] x, object y, const int64_t[::1] idx, long iteration, bint update):
        fn = "DenseTrainStep.run"
        cdef Py_ssize_t n = idx.shape[0], bad, nl = len(self.layers), k
        cdef floating[:, ::1] xb = self.xbuf[:n]
        cdef floating[:, ::1] h, W, dW, out, pre, g, prev_g, yt, ysrc
        cdef floating[::1] b, db, wflat
        cdef floating *s0 = NULL
        cdef floating *s1 = NULL
        cdef _Layer L, P
        cdef double total, penalty = 0, hits = 0, alpha
        cdef OptHyper hyp = self.hyper
        cdef const int64_t[::1] labels
        if self.loss == LOSS_SPARSE_CE:
            labels = self.yb_i[:n]
        elif floating is float:
            yt = self.yb_f[:n]
        else:
            yt = self.yb_d[:n]
        bad = _gather(x, idx, xb)
        if bad < 0:
            if self.loss == LOSS_SPARSE_CE:
                bad = _gather_int(y, idx, self.yb_i[:n])
            else:
                ysrc = y
                bad = _gather(ysrc, idx, yt)
        if bad >= 0:
            raise ValueError(f"{fn}: index {idx[bad]} at position {bad} is out of range for {x.shape[0]} rows")

        h = xb
        for k in range(nl):                                   # forward
            L = <_Layer>self.layers[k]
            if floating is float:
                W, out, b = L.W_f, L.out_f[:n], L.b_f
                pre = L.z_f[:n] if L.has_z else out
            else:
                W, out, b = L.W_d, L.out_d[:n], L.b_d
                pre = L.z_d[:n] if L.has_z else out
            _dense_forward(h, W, b, L.has_b, pre, out, L.act, <floating>L.alpha)
            h = out

        if floating is float:                                 # loss, its gradient and the hits
            g = L.g_f[:n]
        else:
            g = L.g_d[:n]
        if self.loss == LOSS_SPARSE_CE:
            bad = -1
            total = _sce_sparse(h, labels, g, True, &bad) / n
            if bad >= 0:
                raise ValueError(f"{fn}: label {labels[bad]} at batch position {bad} is out of range for "
                                 f"{self.n_out} classes")
            if self.count_hits:
                hits = _count_sparse(h, labels)
        elif self.loss == LOSS_CE:
            total = _sce_dense(h, yt, g, True) / n
            if self.count_hits:
                hits = _count_dense(h, yt)
        else:
            total = _mse(h, yt, g, True) / (n * self.n_out)
            if self.count_hits:
                hits = _exact_matches(h, yt) if self.n_out == 1 else _count_dense(h, yt)
        for k in range(nl):                                   # the weight penalties, before any update
            L = <_Layer>self.layers[k]
            if L.l2 or L.l1:
                wflat = self.params[L.w_off:L.w_off + L.i * L.o]
            if L.l2:
                penalty += L.l2 * _l2_penalty(wflat)
            if L.l1:
                penalty += L.l1 * _l1_penalty(wflat)

        if update and hyp.kind == OPT_ADAM:
            adam_at(&hyp, iteration)
        if floating is float:
            if self.has_s0:
                s0 = &self.s0_f[0]
            if self.has_s1:
                s1 = &self.s1_f[0]
        else:
            if self.has_s0:
                s0 = &self.s0_d[0]
            if self.has_s1:
                s1 = &self.s1_d[0]
        cdef floating[:, ::1] ppre, pout
        cdef int pact = ACT_LINEAR
        cdef bint fused_act = False          # whether layer k's activation gradient is already in g
        for k in range(nl - 1, -1, -1):                       # backward, each layer updated right after
            L = <_Layer>self.layers[k]
            if floating is float:
                W, dW, out, g, b, db = L.W_f, L.dW_f, L.out_f[:n], L.g_f[:n], L.b_f, L.db_f
                pre = L.z_f[:n] if L.has_z else out
            else:
                W, dW, out, g, b, db = L.W_d, L.dW_d, L.out_d[:n], L.g_d[:n], L.b_d, L.db_d
                pre = L.z_d[:n] if L.has_z else out
            if L.act != ACT_LINEAR and not fused_act:
                act_backward_released(L.act, pre, out, g, g, <floating>L.alpha, _team(n * L.o * 4))
            pact = ACT_LINEAR
            if k > 0:
                P = <_Layer>self.layers[k - 1]
                if floating is float:
                    h, prev_g = P.out_f[:n], P.g_f[:n]
                    ppre = P.z_f[:n] if P.has_z else h
                else:
                    h, prev_g = P.out_d[:n], P.g_d[:n]
                    ppre = P.z_d[:n] if P.has_z else h
                if P.act != ACT_SOFTMAX:         # elementwise: applied to each thread's dX columns
                    pact = P.act
                alpha = P.alpha
            else:
                h, prev_g, ppre = xb, g, g                    # no dX for the first layer
                alpha = 0
            _backward_update(h, W, g, dW, b, db, L.has_b, prev_g, k > 0, pact, ppre, <floating>alpha,
                             <floating>(2.0 * L.l2), L.l2 != 0, <floating>L.l1, L.l1 != 0, &hyp, update, s0, s1,
                             L.w_off, L.b_off)
            fused_act = pact != ACT_LINEAR
        return total + penalty, hits


cdef double _exact_matches(floating[:, ::1] out, floating[:, ::1] tg) noexcept:
    """Sum over rows of the fraction of outputs equal to the target (Keras' Accuracy on a one-output mse
    model)."""
    cdef Py_ssize_t n = out.shape[0], m = out.shape[1], r, c, same
    cdef double total = 0
    for r in range(n):
        same = 0
        for c in range(m):
            if out[r, c] == tg[r, c]:
                same += 1
        total += <double>same / m
    return total


cdef struct _WTile:
    # What the own sgemm's per-tile epilogue needs to finish a block of a float32 weight gradient.
    float* w
    float* dw
    float* s0
    float* s1
    Py_ssize_t ld
    float l2x2
    bint has_l2
    float l1
    bint has_l1
    bint update
    OptHyper* hyp


cdef inline void _finish_grad(floating* wp, floating* gp, floating* s0, floating* s1, Py_ssize_t cnt,
                              floating l2x2, bint has_l2, floating l1, bint has_l1, OptHyper* hyp,
                              bint update) noexcept nogil:
    """``cnt`` contiguous weights' gradient finished: its L2 term, its L1 term, then (with ``update``) the
    optimizer (``s0``/``s1``: the state buffers at the same position, or NULL)."""
    cdef Py_ssize_t k
    if has_l2:
        for k in range(cnt):
            gp[k] += l2x2 * wp[k]
    if has_l1:
        for k in range(cnt):
            gp[k] += l1 * _sign(wp[k])
    if update:
        opt_core(hyp, wp, gp, s0, s1, cnt)


cdef void _wtile_epilogue(void* ctx, int row0, int rows, int col0, int cols) noexcept nogil:
    """A finished strip of dW: :func:`_finish_grad` on each of its rows, while the strip is still in L1."""
    cdef _WTile* t = <_WTile*>ctx
    cdef Py_ssize_t r, off
    for r in range(row0, row0 + rows):
        off = r * t.ld + col0
        _finish_grad(t.w + off, t.dw + off, t.s0 + off if t.s0 != NULL else NULL,
                     t.s1 + off if t.s1 != NULL else NULL, cols, t.l2x2, t.has_l2, t.l1, t.has_l1, t.hyp,
                     t.update)


cdef inline void _wgrad_update(floating[:, ::1] x, floating[:, ::1] w, floating[:, ::1] dz, floating[:, ::1] dw,
                               Py_ssize_t lo, Py_ssize_t hi, floating l2x2, bint has_l2, floating l1,
                               bint has_l1, OptHyper* hyp, bint update, floating* s0, floating* s1,
                               Py_ssize_t w_off) noexcept nogil:
    """Rows [lo, hi) of dW = x^T dz, plus their penalty terms, then (with ``update``) the optimizer on those rows.
    With the own sgemm (float32), both run on each strip of dW as soon as it is computed."""
    cdef Py_ssize_t n = x.shape[0], i = x.shape[1], o = w.shape[1]
    cdef floating* wp = &w[0, 0] + lo * o
    cdef floating* gp = &dw[0, 0] + lo * o
    cdef Py_ssize_t off = w_off + lo * o
    cdef _WTile tile
    if hi <= lo:
        return
    if floating is float:
        if own_sgemm_takes(<int>(hi - lo), <int>n, 1.0, 0.0):
            tile.w, tile.dw, tile.ld, tile.hyp = wp, gp, o, hyp
            tile.s0 = s0 + off if s0 != NULL else NULL
            tile.s1 = s1 + off if s1 != NULL else NULL
            tile.l2x2, tile.has_l2, tile.l1, tile.has_l1, tile.update = l2x2, has_l2, l1, has_l1, update
            mldsl_sgemm_ep(True, False, <int>(hi - lo), <int>o, <int>n, &x[0, lo], <int>i, &dz[0, 0], <int>o,
                           False, gp, <int>o, _wtile_epilogue, &tile)
            return
    gemm_rowmajor(True, False, <int>(hi - lo), <int>o, <int>n, <floating>1.0, &x[0, lo], <int>i,
                  &dz[0, 0], <int>o, <floating>0.0, gp, <int>o)
    _finish_grad(wp, gp, s0 + off if s0 != NULL else NULL, s1 + off if s1 != NULL else NULL, (hi - lo) * o,
                 l2x2, has_l2, l1, has_l1, hyp, update)


cdef inline void _bias_update(floating* bp, floating* dbp, Py_ssize_t lo, Py_ssize_t hi, OptHyper* hyp,
                              floating* s0, floating* s1, Py_ssize_t b_off) noexcept nogil:
    cdef Py_ssize_t off = b_off + lo
    if hi > lo:
        opt_core(hyp, bp + lo, dbp + lo, s0 + off if s0 != NULL else NULL, s1 + off if s1 != NULL else NULL,
                 hi - lo)


cdef void _backward_update(floating[:, ::1] x, floating[:, ::1] w, floating[:, ::1] dz, floating[:, ::1] dw,
                           floating[::1] b, floating[::1] db, bint has_b, floating[:, ::1] dx, bint has_dx,
                           int xact, floating[:, ::1] xpre, floating xalpha,
                           floating l2x2, bint has_l2, floating l1, bint has_l1, OptHyper* hyp, bint update,
                           floating* s0, floating* s1, Py_ssize_t w_off, Py_ssize_t b_off) noexcept:
    """A Dense layer's backward pass from dz (the gradient at its pre-activation) and its update.

    First dX (it needs the old weights), columns split, each thread then applying the previous layer's
    elementwise activation gradient ``xact`` to its columns (``x`` is that layer's output, ``xpre`` its
    pre-activation); then db by columns and dW by blocks of rows, each block's penalty terms and optimizer
    update done by the thread that computed it."""
    cdef Py_ssize_t n = x.shape[0], i = x.shape[1], o = w.shape[1], lo, hi
    cdef int nt = _team(n * i * o), t
    cdef floating* bp = &b[0] if has_b else NULL
    cdef floating* dbp = &db[0] if has_b else NULL
    cdef unsigned int csr = 0
    with nogil:
        if nt <= 1:
            csr = _ftz_on()
            if has_dx:
                gemm_rowmajor(False, True, <int>n, <int>i, <int>o, <floating>1.0, &dz[0, 0], <int>o,
                              &w[0, 0], <int>o, <floating>0.0, &dx[0, 0], <int>i)
                if xact != ACT_LINEAR:
                    act_backward(xact, xpre, x, dx, dx, xalpha)
            if has_b:
                _colsum(dz, db, 0, o)
            _wgrad_update(x, w, dz, dw, 0, i, l2x2, has_l2, l1, has_l1, hyp, update, s0, s1, w_off)
            if has_b and update:
                _bias_update(bp, dbp, 0, o, hyp, s0, s1, b_off)
            _csr_restore(csr)
            return
        t = 0
        lo = hi = 0
        if has_dx:
            with parallel(num_threads=nt):
                csr = _ftz_on()
                t = threadid()
                lo = _chunk_lo(t, nt, i, 16)
                hi = _chunk_hi(t, nt, i, 16)
                if hi > lo:
                    gemm_rowmajor(False, True, <int>n, <int>(hi - lo), <int>o, <floating>1.0, &dz[0, 0], <int>o,
                                  &w[lo, 0], <int>o, <floating>0.0, &dx[0, lo], <int>i)
                    if xact != ACT_LINEAR:
                        act_backward(xact, xpre[:, lo:hi], x[:, lo:hi], dx[:, lo:hi], dx[:, lo:hi], xalpha)
                _csr_restore(csr)
        with parallel(num_threads=nt):
            csr = _ftz_on()
            t = threadid()
            if has_b:
                lo = _chunk_lo(t, nt, o, 16)
                hi = _chunk_hi(t, nt, o, 16)
                if hi > lo:
                    _colsum(dz, db, lo, hi)
                    if update:
                        _bias_update(bp, dbp, lo, hi, hyp, s0, s1, b_off)
            lo = _chunk_lo(t, nt, i, 16)
            hi = _chunk_hi(t, nt, i, 16)
            _wgrad_update(x, w, dz, dw, lo, hi, l2x2, has_l2, l1, has_l1, hyp, update, s0, s1, w_off)
            _csr_restore(csr)
