# cython: language_level=3
"""Loss and metric kernels: fused softmax cross-entropy (sparse or one-hot/soft labels; loss and
dlogits in one pass), mean squared error, and the count of correct argmax predictions.
float32/float64, GIL released, no allocation."""
include "_blas.pxi"
include "_math.pxi"
include "_check.pxi"
include "_loss.pxi"


def softmax_cross_entropy(logits, labels, dlogits=None):
    """Mean softmax cross-entropy of ``logits`` (n, C) against ``labels``; returns the loss.

    labels: (n,) integer class indices (sparse) or (n, C) one-hot/probability targets of the
    logits' dtype. If ``dlogits`` (n, C) is given it receives dLoss/dlogits, ``(softmax - target) / n``;
    it may be ``logits`` itself (overwritten in place). Computed from the logits with a
    max-shifted log-sum-exp, so it never overflows.
    """
    fn = "softmax_cross_entropy"
    logits = _as_float_array(fn, "logits", logits)
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>logits)
    if logits.ndim != 2 or logits.shape[1] == 0:
        raise ValueError(f"{fn}: logits must be (n, C) with C >= 1, got shape {_shape_str(logits)}")
    n, m = logits.shape
    cdef bint has_dl = dlogits is not None
    if has_dl:
        dlogits = _as_output(fn, "dlogits", dlogits, t, (n, m))
    cdef Py_ssize_t bad = -1
    cdef double total
    if not cnp.PyArray_Check(labels):
        labels = np.asarray(labels)
    if labels.ndim == 1:
        labels = _as_labels(fn, "labels", labels)
        if labels.shape[0] != n:
            raise ValueError(f"{fn}: labels have shape {_shape_str(labels)} but logits have shape "
                             f"{_shape_str(logits)} (need ({n},))")
        if t == cnp.NPY_FLOAT32:
            total = _sce_sparse[float](logits, labels, dlogits, has_dl, &bad)
        else:
            total = _sce_sparse[double](logits, labels, dlogits, has_dl, &bad)
        if bad >= 0:
            raise ValueError(f"{fn}: label {labels[bad]} at row {bad} is out of range for {m} classes")
    else:
        labels = _as_float_array(fn, "labels", labels, t)
        if labels.shape != logits.shape:
            raise ValueError(f"{fn}: labels have shape {_shape_str(labels)} but logits have shape "
                             f"{_shape_str(logits)} (need ({n},) class indices or ({n}, {m}) targets)")
        if t == cnp.NPY_FLOAT32:
            total = _sce_dense[float](logits, labels, dlogits, has_dl)
        else:
            total = _sce_dense[double](logits, labels, dlogits, has_dl)
    return total / n if n > 0 else 0.0


def mse(pred, target, dpred=None):
    """Mean squared error over all elements of ``pred`` vs ``target`` (same shape); returns it.

    If ``dpred`` is given it receives ``2 * (pred - target) / pred.size`` (may be ``pred``)."""
    fn = "mse"
    pred = _as_float_array(fn, "pred", pred)
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>pred)
    target = _as_float_array(fn, "target", target, t)
    if target.shape != pred.shape:
        raise ValueError(f"{fn}: shapes do not fit: pred{_shape_str(pred)} vs target{_shape_str(target)}")
    cdef bint has_dp = dpred is not None
    if has_dp:
        dpred = _as_2d(_as_output(fn, "dpred", dpred, t, tuple(pred.shape)))
    if pred.size == 0:
        return 0.0
    cdef double total
    if t == cnp.NPY_FLOAT32:
        total = _mse[float](_as_2d(pred), _as_2d(target), dpred, has_dp)
    else:
        total = _mse[double](_as_2d(pred), _as_2d(target), dpred, has_dp)
    return total / pred.size


def count_correct(scores, labels):
    """Number of rows whose argmax of ``scores`` (n, C) equals the label (first index wins ties).

    labels: (n,) class indices or (n, C) one-hot targets (compared by their argmax)."""
    fn = "count_correct"
    scores = _as_float_array(fn, "scores", scores)
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>scores)
    if scores.ndim != 2 or scores.shape[1] == 0:
        raise ValueError(f"{fn}: scores must be (n, C) with C >= 1, got shape {_shape_str(scores)}")
    n = scores.shape[0]
    if not cnp.PyArray_Check(labels):
        labels = np.asarray(labels)
    if labels.ndim == 1:
        labels = _as_labels(fn, "labels", labels)
        if labels.shape[0] != n:
            raise ValueError(f"{fn}: labels have shape {_shape_str(labels)}, scores {_shape_str(scores)}")
        if t == cnp.NPY_FLOAT32:
            return _count_sparse[float](scores, labels)
        return _count_sparse[double](scores, labels)
    labels = _as_float_array(fn, "labels", labels, t)
    if labels.shape != scores.shape:
        raise ValueError(f"{fn}: labels have shape {_shape_str(labels)}, scores {_shape_str(scores)}")
    if t == cnp.NPY_FLOAT32:
        return _count_dense[float](scores, labels)
    return _count_dense[double](scores, labels)
