# Optimizer update cores, shared (textually included after ``_blas.pxi`` and ``_math.pxi``) by
# ``optimizers.pyx`` (one kernel per optimizer, the range split over the team) and ``step.pyx`` (the
# compiled training step, which updates each thread's rows of a layer right after computing them).
# Each core updates ``n`` contiguous elements in place; every element is independent of the others,
# so how a range is split never changes the result. Formulas: see optimizers.pyx.

cdef enum:
    OPT_SGD = 0
    OPT_MOMENTUM = 1
    OPT_NESTEROV = 2
    OPT_ADAM = 3
    OPT_RMSPROP = 4
    OPT_ADAGRAD = 5

#: Optimizer update name -> code (the compiled step's ``optimizer`` argument).
OPTIMIZERS = {"sgd": OPT_SGD, "momentum": OPT_MOMENTUM, "nesterov": OPT_NESTEROV, "adam": OPT_ADAM,
              "rmsprop": OPT_RMSPROP, "adagrad": OPT_ADAGRAD}
#: State buffers each update needs (rmsprop: one more, the momentum buffer, when momentum > 0).
OPT_STATES = {OPT_SGD: 0, OPT_MOMENTUM: 1, OPT_NESTEROV: 1, OPT_ADAM: 2, OPT_RMSPROP: 1, OPT_ADAGRAD: 1}


cdef struct OptHyper:
    # One step's scalars, computed in double by the caller like the twins do:
    # sgd/momentum/nesterov: lr, mu; adam: alpha (bias-corrected lr), c1 = 1 - beta_1, c2 = 1 - beta_2,
    # eps; rmsprop: lr, rho, c = 1 - rho (in c1), eps, mu (momentum; has_mom); adagrad: lr, eps.
    int kind
    bint has_mom
    double lr, mu, alpha, c1, c2, eps, rho


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


cdef inline OptHyper adam_hyper(double lr, double beta_1, double beta_2, double epsilon, long step):
    """Adam's scalars for 1-based ``step``: the bias correction folded into ``alpha``."""
    return OptHyper(kind=OPT_ADAM, alpha=lr * (1.0 - beta_2 ** step) ** 0.5 / (1.0 - beta_1 ** step),
                    c1=1.0 - beta_1, c2=1.0 - beta_2, eps=epsilon)
