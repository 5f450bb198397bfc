"""Plain NumPy twins of the compiled kernels in :mod:`mldsl.kernels`, beside them (as thinc keeps its
``NumpyOps`` beside the compiled ops).

Every function here has the same name, signature, in-place behaviour and errors as its Cython
counterpart, so the two are interchangeable (the native trainer takes either through its
``kernels`` switch) and the tests check one against the other. These are written for clarity,
not speed, and may allocate temporaries. Which activations, optimizer updates and losses exist is
:mod:`mldsl.kernels.catalogue`'s; the formulas are written out here a second time on purpose (a twin).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import erf as _erf

from mldsl.kernels import catalogue

__all__ = [
    "matmul", "dense_forward", "dense_backward", "activation_forward", "activation_backward",
    "softmax_cross_entropy", "mse", "count_correct", "l2_penalty", "l2_grad", "l1_penalty", "l1_grad", "dropout_forward",
    "dropout_backward", "optimizer_update", "sgd_update", "momentum_update", "nesterov_update", "adam_update",
    "rmsprop_update", "adagrad_update", "gather_rows", "DenseTrainStep",
]

_NEEDS_X = tuple(a.name for a in catalogue.ACTIVATIONS.values() if a.needs_x)
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_SQRT_2_OVER_PI = 0.7978845608028654


# ---------------------------------------------------------------- argument checks (same as _check.pxi)

def _fa(fn, name, a, dtype=None):
    if a is None:
        raise ValueError(f"{fn}: {name} is required (got None)")
    a = np.asarray(a)
    if dtype is None:
        if a.dtype not in _FLOATS:
            raise ValueError(f"{fn}: {name} must be float32 or float64, got {a.dtype}")
    elif a.dtype != dtype:
        raise ValueError(f"{fn}: {name} has dtype {a.dtype} but the kernel works in {np.dtype(dtype).name} "
                         f"(the dtype of the first array)")
    return np.ascontiguousarray(a)


def _out(fn, name, a, dtype, shape):
    if not isinstance(a, np.ndarray):
        raise ValueError(f"{fn}: output {name} must be a numpy array, got {type(a).__name__}")
    if a.dtype != dtype:
        raise ValueError(f"{fn}: output {name} has dtype {a.dtype}, expected {np.dtype(dtype).name}")
    if a.shape != tuple(shape):
        raise ValueError(f"{fn}: output {name} has shape {a.shape}, expected {tuple(shape)}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{fn}: output {name} must be C-contiguous (it is written in place); "
                         f"pass np.ascontiguousarray(...) or a fresh np.empty buffer")
    if not a.flags.writeable:
        raise ValueError(f"{fn}: output {name} is read-only")
    return a


def _labels(fn, name, a):
    a = np.asarray(a)
    if a.dtype.kind not in "iu":
        raise ValueError(f"{fn}: {name} must be integer class indices, got dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=np.int64)


def _act(fn, activation, alpha):
    act = catalogue.activation(activation, fn)
    if alpha is None:
        alpha = act.default_alpha if act.default_alpha is not None else 0.0
    if act.default_alpha is not None and alpha < 0:
        raise ValueError(f"{fn}: {act.name} needs alpha >= 0, got {alpha}")
    return act.name, float(alpha)


# ---------------------------------------------------------------- activations

def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _fwd(name, x, alpha):
    dt = x.dtype.type
    if name == "linear":
        return x.copy()
    if name == "relu":
        return np.where(x <= 0, dt(0), x)      # NaN propagates
    if name == "leaky_relu":
        return np.where(x > 0, x, dt(alpha) * x)
    if name == "elu":
        return np.where(x > 0, x, dt(alpha) * np.expm1(np.minimum(x, 0)))
    if name == "sigmoid":
        return _sigmoid(x)
    if name == "tanh":
        return np.tanh(x)
    if name == "softmax":
        if x.size == 0:
            return x.copy()
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if name == "gelu":
        return (dt(0.5) * x * (1 + _erf(x / dt(math.sqrt(2))))).astype(x.dtype, copy=False)
    if name == "gelu_tanh":
        return dt(0.5) * x * (1 + np.tanh(dt(_SQRT_2_OVER_PI) * (x + dt(0.044715) * x ** 3)))
    if name == "swish":
        return x * _sigmoid(x)
    if name == "selu":
        return np.where(x > 0, dt(catalogue.SELU_SCALE) * x,
                        dt(catalogue.SELU_SCALE * catalogue.SELU_ALPHA) * np.expm1(np.minimum(x, 0)))
    if name == "softplus":
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
    raise AssertionError(name)


def _bwd(name, x, y, dy, alpha):
    dt = dy.dtype.type
    if name == "linear":
        return dy.copy()
    if name == "relu":
        return np.where(y > 0, dy, dt(0))
    if name == "leaky_relu":
        return np.where(y > 0, dy, dt(alpha) * dy)
    if name == "elu":
        return np.where(y > 0, dy, dy * (y + dt(alpha)))
    if name == "sigmoid":
        return dy * y * (1 - y)
    if name == "tanh":
        return dy * (1 - y * y)
    if name == "softmax":
        return y * (dy - (dy * y).sum(axis=-1, keepdims=True))
    if name == "gelu":
        g = dt(0.5) * (1 + _erf(x / dt(math.sqrt(2)))) + x * np.exp(dt(-0.5) * x * x) / dt(math.sqrt(2 * math.pi))
        return (dy * g).astype(dy.dtype, copy=False)
    if name == "gelu_tanh":
        t = np.tanh(dt(_SQRT_2_OVER_PI) * (x + dt(0.044715) * x ** 3))
        g = dt(0.5) * (1 + t) + dt(0.5) * x * (1 - t * t) * dt(_SQRT_2_OVER_PI) * (1 + dt(0.134145) * x * x)
        return dy * g
    if name == "swish":
        s = _sigmoid(x)
        return dy * (s + x * s * (1 - s))
    if name == "selu":
        return np.where(y < 0, dy * (y + dt(catalogue.SELU_SCALE * catalogue.SELU_ALPHA)),
                        dy * dt(catalogue.SELU_SCALE))
    if name == "softplus":
        return -dy * np.expm1(-y)          # sigmoid(x) = 1 - exp(-softplus(x))
    raise AssertionError(name)


def activation_forward(activation, x, out, alpha=None):
    """Writes ``activation(x)`` into ``out`` (same shape; may be ``x``) and returns ``out``."""
    fn = f"{activation}_forward" if isinstance(activation, str) else "activation_forward"
    name, a = _act(fn, activation, alpha)
    x = _fa(fn, "x", x)
    out = _out(fn, "out", out, x.dtype, x.shape)
    out[...] = _fwd(name, x, a)
    return out


def activation_backward(activation, x, y, dy, dx, alpha=None):
    """Writes ``dy * activation'(x)`` into ``dx`` (may be ``dy``) and returns ``dx``."""
    fn = f"{activation}_backward" if isinstance(activation, str) else "activation_backward"
    name, a = _act(fn, activation, alpha)
    dy = _fa(fn, "dy", dy)
    if name != "linear":
        y = _fa(fn, "y", y, dy.dtype)
        if y.shape != dy.shape:
            raise ValueError(f"{fn}: y has shape {y.shape} but dy has shape {dy.shape}")
    if name in _NEEDS_X:
        x = _fa(fn, "x", x, dy.dtype)
        if x.shape != dy.shape:
            raise ValueError(f"{fn}: x has shape {x.shape} but dy has shape {dy.shape}")
    dx = _out(fn, "dx", dx, dy.dtype, dy.shape)
    dx[...] = _bwd(name, x, y, dy, a)
    return dx


