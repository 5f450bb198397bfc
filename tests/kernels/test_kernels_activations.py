"""Activation kernels: forward/backward against the NumPy twin and closed forms, FD gradients."""
import math

import numpy as np
import pytest
from kernels_testutil import away_from_kinks, load_impl, numgrad, rand

from mldsl.kernels import catalogue

NAMES = list(catalogue.ACTIVATIONS)
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946  # TensorFlow's


def _closed_form(name, x):
    x = x.astype(np.float64)
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "leaky_relu":
        return np.where(x > 0, x, 0.2 * x)
    if name == "elu":
        return np.where(x > 0, x, np.exp(np.minimum(x, 0)) - 1)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "softmax":
        e = np.exp(x - x.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)
    if name == "gelu":
        return np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.ravel()]).reshape(x.shape)
    if name == "gelu_tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    if name == "swish":
        return x / (1 + np.exp(-x))
    if name == "selu":
        return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(np.minimum(x, 0)) - 1))
    if name == "softplus":
        return np.log1p(np.exp(x))
    raise AssertionError(name)


def test_every_activation_has_a_closed_form_here():
    """Adding an activation to the catalogue makes every parametrised test here cover it."""
    x = np.linspace(-2, 2, 5)
    for name in NAMES:
        assert _closed_form(name, x).shape == x.shape


@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_closed_form(K, dtype, tol, name):
    x = rand((6, 7), dtype, seed=1, scale=2.0)
    out = np.empty_like(x)
    assert K.activation_forward(name, x, out) is out
    np.testing.assert_allclose(out, _closed_form(name, x), **tol)
    out2 = np.empty_like(x)
    getattr(K, f"{name}_forward")(x, out2)
    np.testing.assert_array_equal(out, out2)


@pytest.mark.parametrize("name", NAMES)
def test_cython_and_twin_agree(dtype, tol, name):
    C, N = load_impl("cython"), load_impl("numpy")
    x = rand((5, 9), dtype, seed=2, scale=3.0)
    dy = rand((5, 9), dtype, seed=3)
    ys = [K.activation_forward(name, x, np.empty_like(x)) for K in (C, N)]
    np.testing.assert_allclose(ys[0], ys[1], **tol)
    dxs = [K.activation_backward(name, x, ys[0], dy, np.empty_like(x)) for K in (C, N)]
    np.testing.assert_allclose(dxs[0], dxs[1], **tol)


@pytest.mark.parametrize("name", NAMES)
def test_backward_finite_differences(K, name):
    x = away_from_kinks(rand((3, 5), np.float64, seed=4, scale=1.5))
    r = rand((3, 5), np.float64, seed=5)          # loss = sum(r * f(x)) -> dL/dy = r
    y = np.empty_like(x)

    def loss():
        K.activation_forward(name, x, y)
        return float((r * y).sum())

    expected = numgrad(loss, x)
    K.activation_forward(name, x, y)
    dx = K.activation_backward(name, x, y, r.copy(), np.empty_like(x))
    np.testing.assert_allclose(dx, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["leaky_relu", "elu"])
def test_alpha_parameter(K, dtype, tol, name):
    x = rand((4, 4), dtype, seed=6)
    out = K.activation_forward(name, x, np.empty_like(x), alpha=0.5)
    neg = x <= 0
    expected = 0.5 * x if name == "leaky_relu" else 0.5 * (np.exp(x.astype(np.float64)) - 1)
    np.testing.assert_allclose(out[neg], expected[neg], **tol)
    dx = getattr(K, f"{name}_backward")(x, out, np.ones_like(x), np.empty_like(x), alpha=0.5)
    exp_d = 0.5 if name == "leaky_relu" else 0.5 * np.exp(x.astype(np.float64))
    np.testing.assert_allclose(dx[neg], np.broadcast_to(exp_d, x.shape)[neg], **tol)
    with pytest.raises(ValueError, match="alpha"):
        K.activation_forward(name, x, np.empty_like(x), alpha=-1.0)


@pytest.mark.parametrize("name", NAMES)
def test_in_place_and_any_shape(K, dtype, tol, name):
    x = rand((2, 3, 4), dtype, seed=7)
    expected = K.activation_forward(name, x, np.empty_like(x))
    y = x.copy()
    K.activation_forward(name, y, y)
    np.testing.assert_allclose(y, expected, **tol)
    dy = rand((2, 3, 4), dtype, seed=8)
    want = K.activation_backward(name, x, expected, dy, np.empty_like(x))
    K.activation_backward(name, x, expected, dy, dy)
    np.testing.assert_allclose(dy, want, **tol)
    v = rand((5,), dtype, seed=9)   # 1-D works too (softmax over the only axis)
    np.testing.assert_allclose(K.activation_forward(name, v, np.empty_like(v)), _closed_form(name, v), **tol)


def test_extreme_inputs_do_not_overflow(K, dtype):
    x = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]], dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for name in ("sigmoid", "softmax", "tanh", "elu", "swish", "selu", "softplus"):
            y = K.activation_forward(name, x, np.empty_like(x))
            assert np.all(np.isfinite(y)), (name, y)
    s = K.activation_forward("softmax", x, np.empty_like(x))
    np.testing.assert_allclose(s.sum(), 1.0, rtol=1e-6)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "sigmoid", "tanh", "gelu", "swish", "softmax",
                                  "selu", "softplus"])
def test_nan_propagates(K, name):
    x = np.array([[np.nan, 1.0, -1.0]])
    assert np.isnan(K.activation_forward(name, x, np.empty_like(x))[0, 0])


def test_unknown_activation_lists_known(K):
    x = np.zeros((2, 2))
    with pytest.raises(ValueError, match="unknown activation 'rleu'.*relu"):
        K.activation_forward("rleu", x, np.empty_like(x))


def test_gelu_and_swish_backward_need_x(K):
    x = np.ones((2, 2))
    with pytest.raises(ValueError):
        K.activation_backward("gelu", None, x, x, np.empty_like(x))


def test_selu_and_softplus_extremes_and_derivatives(K, dtype, tol):
    """SELU: ``scale`` on the positive side, ``scale * alpha * exp(x)`` on the negative one (the output
    picks the branch, as TensorFlow's SeluGrad does); softplus: no overflow, ``sigmoid(x)`` as its derivative,
    ``x`` for large x and ``exp(x)`` for very negative x."""
    x = np.array([[-30.0, -1.0, -1e-3, 1e-3, 2.0, 40.0]], dtype)
    y = K.selu_forward(x, np.empty_like(x))
    dx = K.selu_backward(x, y, np.ones_like(x), np.empty_like(x))
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(dx, np.where(x64 > 0, SELU_SCALE, SELU_SCALE * SELU_ALPHA * np.exp(x64)), **tol)
    assert y[0, 0] == pytest.approx(-SELU_SCALE * SELU_ALPHA, rel=1e-6)
    big = np.array([[-200.0, -40.0, 0.0, 40.0, 200.0]], dtype)
    with np.errstate(over="raise", invalid="raise"):
        s = K.softplus_forward(big, np.empty_like(big))
    np.testing.assert_allclose(s[0, 3:], big[0, 3:], rtol=1e-6)
    assert s[0, 2] == pytest.approx(np.log(2), rel=1e-6) and 0 <= s[0, 0] < 1e-30
    d = K.softplus_backward(big, s, np.ones_like(big), np.empty_like(big))
    np.testing.assert_allclose(d, 1 / (1 + np.exp(-big.astype(np.float64))), rtol=1e-5, atol=1e-30)
