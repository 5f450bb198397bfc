# cython: language_level=3
# distutils: extra_compile_args = -fopenmp -fno-math-errno
# distutils: extra_link_args = -fopenmp
"""Optimizer updates, in place, with Keras 3 semantics (``keras.optimizers.*.update_step``); the rules
and their state buffers are listed in :mod:`mldsl.kernels.catalogue` (``UPDATES``):

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


cdef object _apply(str fn, object update, dict hyper, object param, object grad, tuple state_names,
                   tuple states, long step):
    f32, flat = _flat(fn, param, grad, state_names, states)
    _run(opt_hyper(fn, update, hyper, step), f32, flat)
    return param


def optimizer_update(optimizer, param, grad, states=(), step=1):
    """Applies one update of the optimizer spec ``optimizer`` (``name`` and ``hyper``, e.g. the native
    plan's ``OptimizerSpec``; its rule and state buffers as :mod:`mldsl.kernels.catalogue` says) to
    ``param`` in place from ``grad``; ``states``: the rule's state buffers in the catalogue's order;
    ``step``: the 1-based update count. Returns ``param``."""
    fn = "optimizer_update"
    try:
        rule = _catalogue.update_of(optimizer)
    except ValueError as exc:
        raise ValueError(f"{fn}: {exc}") from None
    if step < 1:
        raise ValueError(f"{fn}: step is 1-based, got {step}")
    names = rule.state_names(optimizer.hyper)
    states = tuple(states)
    if len(states) != len(names):
        raise ValueError(f"{fn}: the {rule.name} update needs {len(names)} state buffer(s) "
                         f"({', '.join(names) or 'none'}), got {len(states)}")
    return _apply(fn, rule, dict(optimizer.hyper), param, grad, names, states, step)


def sgd_update(param, grad, lr):
    """Plain SGD: ``param -= lr * grad`` in place; returns ``param``."""
    return _apply("sgd_update", "sgd", {"learning_rate": lr}, param, grad, (), (), 1)


def momentum_update(param, grad, velocity, lr, momentum):
    """SGD with momentum (Keras SGD(momentum=...)): ``v = momentum*v - lr*g; param += v``."""
    return _apply("momentum_update", "momentum", {"learning_rate": lr, "momentum": momentum}, param, grad,
                  ("velocity",), (velocity,), 1)


def nesterov_update(param, grad, velocity, lr, momentum):
    """Nesterov momentum (Keras SGD(nesterov=True)): ``v = momentum*v - lr*g; param += momentum*v - lr*g``."""
    return _apply("nesterov_update", "nesterov", {"learning_rate": lr, "momentum": momentum}, param, grad,
                  ("velocity",), (velocity,), 1)


def adam_update(param, grad, m, v, lr, beta_1, beta_2, epsilon, step):
    """Adam with Keras' epsilon placement; ``step`` is the 1-based update count."""
    if step < 1:
        raise ValueError(f"adam_update: step is 1-based, got {step}")
    return _apply("adam_update", "adam", {"learning_rate": lr, "beta_1": beta_1, "beta_2": beta_2,
                                          "epsilon": epsilon}, param, grad, ("m", "v"), (m, v), step)


def rmsprop_update(param, grad, velocity, lr, rho, epsilon, momentum=0.0, momentum_buffer=None):
    """RMSprop (Keras 3: epsilon inside the sqrt); with ``momentum > 0`` a ``momentum_buffer`` is required."""
    fn = "rmsprop_update"
    has_mom = momentum > 0
    if has_mom and momentum_buffer is None:
        raise ValueError(f"{fn}: momentum={momentum} needs a momentum_buffer")
    names = ("velocity", "momentum_buffer") if has_mom else ("velocity",)
    states = (velocity, momentum_buffer) if has_mom else (velocity,)
    return _apply(fn, "rmsprop", {"learning_rate": lr, "rho": rho, "epsilon": epsilon, "momentum": momentum},
                  param, grad, names, states, 1)


def adagrad_update(param, grad, accumulator, lr, epsilon):
    """Adagrad (Keras 3): ``acc += g*g; param -= lr * g / sqrt(acc + epsilon)``. Initialise
    ``accumulator`` with ``initial_accumulator_value`` (Keras default 0.1)."""
    return _apply("adagrad_update", "adagrad", {"learning_rate": lr, "epsilon": epsilon}, param, grad,
                  ("accumulator",), (accumulator,), 1)