_NAMED = catalogue.named_activation_kernels(activation_forward, activation_backward, __name__)
globals().update(_NAMED)
__all__ += list(_NAMED)


# ---------------------------------------------------------------- dense

def matmul(a, b, out):
    """Plain matrix product: writes ``out = a @ b`` and returns ``out``."""
    fn = "matmul"
    a = _fa(fn, "a", a)
    b = _fa(fn, "b", b, a.dtype)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"{fn}: shapes do not fit: a{a.shape} @ b{b.shape} (need a (m, k) and b (k, n))")
    out = _out(fn, "out", out, a.dtype, (a.shape[0], b.shape[1]))
    np.matmul(a, b, out=out)
    return out


def dense_forward(x, w, b, out, activation="linear", z=None, alpha=None):
    """Dense layer forward: writes ``out = activation(x @ w + b)`` and returns ``out``."""
    fn = "dense_forward"
    x = _fa(fn, "x", x)
    w = _fa(fn, "w", w, x.dtype)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ValueError(f"{fn}: shapes do not fit: x{x.shape} @ w{w.shape} (need x (n, i) and w (i, o))")
    n, o = x.shape[0], w.shape[1]
    if b is not None:
        b = _fa(fn, "b", b, x.dtype)
        if b.shape != (o,):
            raise ValueError(f"{fn}: shapes do not fit: x{x.shape} @ w{w.shape} + b{b.shape} (b must be ({o},))")
    out = _out(fn, "out", out, x.dtype, (n, o))
    name, a = _act(fn, activation, alpha)
    if z is not None:
        z = _out(fn, "z", z, x.dtype, (n, o))
    pre = x @ w
    if b is not None:
        pre += b
    if z is not None:
        z[...] = pre
    out[...] = _fwd(name, pre, a)
    return out


