# Argument validation shared by the Python-visible kernel wrappers (textually included).
# Inputs: any float32/float64 array; a non-contiguous one is copied to C order. Outputs: must be
# writeable, C-contiguous arrays of the exact shape and dtype (a kernel cannot write into a copy).
# Every failure is a ValueError that names the kernel, the argument and the shapes/dtypes involved.
import numpy as np
cimport numpy as cnp

cnp.import_array()


cdef inline str _shape_str(object a):
    return str(tuple(a.shape))


cdef inline object _as_float_array(str fn, str name, object a, int typenum=-1):
    """A C-contiguous float array (copied if needed); ``typenum`` (-1: float32 or float64)."""
    if not cnp.PyArray_Check(a):
        if a is None:
            raise ValueError(f"{fn}: {name} is required (got None)")
        a = np.asarray(a)
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>a)
    if typenum < 0:
        if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
            raise ValueError(f"{fn}: {name} must be float32 or float64, got {a.dtype}")
    elif t != typenum:
        raise ValueError(f"{fn}: {name} has dtype {a.dtype} but the kernel works in "
                         f"{np.dtype(cnp.PyArray_TypeObjectFromType(typenum)).name} (the dtype of the first array)")
    if not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a):
        a = np.ascontiguousarray(a)
    return a


cdef inline object _as_output(str fn, str name, object a, int typenum, tuple shape):
    """Validates an output buffer: an ndarray of ``shape`` and dtype, C-contiguous and writeable."""
    if not cnp.PyArray_Check(a):
        raise ValueError(f"{fn}: output {name} must be a numpy array, got {type(a).__name__}")
    if cnp.PyArray_TYPE(<cnp.ndarray>a) != typenum:
        raise ValueError(f"{fn}: output {name} has dtype {a.dtype}, expected "
                         f"{np.dtype(cnp.PyArray_TypeObjectFromType(typenum)).name}")
    if tuple(a.shape) != shape:
        raise ValueError(f"{fn}: output {name} has shape {_shape_str(a)}, expected {shape}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a):
        raise ValueError(f"{fn}: output {name} must be C-contiguous (it is written in place); "
                         f"pass np.ascontiguousarray(...) or a fresh np.empty buffer")
    if not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a):
        raise ValueError(f"{fn}: output {name} is read-only")
    return a


cdef inline object _as_labels(str fn, str name, object a):
    """Integer class labels as a C-contiguous int64 array (converted/copied if needed)."""
    if not cnp.PyArray_Check(a):
        a = np.asarray(a)
    if cnp.PyArray_TYPE(<cnp.ndarray>a) != cnp.NPY_INT64 or not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a):
        if a.dtype.kind not in "iu":
            raise ValueError(f"{fn}: {name} must be integer class indices, got dtype {a.dtype}")
        a = np.ascontiguousarray(a, dtype=np.int64)
    return a


cdef inline bint _is_f32(object a):
    return cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.NPY_FLOAT32


cdef inline object _as_2d(object a):
    """A view of ``a`` as 2-D: leading axes collapsed, last axis kept ((n,) -> (1, n))."""
    if a.ndim == 2:
        return a
    if a.ndim == 0:
        return a.reshape(1, 1)
    return a.reshape(-1, a.shape[a.ndim - 1]) if a.size else a.reshape(0, 0)
