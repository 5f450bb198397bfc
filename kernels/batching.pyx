# cython: language_level=3
# distutils: extra_compile_args = -fopenmp
# distutils: extra_link_args = -fopenmp
"""Batch assembly: gather rows of a dataset into a preallocated batch buffer (a shuffled
mini-batch without allocating). GIL released."""
include "_blas.pxi"
include "_math.pxi"
include "_par.pxi"
include "_check.pxi"
include "_gather.pxi"


def gather_rows(src, indices, out):
    """``out[r] = src[indices[r]]`` for a 2-D float ``src`` (N, F) or a 1-D int64 ``src`` (N,).

    indices: (n,) int64 row numbers in [0, N); out: (n, F) / (n,). Returns ``out``."""
    fn = "gather_rows"
    indices = _as_labels(fn, "indices", indices)
    if indices.ndim != 1:
        raise ValueError(f"{fn}: indices must be 1-D, got shape {_shape_str(indices)}")
    n = indices.shape[0]
    cdef Py_ssize_t bad
    if not cnp.PyArray_Check(src):
        src = np.asarray(src)
    if src.ndim == 1 and src.dtype.kind in "iu":
        src = _as_labels(fn, "src", src)
        out = _as_output(fn, "out", out, cnp.NPY_INT64, (n,))
        bad = _gather_int(src, indices, out)
    else:
        src = _as_float_array(fn, "src", src)
        if src.ndim != 2:
            raise ValueError(f"{fn}: src must be 2-D (N, F) floats or 1-D integers, got shape {_shape_str(src)}")
        t = cnp.PyArray_TYPE(<cnp.ndarray>src)
        out = _as_output(fn, "out", out, t, (n, src.shape[1]))
        if t == cnp.NPY_FLOAT32:
            bad = _gather[float](src, indices, out)
        else:
            bad = _gather[double](src, indices, out)
    if bad >= 0:
        raise ValueError(f"{fn}: index {indices[bad]} at position {bad} is out of range for {src.shape[0]} rows")
    return out