def dense_backward(x, w, dy, dw, db, dx=None, activation="linear", y=None, z=None, alpha=None, dz=None):
    """Dense layer backward: from ``dy`` = dLoss/d(out) writes dw, db and (optionally) dx."""
    fn = "dense_backward"
    x = _fa(fn, "x", x)
    w = _fa(fn, "w", w, x.dtype)
    dy_in = dy
    dy = _fa(fn, "dy", dy, x.dtype)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0] or dy.shape != (x.shape[0], w.shape[1]):
        raise ValueError(f"{fn}: shapes do not fit: x{x.shape}, w{w.shape}, dy{dy.shape} "
                         f"(need x (n, i), w (i, o), dy (n, o))")
    n, i, o = x.shape[0], x.shape[1], w.shape[1]
    dw = _out(fn, "dw", dw, x.dtype, (i, o))
    if db is not None:
        db = _out(fn, "db", db, x.dtype, (o,))
    if dx is not None:
        dx = _out(fn, "dx", dx, x.dtype, (n, i))
    name, a = _act(fn, activation, alpha)
    if name != "linear":
        if y is None:
            raise ValueError(f"{fn}: activation {activation!r} needs y (the forward output)")
        y = _fa(fn, "y", y, x.dtype)
        if y.shape != (n, o):
            raise ValueError(f"{fn}: y has shape {y.shape}, expected {(n, o)}")
        if name in _NEEDS_X:
            if z is None:
                raise ValueError(f"{fn}: activation {activation!r} needs z (the pre-activation)")
            z = _fa(fn, "z", z, x.dtype)
            if z.shape != (n, o):
                raise ValueError(f"{fn}: z has shape {z.shape}, expected {(n, o)}")
        if dz is None:
            if not (isinstance(dy_in, np.ndarray) and dy_in.flags.writeable):
                raise ValueError(f"{fn}: dy is read-only; pass a dz buffer")
            dz = dy
        else:
            dz = _out(fn, "dz", dz, x.dtype, (n, o))
        grad = _bwd(name, z, y, dy, a)
        dz[...] = grad
        if dz is dy and dy is not dy_in:  # dy was a contiguous copy: mirror the in-place write
            dy_in[...] = grad
    else:
        dz = dy
    dw[...] = x.T @ dz
    if db is not None:
        db[...] = dz.sum(axis=0)
    if dx is not None:
        dx[...] = dz @ w.T
    return dw


# ---------------------------------------------------------------- losses and metrics

