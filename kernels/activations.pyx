# cython: language_level=3
# distutils: extra_compile_args = -fopenmp
# distutils: extra_link_args = -fopenmp
"""Activation kernels, forward and backward, for every activation of :mod:`mldsl.kernels.catalogue`
(linear, relu, leaky_relu, elu, sigmoid, tanh, softmax along the last axis, gelu, gelu_tanh, swish, selu,
softplus). float32/float64, GIL released, no allocation.

Every activation has ``<name>_forward(x, out[, alpha])`` and ``<name>_backward(x, y, dy, dx[, alpha])``
(``y`` the forward output, ``dx`` may be ``dy``), plus the generic ``activation_forward`` and
``activation_backward`` that take the name.
"""
include "_blas.pxi"
include "_math.pxi"
include "_par.pxi"
include "_check.pxi"
include "_act.pxi"


def activation_forward(activation, x, out, alpha=None):
    """Writes ``activation(x)`` into ``out`` (same shape; may be ``x``) and returns ``out``."""
    fn = f"{activation}_forward" if isinstance(activation, str) else "activation_forward"
    code, a = _act_code(fn, activation, alpha)
    x = _as_float_array(fn, "x", x)
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>x)
    out = _as_output(fn, "out", out, t, tuple(x.shape))
    if x.size == 0:
        return out
    x2, o2 = _as_2d(x), _as_2d(out)
    if t == cnp.NPY_FLOAT32:
        act_forward_released[float](code, x2, o2, a, _team(x.size * 4))
    else:
        act_forward_released[double](code, x2, o2, a, _team(x.size * 4))
    return out


def activation_backward(activation, x, y, dy, dx, alpha=None):
    """Writes ``dy * activation'(x)`` into ``dx`` (may be ``dy``) and returns ``dx``.

    ``y`` is the forward output; ``x`` (the input) is needed by the activations whose catalogue entry
    says ``needs_x`` (gelu, gelu_tanh, swish) and may be None for the others."""
    fn = f"{activation}_backward" if isinstance(activation, str) else "activation_backward"
    code, a = _act_code(fn, activation, alpha)
    dy = _as_float_array(fn, "dy", dy)
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>dy)
    shape = tuple(dy.shape)
    if code != ACT_LINEAR:
        y = _as_float_array(fn, "y", y, t)
        if tuple(y.shape) != shape:
            raise ValueError(f"{fn}: y has shape {_shape_str(y)} but dy has shape {shape}")
    else:
        y = dy
    if code in _NEEDS_X:
        x = _as_float_array(fn, "x", x, t)
        if tuple(x.shape) != shape:
            raise ValueError(f"{fn}: x has shape {_shape_str(x)} but dy has shape {shape}")
    else:
        x = y
    dx = _as_output(fn, "dx", dx, t, shape)
    if dy.size == 0:
        return dx
    x2, y2, dy2, dx2 = _as_2d(x), _as_2d(y), _as_2d(dy), _as_2d(dx)
    if t == cnp.NPY_FLOAT32:
        act_backward_released[float](code, x2, y2, dy2, dx2, a, _team(dy.size * 4))
    else:
        act_backward_released[double](code, x2, y2, dy2, dx2, a, _team(dy.size * 4))
    return dx


# relu_forward, relu_backward, ... for every activation of the catalogue (with ``alpha=`` where it has one)
globals().update(_catalogue.named_activation_kernels(activation_forward, activation_backward, __name__))
