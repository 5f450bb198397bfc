# cython: language_level=3
# distutils: extra_compile_args = -fopenmp -fno-math-errno
# distutils: extra_link_args = -fopenmp
"""Optimizer updates, in place, with Keras 3 semantics (``keras.optimizers.*.update_step``):

- SGD:      ``p -= lr * g``
- momentum: ``v = momentum * v - lr * g;  p += v``
- Nesterov: ``v = momentum * v - lr * g;  p += momentum * v - lr * g``
- Adam:     ``m += (g - m) * (1 - b1);  v += (g*g - v) * (1 - b2);
              p -= m * lr * sqrt(1 - b2**t) / (1 - b1**t) / (sqrt(v) + eps)`` (eps outside the sqrt,
              no bias correction on it: Keras' "epsilon hat")
- RMSprop:  ``a = rho * a + (1 - rho) * g*g;  inc = lr * g / sqrt(a + eps)``; then ``p -= inc``, or with
              momentum ``mom = momentum * mom + inc;  p -= mom``
- Adagrad:  ``acc += g*g;  p -= lr * g / sqrt(acc + eps)``

All state arrays have the parameter's shape and dtype; ``step`` is 1-based. GIL released, no allocation.
The updates are memory-bound: after ``set_num_threads(n)`` large arrays are split over n OpenMP threads
(every element is updated independently, so the result does not depend on n).
"""
include "_blas.pxi"
include "_math.pxi"
include "_par.pxi"
include "_check.pxi"
include "_optim.pxi"


cdef void _update(OptHyper* h, floating[::1] p, floating[::1] g, floating[::1] s0, floating[::1] s1) noexcept:
    """Runs the update ``h`` over all of ``p`` (contiguous chunks split over the team)."""
    cdef Py_ssize_t n = p.shape[0], lo, hi
    cdef int nt = _team(n), t
    cdef floating* ps0 = &s0[0] if s0 is not None and s0.shape[0] else NULL
    cdef floating* ps1 = &s1[0] if s1 is not None and s1.shape[0] else NULL
    cdef unsigned int csr = 0
    if n == 0:
        return
    with nogil:
        if nt <= 1:
            csr = _ftz_on()
            opt_core(h, &p[0], &g[0], ps0, ps1, n)
            _csr_restore(csr)
        else:
            t = 0
            lo = hi = 0
            with parallel(num_threads=nt):
                csr = _ftz_on()
                t = threadid()
                lo = _chunk_lo(t, nt, n, 16)
                hi = _chunk_hi(t, nt, n, 16)
                if hi > lo:
                    opt_core(h, &p[lo], &g[lo], ps0 + lo if ps0 != NULL else NULL,
                             ps1 + lo if ps1 != NULL else NULL, hi - lo)
                _csr_restore(csr)


cdef void _run(OptHyper h, bint f32, list flat):
    """Dispatches on dtype; ``flat`` = [param, grad, *states] (flat views)."""
    s0 = flat[2] if len(flat) > 2 else None
    s1 = flat[3] if len(flat) > 3 else None
    if f32:
        _update[float](&h, flat[0], flat[1], s0, s1)
    else:
        _update[double](&h, flat[0], flat[1], s0, s1)


cdef tuple _flat(str fn, object param, object grad, tuple state_names, tuple states):
    """Validates param (output), grad (input) and state buffers (outputs); returns flat views."""
    if not cnp.PyArray_Check(param):
        raise ValueError(f"{fn}: param must be a numpy array (updated in place), got {type(param).__name__}")
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>param)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise ValueError(f"{fn}: param must be float32 or float64, got {param.dtype}")
    shape = tuple(param.shape)
    param = _as_output(fn, "param", param, t, shape)
    grad = _as_float_array(fn, "grad", grad, t)
    if tuple(grad.shape) != shape:
        raise ValueError(f"{fn}: shapes do not fit: param{shape} vs grad{_shape_str(grad)}")
    flat = [param.reshape(-1), grad.reshape(-1)]
    for name, s in zip(state_names, states):
        flat.append(_as_output(fn, name, s, t, shape).reshape(-1))
    return t == cnp.NPY_FLOAT32, flat


def sgd_update(param, grad, lr):
    """Plain SGD: ``param -= lr * grad`` in place; returns ``param``."""
    f32, flat = _flat("sgd_update", param, grad, (), ())
    _run(OptHyper(kind=OPT_SGD, lr=lr), f32, flat)
    return param


def momentum_update(param, grad, velocity, lr, momentum):
    """SGD with momentum (Keras SGD(momentum=...)): ``v = momentum*v - lr*g; param += v``."""
    f32, flat = _flat("momentum_update", param, grad, ("velocity",), (velocity,))
    _run(OptHyper(kind=OPT_MOMENTUM, lr=lr, mu=momentum), f32, flat)
    return param


def nesterov_update(param, grad, velocity, lr, momentum):
    """Nesterov momentum (Keras SGD(nesterov=True)): ``v = momentum*v - lr*g; param += momentum*v - lr*g``."""
    f32, flat = _flat("nesterov_update", param, grad, ("velocity",), (velocity,))
    _run(OptHyper(kind=OPT_NESTEROV, lr=lr, mu=momentum), f32, flat)
    return param


def adam_update(param, grad, m, v, lr, beta_1, beta_2, epsilon, step):
    """Adam with Keras' epsilon placement; ``step`` is the 1-based update count."""
    if step < 1:
        raise ValueError(f"adam_update: step is 1-based, got {step}")
    f32, flat = _flat("adam_update", param, grad, ("m", "v"), (m, v))
    _run(adam_hyper(lr, beta_1, beta_2, epsilon, step), f32, flat)
    return param


def rmsprop_update(param, grad, velocity, lr, rho, epsilon, momentum=0.0, momentum_buffer=None):
    """RMSprop (Keras 3: epsilon inside the sqrt); with ``momentum > 0`` a ``momentum_buffer`` is required."""
    fn = "rmsprop_update"
    cdef bint has_mom = momentum > 0
    if has_mom and momentum_buffer is None:
        raise ValueError(f"{fn}: momentum={momentum} needs a momentum_buffer")
    names = ("velocity", "momentum_buffer") if has_mom else ("velocity",)
    states = (velocity, momentum_buffer) if has_mom else (velocity,)
    f32, flat = _flat(fn, param, grad, names, states)
    _run(OptHyper(kind=OPT_RMSPROP, has_mom=has_mom, lr=lr, rho=rho, c1=1.0 - rho, eps=epsilon, mu=momentum),
         f32, flat)
    return param


def adagrad_update(param, grad, accumulator, lr, epsilon):
    """Adagrad (Keras 3): ``acc += g*g; param -= lr * g / sqrt(acc + epsilon)``. Initialise
    ``accumulator`` with ``initial_accumulator_value`` (Keras default 0.1)."""
    f32, flat = _flat("adagrad_update", param, grad, ("accumulator",), (accumulator,))
    _run(OptHyper(kind=OPT_ADAGRAD, lr=lr, eps=epsilon), f32, flat)
    return param