def softmax_cross_entropy(logits, labels, dlogits=None):
    """Mean softmax cross-entropy; writes ``(softmax - target) / n`` into ``dlogits`` if given."""
    fn = "softmax_cross_entropy"
    logits = _fa(fn, "logits", logits)
    if logits.ndim != 2 or logits.shape[1] == 0:
        raise ValueError(f"{fn}: logits must be (n, C) with C >= 1, got shape {logits.shape}")
    n, m = logits.shape
    if dlogits is not None:
        dlogits = _out(fn, "dlogits", dlogits, logits.dtype, (n, m))
    labels = np.asarray(labels)
    shifted = logits - logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    logp = shifted - lse
    if labels.ndim == 1:
        labels = _labels(fn, "labels", labels)
        if labels.shape[0] != n:
            raise ValueError(f"{fn}: labels have shape {labels.shape} but logits have shape {logits.shape} "
                             f"(need ({n},))")
        bad = np.flatnonzero((labels < 0) | (labels >= m))
        if bad.size:
            raise ValueError(f"{fn}: label {labels[bad[0]]} at row {bad[0]} is out of range for {m} classes")
        target = np.zeros_like(logits)
        target[np.arange(n), labels] = 1
    else:
        labels = _fa(fn, "labels", labels, logits.dtype)
        if labels.shape != logits.shape:
            raise ValueError(f"{fn}: labels have shape {labels.shape} but logits have shape {logits.shape} "
                             f"(need ({n},) class indices or ({n}, {m}) targets)")
        target = labels
    if n == 0:
        return 0.0
    loss = float(-(target.astype(np.float64) * logp).sum() / n)
    if dlogits is not None:
        dlogits[...] = (np.exp(logp) * target.sum(axis=1, keepdims=True) - target) / logits.dtype.type(n)
    return loss


def mse(pred, target, dpred=None):
    """Mean squared error over all elements; writes ``2 * (pred - target) / size`` into ``dpred``."""
    fn = "mse"
    pred = _fa(fn, "pred", pred)
    target = _fa(fn, "target", target, pred.dtype)
    if target.shape != pred.shape:
        raise ValueError(f"{fn}: shapes do not fit: pred{pred.shape} vs target{target.shape}")
    if dpred is not None:
        dpred = _out(fn, "dpred", dpred, pred.dtype, pred.shape)
    if pred.size == 0:
        return 0.0
    d = pred - target
    if dpred is not None:
        dpred[...] = pred.dtype.type(2.0 / pred.size) * d
    return float((d.astype(np.float64) ** 2).sum() / pred.size)


def count_correct(scores, labels):
    """Number of rows whose argmax of ``scores`` equals the label (first index wins ties)."""
    fn = "count_correct"
    scores = _fa(fn, "scores", scores)
    if scores.ndim != 2 or scores.shape[1] == 0:
        raise ValueError(f"{fn}: scores must be (n, C) with C >= 1, got shape {scores.shape}")
    labels = np.asarray(labels)
    if labels.ndim == 1:
        labels = _labels(fn, "labels", labels)
        if labels.shape[0] != scores.shape[0]:
            raise ValueError(f"{fn}: labels have shape {labels.shape}, scores {scores.shape}")
    else:
        labels = _fa(fn, "labels", labels, scores.dtype)
        if labels.shape != scores.shape:
            raise ValueError(f"{fn}: labels have shape {labels.shape}, scores {scores.shape}")
        labels = labels.argmax(axis=1)
    return int((scores.argmax(axis=1) == labels).sum())


# ---------------------------------------------------------------- weight penalties (L2, L1)

def l2_penalty(w, l2):
    """Returns ``l2 * sum(w**2)``."""
    w = _fa("l2_penalty", "w", w)
    return float(l2) * float((w.astype(np.float64) ** 2).sum())


def l2_grad(w, dw, l2):
    """Adds ``2 * l2 * w`` to ``dw`` in place; returns ``dw``."""
    w = _fa("l2_grad", "w", w)
    dw = _out("l2_grad", "dw", dw, w.dtype, w.shape)
    dw += w.dtype.type(2.0 * l2) * w
    return dw


def l1_penalty(w, l1):
    """Returns ``l1 * sum(|w|)``."""
    w = _fa("l1_penalty", "w", w)
    return float(l1) * float(np.abs(w.astype(np.float64)).sum())


def l1_grad(w, dw, l1):
    """Adds ``l1 * sign(w)`` (``sign(0) = 0``) to ``dw`` in place; returns ``dw``."""
    w = _fa("l1_grad", "w", w)
    dw = _out("l1_grad", "dw", dw, w.dtype, w.shape)
    dw += w.dtype.type(l1) * np.sign(w)
    return dw


# ---------------------------------------------------------------- dropout (bit-identical RNG)

_M64 = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15


