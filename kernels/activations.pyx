# cython: language_level=3
# distutils: extra_compile_args = -fopenmp
# distutils: extra_link_args = -fopenmp
"""Activation kernels, forward and backward: linear, relu, leaky_relu, elu, sigmoid, tanh,
softmax (last axis), gelu (exact), gelu_tanh, swish. float32/float64, GIL released, no allocation.

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

    ``y`` is the forward output; ``x`` (the input) is needed by gelu, gelu_tanh and swish and
    may be None for the others."""
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


def linear_forward(x, out):
    """Identity: copies ``x`` into ``out``."""
    return activation_forward("linear", x, out)


def linear_backward(x, y, dy, dx):
    """Identity gradient: copies ``dy`` into ``dx``."""
    return activation_backward("linear", x, y, dy, dx)


def relu_forward(x, out):
    """``max(x, 0)``."""
    return activation_forward("relu", x, out)


def relu_backward(x, y, dy, dx):
    """``dy * (y > 0)``."""
    return activation_backward("relu", x, y, dy, dx)


def leaky_relu_forward(x, out, alpha=0.2):
    """``x if x > 0 else alpha * x`` (Keras' activations.leaky_relu default slope 0.2)."""
    return activation_forward("leaky_relu", x, out, alpha)


def leaky_relu_backward(x, y, dy, dx, alpha=0.2):
    """``dy if y > 0 else alpha * dy``."""
    return activation_backward("leaky_relu", x, y, dy, dx, alpha)


def elu_forward(x, out, alpha=1.0):
    """``x if x > 0 else alpha * (exp(x) - 1)``."""
    return activation_forward("elu", x, out, alpha)


def elu_backward(x, y, dy, dx, alpha=1.0):
    """``dy if y > 0 else dy * (y + alpha)``."""
    return activation_backward("elu", x, y, dy, dx, alpha)


def sigmoid_forward(x, out):
    """``1 / (1 + exp(-x))`` (overflow-free)."""
    return activation_forward("sigmoid", x, out)


def sigmoid_backward(x, y, dy, dx):
    """``dy * y * (1 - y)``."""
    return activation_backward("sigmoid", x, y, dy, dx)


def tanh_forward(x, out):
    """``tanh(x)``."""
    return activation_forward("tanh", x, out)


def tanh_backward(x, y, dy, dx):
    """``dy * (1 - y**2)``."""
    return activation_backward("tanh", x, y, dy, dx)


def softmax_forward(x, out):
    """Softmax along the last axis (max-shifted)."""
    return activation_forward("softmax", x, out)


def softmax_backward(x, y, dy, dx):
    """``y * (dy - sum(dy * y, axis=-1))``."""
    return activation_backward("softmax", x, y, dy, dx)


def gelu_forward(x, out):
    """Exact GELU ``0.5 * x * (1 + erf(x / sqrt(2)))`` (Keras' default, approximate=False)."""
    return activation_forward("gelu", x, out)


def gelu_backward(x, y, dy, dx):
    """``dy * (Phi(x) + x * phi(x))``; needs ``x``."""
    return activation_backward("gelu", x, y, dy, dx)


def gelu_tanh_forward(x, out):
    """Tanh-approximated GELU (Keras' gelu(approximate=True))."""
    return activation_forward("gelu_tanh", x, out)


def gelu_tanh_backward(x, y, dy, dx):
    """Derivative of the tanh-approximated GELU; needs ``x``."""
    return activation_backward("gelu_tanh", x, y, dy, dx)


def swish_forward(x, out):
    """``x * sigmoid(x)`` (SiLU)."""
    return activation_forward("swish", x, out)


def swish_backward(x, y, dy, dx):
    """``dy * (s + x * s * (1 - s))`` with ``s = sigmoid(x)``; needs ``x``."""
    return activation_backward("swish", x, y, dy, dx)
