# Optimizer update cores, shared (textually included after ``_blas.pxi`` and ``_math.pxi``) by
# ``optimizers.pyx`` (one kernel per optimizer, the range split over the team) and ``step.pyx`` (the
# compiled training step, which updates each thread's rows of a layer right after computing them).
# Each core updates ``n`` contiguous elements in place; every element is independent of the others,
# so how a range is split never changes the result. Formulas: see optimizers.pyx.

cdef enum:
    # The codes of mldsl.kernels.catalogue.UPDATES (tests/kernels/test_catalogue.py checks they match).
    OPT_SGD = 0
    OPT_MOMENTUM = 1
    OPT_NESTEROV = 2
    OPT_ADAM = 3
    OPT_RMSPROP = 4
    OPT_ADAGRAD = 5


cdef struct OptHyper:
    # One step's scalars, computed in double by the caller like the twins do:
    # sgd/momentum/nesterov: lr, mu; adam: lr, b1, b2, eps and, for the step at hand, alpha (the
    # bias-corrected lr), c1 = 1 - beta_1, c2 = 1 - beta_2; rmsprop: lr, rho, c = 1 - rho (in c1), eps,
    # mu (momentum; has_mom); adagrad: lr, eps.
    int kind
    bint has_mom
    double lr, mu, alpha, c1, c2, eps, rho, b1, b2


cdef inline void sgd_core(floating* p, floating* g, Py_ssize_t n, floating lr) noexcept nogil:
    cdef Py_ssize_t k
    for k in range(n):
        p[k] -= lr * g[k]


cdef inline void momentum_core(floating* p, floating* g, floating* v, Py_ssize_t n, floating lr, floating mu,
                               bint nesterov) noexcept nogil:
    cdef Py_ssize_t k
    cdef floating vk
    if nesterov:
        for k in range(n):
            vk = mu * v[k] - lr * g[k]
            v[k] = vk
            p[k] += mu * vk - lr * g[k]
    else:
        for k in range(n):
            vk = mu * v[k] - lr * g[k]
            v[k] = vk
            p[k] += vk


cdef inline void adam_core(floating* p, floating* g, floating* m, floating* v, Py_ssize_t n, floating alpha,
                           floating c1, floating c2, floating eps) noexcept nogil:
    cdef Py_ssize_t k
    cdef floating gk, mk, vk
    for k in range(n):
        gk = g[k]
        mk = m[k] + (gk - m[k]) * c1
        vk = v[k] + (gk * gk - v[k]) * c2
        m[k] = mk
        v[k] = vk
        p[k] -= mk * alpha / (_sqrt(vk) + eps)


cdef inline void rmsprop_core(floating* p, floating* g, floating* a, floating* mom, bint has_mom, Py_ssize_t n,
                              floating lr, floating rho, floating c, floating eps, floating mu) noexcept nogil:
    cdef Py_ssize_t k
    cdef floating gk, ak, inc
    if has_mom:
        for k in range(n):
            gk = g[k]
            ak = rho * a[k] + c * gk * gk
            a[k] = ak
            inc = lr * gk / _sqrt(ak + eps)
            mom[k] = mu * mom[k] + inc
            p[k] -= mom[k]
    else:
        for k in range(n):
            gk = g[k]
            ak = rho * a[k] + c * gk * gk
            a[k] = ak
            p[k] -= lr * gk / _sqrt(ak + eps)


cdef inline void adagrad_core(floating* p, floating* g, floating* acc, Py_ssize_t n, floating lr,
                              floating eps) noexcept nogil:
    cdef Py_ssize_t k
    cdef floating gk, ak
    for k in range(n):
        gk = g[k]
        ak = acc[k] + gk * gk
        acc[k] = ak
        p[k] -= lr * gk / _sqrt(ak + eps)


cdef inline void opt_core(OptHyper* h, floating* p, floating* g, floating* s0, floating* s1,
                          Py_ssize_t n) noexcept nogil:
    """Applies the update ``h`` describes to ``n`` elements (``s0``/``s1``: state buffers at the same offset)."""
    if n <= 0:
        return
    if h.kind == OPT_ADAM:
        adam_core(p, g, s0, s1, n, <floating>h.alpha, <floating>h.c1, <floating>h.c2, <floating>h.eps)
    elif h.kind == OPT_SGD:
        sgd_core(p, g, n, <floating>h.lr)
    elif h.kind == OPT_MOMENTUM or h.kind == OPT_NESTEROV:
        momentum_core(p, g, s0, n, <floating>h.lr, <floating>h.mu, h.kind == OPT_NESTEROV)
    elif h.kind == OPT_RMSPROP:
        rmsprop_core(p, g, s0, s1, h.has_mom, n, <floating>h.lr, <floating>h.rho, <floating>h.c1,
                     <floating>h.eps, <floating>h.mu)
    elif h.kind == OPT_ADAGRAD:
        adagrad_core(p, g, s0, n, <floating>h.lr, <floating>h.eps)


cdef inline void adam_at(OptHyper* h, long step) noexcept nogil:
    """Adam's bias correction for 1-based ``step``, folded into ``h.alpha``."""
    h.alpha = h.lr * (1.0 - h.b2 ** step) ** 0.5 / (1.0 - h.b1 ** step)


from mldsl.kernels import catalogue as _catalogue


cdef OptHyper opt_hyper(str fn, object update, object hyper, long step) except *:
    """The scalars of catalogue update rule ``update`` (an ``Update`` or its name) from ``hyper`` (Keras'
    names; every one the rule reads), for 1-based ``step``. Raises ValueError naming what is missing."""
    if isinstance(update, str):
        found = _catalogue.UPDATES.get(update)
        if found is None:
            raise ValueError(f"{fn}: unknown optimizer update {update!r}; known: {', '.join(_catalogue.UPDATES)}")
        update = found
    missing = [k for k in update.hyper if k not in hyper]
    if missing:
        raise ValueError(f"{fn}: the {update.name} update needs {', '.join(missing)}")
    cdef OptHyper h = OptHyper(kind=update.code, has_mom=False, lr=float(hyper["learning_rate"]), mu=0, alpha=0,
                               c1=0, c2=0, eps=0, rho=0, b1=0, b2=0)
    if h.kind == OPT_MOMENTUM or h.kind == OPT_NESTEROV:
        h.mu = float(hyper["momentum"])
    elif h.kind == OPT_ADAM:
        h.b1, h.b2, h.eps = float(hyper["beta_1"]), float(hyper["beta_2"]), float(hyper["epsilon"])
        h.c1, h.c2 = 1.0 - h.b1, 1.0 - h.b2
        adam_at(&h, step)
    elif h.kind == OPT_RMSPROP:
        h.rho, h.eps, h.mu = float(hyper["rho"]), float(hyper["epsilon"]), float(hyper["momentum"])
        h.c1 = 1.0 - h.rho
        h.has_mom = h.mu > 0
    elif h.kind == OPT_ADAGRAD:
        h.eps = float(hyper["epsilon"])
    return h