def _mix64(z):
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _uniform24(seed, offset, n):
    key = _mix64(np.uint64((seed + _GAMMA) & _M64))
    with np.errstate(over="ignore"):
        counters = np.uint64(offset & _M64) + np.arange(n, dtype=np.uint64)
        h = _mix64(key + counters * np.uint64(_GAMMA))
    return (h >> np.uint64(40)).astype(np.float64) * (1.0 / 16777216.0)


def dropout_forward(x, out, mask, rate, seed, offset=0):
    """Writes ``mask`` (0 or ``1/(1-rate)``) and ``out = x * mask``; same stream as the kernel."""
    fn = "dropout_forward"
    x = _fa(fn, "x", x)
    out = _out(fn, "out", out, x.dtype, x.shape)
    mask = _out(fn, "mask", mask, x.dtype, x.shape)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"{fn}: rate must be in [0, 1), got {rate}")
    if seed < 0 or offset < 0:
        raise ValueError(f"{fn}: seed and offset must be >= 0, got seed={seed}, offset={offset}")
    keep = _uniform24(int(seed), int(offset), x.size).reshape(x.shape) >= rate
    mask[...] = np.where(keep, x.dtype.type(1.0 / (1.0 - rate)), x.dtype.type(0))
    out[...] = x * mask
    return out


def dropout_backward(dy, mask, dx):
    """``dx = dy * mask``; returns ``dx``."""
    fn = "dropout_backward"
    dy = _fa(fn, "dy", dy)
    mask = _fa(fn, "mask", mask, dy.dtype)
    if mask.shape != dy.shape:
        raise ValueError(f"{fn}: shapes do not fit: dy{dy.shape} vs mask{mask.shape}")
    dx = _out(fn, "dx", dx, dy.dtype, dy.shape)
    dx[...] = dy * mask
    return dx


# ---------------------------------------------------------------- optimizers (Keras 3 formulas)

def _opt(fn, param, grad, **states):
    if not isinstance(param, np.ndarray):
        raise ValueError(f"{fn}: param must be a numpy array (updated in place), got {type(param).__name__}")
    if param.dtype not in _FLOATS:
        raise ValueError(f"{fn}: param must be float32 or float64, got {param.dtype}")
    _out(fn, "param", param, param.dtype, param.shape)
    grad = _fa(fn, "grad", grad, param.dtype)
    if grad.shape != param.shape:
        raise ValueError(f"{fn}: shapes do not fit: param{param.shape} vs grad{grad.shape}")
    for name, s in states.items():
        _out(fn, name, s, param.dtype, param.shape)
    return param.dtype.type, grad


def sgd_update(param, grad, lr):
    """``param -= lr * grad``."""
    dt, g = _opt("sgd_update", param, grad)
    param -= dt(lr) * g
    return param


def momentum_update(param, grad, velocity, lr, momentum):
    """``v = momentum*v - lr*g; param += v``."""
    dt, g = _opt("momentum_update", param, grad, velocity=velocity)
    velocity[...] = dt(momentum) * velocity - dt(lr) * g
    param += velocity
    return param


def nesterov_update(param, grad, velocity, lr, momentum):
    """``v = momentum*v - lr*g; param += momentum*v - lr*g``."""
    dt, g = _opt("nesterov_update", param, grad, velocity=velocity)
    velocity[...] = dt(momentum) * velocity - dt(lr) * g
    param += dt(momentum) * velocity - dt(lr) * g
    return param


def adam_update(param, grad, m, v, lr, beta_1, beta_2, epsilon, step):
    """Keras Adam: ``param -= m * lr*sqrt(1-b2**t)/(1-b1**t) / (sqrt(v) + eps)``."""
    if step < 1:
        raise ValueError(f"adam_update: step is 1-based, got {step}")
    dt, g = _opt("adam_update", param, grad, m=m, v=v)
    alpha = dt(lr * (1.0 - beta_2 ** step) ** 0.5 / (1.0 - beta_1 ** step))
    m += (g - m) * dt(1 - beta_1)
    v += (g * g - v) * dt(1 - beta_2)
    param -= m * alpha / (np.sqrt(v) + dt(epsilon))
    return param


