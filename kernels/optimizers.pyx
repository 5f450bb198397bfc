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


cdef void _sgd(floating[::1] p, floating[::1] g, floating lr) noexcept:
    cdef Py_ssize_t k
    cdef int nt = _team(p.shape[0])
    cdef unsigned int csr = 0
    with nogil:
        with parallel(num_threads=nt):
            csr = _ftz_on()
            for k in prange(p.shape[0], schedule="static"):
                p[k] -= lr * g[k]
            _csr_restore(csr)


cdef void _momentum(floating[::1] p, floating[::1] g, floating[::1] v, floating lr, floating mu,
                    bint nesterov) noexcept:
    cdef Py_ssize_t k
    cdef floating vk
    cdef int nt = _team(p.shape[0])
    cdef unsigned int csr = 0
    with nogil:
        if nesterov:
            with parallel(num_threads=nt):
                csr = _ftz_on()
                for k in prange(p.shape[0], schedule="static"):
                    vk = mu * v[k] - lr * g[k]
                    v[k] = vk
                    p[k] += mu * vk - lr * g[k]
                _csr_restore(csr)
        else:
            with parallel(num_threads=nt):
                csr = _ftz_on()
                for k in prange(p.shape[0], schedule="static"):
                    vk = mu * v[k] - lr * g[k]
                    v[k] = vk
                    p[k] += vk
                _csr_restore(csr)


cdef void _adam(floating[::1] p, floating[::1] g, floating[::1] m, floating[::1] v, floating alpha,
                floating c1, floating c2, floating eps) noexcept:
    # c1 = 1 - beta_1, c2 = 1 - beta_2 (computed in double by the caller, like the twin)
    cdef Py_ssize_t k
    cdef floating gk, mk, vk
    cdef int nt = _team(p.shape[0])
    cdef unsigned int csr = 0
    with nogil:
        with parallel(num_threads=nt):
            csr = _ftz_on()
            for k in prange(p.shape[0], schedule="static"):
                gk = g[k]
                mk = m[k] + (gk - m[k]) * c1
                vk = v[k] + (gk * gk - v[k]) * c2
                m[k] = mk
                v[k] = vk
                p[k] -= mk * alpha / (_sqrt(vk) + eps)
            _csr_restore(csr)


cdef void _rmsprop(floating[::1] p, floating[::1] g, floating[::1] a, floating[::1] mom, bint has_mom,
                   floating lr, floating rho, floating c, floating eps, floating mu) noexcept:
    # c = 1 - rho (computed in double by the caller)
    cdef Py_ssize_t k
    cdef floating gk, ak, inc
    cdef int nt = _team(p.shape[0])
    cdef unsigned int csr = 0
    with nogil:
        with parallel(num_threads=nt):
            csr = _ftz_on()
            for k in prange(p.shape[0], schedule="static"):
                gk = g[k]
                ak = rho * a[k] + c * gk * gk
                a[k] = ak
                inc = lr * gk / _sqrt(ak + eps)
                if has_mom:
                    mom[k] = mu * mom[k] + inc
                    p[k] -= mom[k]
                else:
                    p[k] -= inc
            _csr_restore(csr)


cdef void _adagrad(floating[::1] p, floating[::1] g, floating[::1] acc, floating lr, floating eps) noexcept:
    cdef Py_ssize_t k
    cdef floating gk, ak
    cdef int nt = _team(p.shape[0])
    cdef unsigned int csr = 0
    with nogil:
        with parallel(num_threads=nt):
            csr = _ftz_on()
            for k in prange(p.shape[0], schedule="static"):
                gk = g[k]
                ak = acc[k] + gk * gk
                acc[k] = ak
                p[k] -= lr * gk / _sqrt(ak + eps)
            _csr_restore(csr)


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
    f32, (p, g) = _flat("sgd_update", param, grad, (), ())
    if f32:
        _sgd[float](p, g, lr)
    else:
        _sgd[double](p, g, lr)
    return param


def momentum_update(param, grad, velocity, lr, momentum):
    """SGD with momentum (Keras SGD(momentum=...)): ``v = momentum*v - lr*g; param += v``."""
    f32, (p, g, v) = _flat("momentum_update", param, grad, ("velocity",), (velocity,))
    if f32:
        _momentum[float](p, g, v, lr, momentum, False)
    else:
        _momentum[double](p, g, v, lr, momentum, False)
    return param


def nesterov_update(param, grad, velocity, lr, momentum):
    """Nesterov momentum (Keras SGD(nesterov=True)): ``v = momentum*v - lr*g; param += momentum*v - lr*g``."""
    f32, (p, g, v) = _flat("nesterov_update", param, grad, ("velocity",), (velocity,))
    if f32:
        _momentum[float](p, g, v, lr, momentum, True)
    else:
        _momentum[double](p, g, v, lr, momentum, True)
    return param


def adam_update(param, grad, m, v, lr, beta_1, beta_2, epsilon, step):
    """Adam with Keras' epsilon placement; ``step`` is the 1-based update count."""
    if step < 1:
        raise ValueError(f"adam_update: step is 1-based, got {step}")
    f32, (p, g, mm, vv) = _flat("adam_update", param, grad, ("m", "v"), (m, v))
    alpha = lr * (1.0 - beta_2 ** step) ** 0.5 / (1.0 - beta_1 ** step)
    if f32:
        _adam[float](p, g, mm, vv, alpha, 1.0 - beta_1, 1.0 - beta_2, epsilon)
    else:
        _adam[double](p, g, mm, vv, alpha, 1.0 - beta_1, 1.0 - beta_2, epsilon)
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
    mom = flat[3] if has_mom else flat[2]
    if f32:
        _rmsprop[float](flat[0], flat[1], flat[2], mom, has_mom, lr, rho, 1.0 - rho, epsilon, momentum)
    else:
        _rmsprop[double](flat[0], flat[1], flat[2], mom, has_mom, lr, rho, 1.0 - rho, epsilon, momentum)
    return param


def adagrad_update(param, grad, accumulator, lr, epsilon):
    """Adagrad (Keras 3): ``acc += g*g; param -= lr * g / sqrt(acc + epsilon)``. Initialise
    ``accumulator`` with ``initial_accumulator_value`` (Keras default 0.1)."""
    f32, (p, g, acc) = _flat("adagrad_update", param, grad, ("accumulator",), (accumulator,))
    if f32:
        _adagrad[float](p, g, acc, lr, epsilon)
    else:
        _adagrad[double](p, g, acc, lr, epsilon)
    return param