def rmsprop_update(param, grad, velocity, lr, rho, epsilon, momentum=0.0, momentum_buffer=None):
    """Keras 3 RMSprop: ``a = rho*a + (1-rho)*g*g; inc = lr*g/sqrt(a + eps)``; momentum optional."""
    fn = "rmsprop_update"
    if momentum > 0 and momentum_buffer is None:
        raise ValueError(f"{fn}: momentum={momentum} needs a momentum_buffer")
    states = {"velocity": velocity}
    if momentum > 0:
        states["momentum_buffer"] = momentum_buffer
    dt, g = _opt(fn, param, grad, **states)
    velocity[...] = dt(rho) * velocity + dt(1 - rho) * g * g
    inc = dt(lr) * g / np.sqrt(velocity + dt(epsilon))
    if momentum > 0:
        momentum_buffer[...] = dt(momentum) * momentum_buffer + inc
        param -= momentum_buffer
    else:
        param -= inc
    return param


def adagrad_update(param, grad, accumulator, lr, epsilon):
    """Keras 3 Adagrad: ``acc += g*g; param -= lr*g/sqrt(acc + eps)``."""
    dt, g = _opt("adagrad_update", param, grad, accumulator=accumulator)
    accumulator += g * g
    param -= dt(lr) * g / np.sqrt(accumulator + dt(epsilon))
    return param


def optimizer_update(optimizer, param, grad, states=(), step=1):
    """Applies one update of the optimizer spec ``optimizer`` (``name`` and ``hyper``) to ``param``."""
    fn = "optimizer_update"
    try:
        rule = catalogue.update_of(optimizer)
    except ValueError as exc:
        raise ValueError(f"{fn}: {exc}") from None
    if step < 1:
        raise ValueError(f"{fn}: step is 1-based, got {step}")
    h = optimizer.hyper
    names = rule.state_names(h)
    s = tuple(states)
    if len(s) != len(names):
        raise ValueError(f"{fn}: the {rule.name} update needs {len(names)} state buffer(s) "
                         f"({', '.join(names) or 'none'}), got {len(s)}")
    lr = h["learning_rate"]
    if rule.name == "sgd":
        return sgd_update(param, grad, lr)
    if rule.name == "momentum":
        return momentum_update(param, grad, s[0], lr, h["momentum"])
    if rule.name == "nesterov":
        return nesterov_update(param, grad, s[0], lr, h["momentum"])
    if rule.name == "adam":
        return adam_update(param, grad, s[0], s[1], lr, h["beta_1"], h["beta_2"], h["epsilon"], step)
    if rule.name == "rmsprop":
        return rmsprop_update(param, grad, s[0], lr, h["rho"], h["epsilon"], h["momentum"],
                              s[1] if len(s) > 1 else None)
    return adagrad_update(param, grad, s[0], lr, h["epsilon"])


# ---------------------------------------------------------------- batching

def gather_rows(src, indices, out):
    """``out[r] = src[indices[r]]`` (2-D float or 1-D int64 ``src``); returns ``out``."""
    fn = "gather_rows"
    indices = _labels(fn, "indices", indices)
    if indices.ndim != 1:
        raise ValueError(f"{fn}: indices must be 1-D, got shape {indices.shape}")
    src = np.asarray(src)
    n = indices.shape[0]
    if src.ndim == 1 and src.dtype.kind in "iu":
        src = np.ascontiguousarray(src, dtype=np.int64)
        out = _out(fn, "out", out, np.int64, (n,))
    else:
        src = _fa(fn, "src", src)
        if src.ndim != 2:
            raise ValueError(f"{fn}: src must be 2-D (N, F) floats or 1-D integers, got shape {src.shape}")
        out = _out(fn, "out", out, src.dtype, (n, src.shape[1]))
    bad = np.flatnonzero((indices < 0) | (indices >= src.shape[0]))
    if bad.size:
        raise ValueError(f"{fn}: index {indices[bad[0]]} at position {bad[0]} is out of range for {src.shape[0]} rows")
    np.take(src, indices, axis=0, out=out)
    return out


# ---------------------------------------------------------------- the whole training step

def _offset_in(whole, part, what, name):
    item = whole.itemsize
    off = part.__array_interface__["data"][0] - whole.__array_interface__["data"][0]
    if off % item or not 0 <= off // item <= whole.size - part.size or not part.flags.c_contiguous:
        raise ValueError(f"DenseTrainStep: {name} must be a contiguous view into {what}")
    return off // item


class DenseTrainStep:
    """Twin of the compiled whole training step: the same work, as a sequence of this module's kernels.

    Same constructor, :meth:`run` and errors as ``mldsl.kernels.DenseTrainStep`` (see there)."""

    def __init__(self, layers, loss, optimizer, params, grads, xbuf, ybuf, count_hits=True, states=None):
        fn = "DenseTrainStep"
        if not layers:
            raise ValueError(f"{fn}: needs at least one Dense layer")
        if loss not in catalogue.LOSSES:
            raise ValueError(f"{fn}: unknown loss {loss!r}; known: {', '.join(sorted(catalogue.LOSSES))}")
        params = _fa(fn, "params", params)
        dt = params.dtype
        if params.ndim != 1:
            raise ValueError(f"{fn}: params must be flat (1-D), got shape {params.shape}")
        self.params, self.grads = params, _out(fn, "grads", grads, dt, params.shape)
        self.xbuf = _out(fn, "xbuf", xbuf, dt, xbuf.shape)
        if xbuf.ndim != 2:
            raise ValueError(f"{fn}: xbuf must be (capacity, features), got shape {xbuf.shape}")
        cap, fan_in = xbuf.shape
        self.layers = []
        for k, spec in enumerate(layers):
            name = f"layer {k}"
            W = _out(fn, f"{name} W", spec["W"], dt, spec["W"].shape)
            if W.ndim != 2 or W.shape[0] != fan_in:
                raise ValueError(f"{fn}: {name} W has shape {W.shape}; its input has {fan_in} features")
            o = W.shape[1]
            layer = dict(spec, W=W, dW=_out(fn, f"{name} dW", spec["dW"], dt, W.shape))
            w_off = _offset_in(params, W, "params", f"{name} W")
            if _offset_in(self.grads, layer["dW"], "grads", f"{name} dW") != w_off:
                raise ValueError(f"{fn}: {name} dW must sit at the same offset in grads as W in params")
            layer["segments"] = [(w_off, w_off + W.size)]
            if spec.get("b") is not None:
                b = _out(fn, f"{name} b", spec["b"], dt, (o,))
                _out(fn, f"{name} db", spec["db"], dt, (o,))
                b_off = _offset_in(params, b, "params", f"{name} b")
                if _offset_in(self.grads, spec["db"], "grads", f"{name} db") != b_off:
                    raise ValueError(f"{fn}: {name} db must sit at the same offset in grads as b in params")
                layer["segments"].append((b_off, b_off + o))
            else:
                layer["b"] = layer["db"] = None
            act, _ = _act(fn, spec.get("activation"), spec.get("alpha"))
            layer["activation"] = act
            layer["l1"] = float(spec.get("l1") or 0.0)
            layer["l2"] = float(spec.get("l2") or 0.0)
            _out(fn, f"{name} out", spec["out"], dt, (cap, o))
            _out(fn, f"{name} grad", spec["grad"], dt, (cap, o))
            if act in _NEEDS_X:
                if spec.get("z") is None:
                    raise ValueError(f"{fn}: {name}'s activation {spec.get('activation')!r} needs a z buffer")
                _out(fn, f"{name} z", spec["z"], dt, (cap, o))
            else:
                layer["z"] = None
            self.layers.append(layer)
            fan_in = o
        self.n_out = fan_in
        if catalogue.LOSSES[loss].sparse:
            self.ybuf = _out(fn, "ybuf", ybuf, np.int64, (cap,))
        else:
            self.ybuf = _out(fn, "ybuf", ybuf, dt, (cap, fan_in))
        self.loss, self.count_hits, self.capacity = loss, bool(count_hits), cap
        try:
            rule = catalogue.update_of(optimizer)
            buffers = catalogue.state_buffers(optimizer)
        except (ValueError, AttributeError, KeyError) as exc:
            raise ValueError(f"{fn}: optimizer must be an optimizer spec (name and hyper of "
                             f"mldsl.kernels.catalogue.OPTIMIZERS): {exc}") from None
        self.optimizer = optimizer
        if states is None:
            states = [np.full(params.shape, init, dt) for _, init in buffers]
        states = list(states)
        if len(states) != len(buffers):
            raise ValueError(f"{fn}: the {rule.name} update needs {len(buffers)} state buffer(s) "
                             f"({', '.join(n for n, _ in buffers) or 'none'}), got {len(states)}")
        self.states = [_out(fn, f"state {name}", s, dt, params.shape) for (name, _), s in zip(buffers, states)]

    def _update(self, lo, hi, iteration):
        optimizer_update(self.optimizer, self.params[lo:hi], self.grads[lo:hi], [a[lo:hi] for a in self.states],
                         iteration)

    def run(self, x, y, indices, iteration=1, update=True):
        """One step on the rows ``indices`` of ``x``/``y``; returns ``(loss, hits)``."""
        fn = "DenseTrainStep.run"
        indices = _labels(fn, "indices", indices)
        n = indices.shape[0] if indices.ndim == 1 else -1
        if not 0 < n <= self.capacity:
            raise ValueError(f"{fn}: indices must be 1-D with 1..{self.capacity} entries, got shape {indices.shape}")
        if update and iteration < 1:
            raise ValueError(f"{fn}: iteration is 1-based, got {iteration}")
        x = _fa(fn, "x", x, self.params.dtype)
        if x.ndim != 2 or x.shape[1] != self.xbuf.shape[1]:
            raise ValueError(f"{fn}: x has shape {x.shape}, expected (N, {self.xbuf.shape[1]})")
        y = np.asarray(y)
        if self.loss == "sparse_categorical_crossentropy":
            y = _labels(fn, "y", y)
            if y.shape != (x.shape[0],):
                raise ValueError(f"{fn}: y has shape {y.shape}, expected ({x.shape[0]},) labels")
        else:
            y = _fa(fn, "y", y, self.params.dtype)
            if y.shape != (x.shape[0], self.n_out):
                raise ValueError(f"{fn}: y has shape {y.shape}, expected ({x.shape[0]}, {self.n_out})")
        xb, yb = self.xbuf[:n], self.ybuf[:n]
        try:
            gather_rows(x, indices, xb)
            gather_rows(y, indices, yb)
        except ValueError as exc:
            raise ValueError(str(exc).replace("gather_rows", fn)) from None
        h = xb
        for L in self.layers:
            z = None if L["z"] is None else L["z"][:n]
            h = dense_forward(h, L["W"], L["b"], L["out"][:n], L["activation"], z, L["alpha"])
        g = self.layers[-1]["grad"][:n]
        if self.loss == "mse":
            loss = mse(h, yb, g)
            if not self.count_hits:
                hits = 0.0
            elif self.n_out == 1:
                hits = float(np.equal(h, yb).mean(axis=1).sum())
            else:
                hits = float(count_correct(h, yb))
        else:
            if self.loss == "sparse_categorical_crossentropy" and (yb.min() < 0 or yb.max() >= self.n_out):
                bad = int(np.flatnonzero((yb < 0) | (yb >= self.n_out))[0])
                raise ValueError(f"{fn}: label {yb[bad]} at batch position {bad} is out of range for "
                                 f"{self.n_out} classes")
            loss = softmax_cross_entropy(h, yb, g)
            hits = float(count_correct(h, yb)) if self.count_hits else 0.0
        loss += sum(l2_penalty(L["W"], L["l2"]) for L in self.layers if L["l2"])
        loss += sum(l1_penalty(L["W"], L["l1"]) for L in self.layers if L["l1"])
        for k in range(len(self.layers) - 1, -1, -1):
            L = self.layers[k]
            x_in = self.layers[k - 1]["out"][:n] if k else xb
            dx = self.layers[k - 1]["grad"][:n] if k else None
            z = None if L["z"] is None else L["z"][:n]
            dense_backward(x_in, L["W"], L["grad"][:n], L["dW"], L["db"], dx, L["activation"], L["out"][:n], z,
                           L["alpha"])
            if L["l2"]:
                l2_grad(L["W"], L["dW"], L["l2"])
            if L["l1"]:
                l1_grad(L["W"], L["dW"], L["l1"])
            if update:
                for lo, hi in L["segments"]:
                    self._update(lo, hi, iteration)
        return float(loss), hits
