"""Argument handling shared by every kernel: clear ValueErrors, copies of non-contiguous inputs,
identical signatures for kernels and twins, and the compiled modules really are compiled."""
import inspect

import numpy as np
import pytest
from kernels_testutil import load_impl

import mldsl.kernels as CK


def _signatures(obj):
    """A kernel function's signature; for a kernel class (DenseTrainStep), its constructor's (the first
    line Cython embeds in the compiled class's docstring) and its ``run`` method's."""
    if not isinstance(obj, type):
        return str(inspect.signature(obj))
    ctor = obj.__doc__.splitlines()[0] if "(" in obj.__doc__.splitlines()[0] else \
        f"{obj.__name__}{inspect.signature(obj)}"
    return ctor, str(inspect.signature(obj.run))


def test_every_kernel_has_a_twin_with_the_same_signature():
    R = load_impl("numpy")
    for name in CK.__all__:
        assert hasattr(R, name), f"no NumPy twin for {name}"
        assert _signatures(getattr(CK, name)) == _signatures(getattr(R, name)), name
        assert getattr(CK, name).__doc__, f"{name} has no docstring"


def test_modules_are_compiled():
    import importlib
    for mod in CK.MODULES:
        m = importlib.import_module(f"mldsl.kernels.{mod}")
        assert m.__file__.endswith((".so", ".pyd")), m.__file__


def test_dense_shape_mismatch_names_shapes(K):
    x, w = np.ones((4, 3)), np.ones((5, 2))
    with pytest.raises(ValueError, match=r"dense_forward: shapes do not fit: x\(4, 3\) @ w\(5, 2\)"):
        K.dense_forward(x, w, np.ones(2), np.empty((4, 2)))
    with pytest.raises(ValueError, match=r"b\(3,\)"):
        K.dense_forward(x, np.ones((3, 2)), np.ones(3), np.empty((4, 2)))
    with pytest.raises(ValueError, match=r"output out has shape \(2, 4\), expected \(4, 2\)"):
        K.dense_forward(x, np.ones((3, 2)), np.ones(2), np.empty((2, 4)))
    with pytest.raises(ValueError, match=r"dy\(4, 3\)"):
        K.dense_backward(x, np.ones((3, 2)), np.ones((4, 3)), np.empty((3, 2)), None)
    with pytest.raises(ValueError, match=r"output dx has shape"):
        K.dense_backward(x, np.ones((3, 2)), np.ones((4, 2)), np.empty((3, 2)), None, np.empty((3, 4)))


def test_dtype_problems(K):
    x = np.ones((2, 2))
    with pytest.raises(ValueError, match="w has dtype float32 but the kernel works in float64"):
        K.dense_forward(x, np.ones((2, 2), np.float32), None, np.empty((2, 2)))
    with pytest.raises(ValueError, match="must be float32 or float64, got int64"):
        K.relu_forward(np.ones((2, 2), np.int64), np.empty((2, 2)))
    with pytest.raises(ValueError, match="output out has dtype float32, expected float64"):
        K.relu_forward(x, np.empty((2, 2), np.float32))
    with pytest.raises(ValueError, match="x is required"):
        K.dense_forward(None, x, None, np.empty((2, 2)))


def test_non_contiguous_inputs_are_copied(K, dtype, tol):
    rng = np.random.default_rng(0)
    xb = rng.standard_normal((8, 12)).astype(dtype)
    wb = rng.standard_normal((12, 5)).astype(dtype)
    x, w = xb[::2, ::2], wb[::2, :]                   # strided views (4, 6) and (6, 5)
    assert not x.flags.c_contiguous and not w.flags.c_contiguous
    out = K.dense_forward(x, w, None, np.empty((4, 5), dtype), "relu")
    np.testing.assert_allclose(out, np.maximum(x.astype(np.float64) @ w, 0), **tol)
    dy = rng.standard_normal((5, 4)).astype(dtype).T            # Fortran-ordered dy
    dw, dx = np.empty((6, 5), dtype), np.empty((4, 6), dtype)
    K.dense_backward(x, w, dy, dw, None, dx)
    np.testing.assert_allclose(dw, x.T.astype(np.float64) @ dy, **tol)
    lg = rng.standard_normal((5, 6)).astype(dtype)[:, ::2]
    assert K.softmax_cross_entropy(lg, np.array([0, 1, 2, 0, 1])) == pytest.approx(
        K.softmax_cross_entropy(np.ascontiguousarray(lg), np.array([0, 1, 2, 0, 1])))
    g = rng.standard_normal(10).astype(dtype)[::2]
    p = np.zeros(5, dtype)
    K.sgd_update(p, g, 1.0)
    np.testing.assert_allclose(p, -g, **tol)


def test_non_contiguous_or_readonly_outputs_are_refused(K):
    x = np.ones((4, 4))
    with pytest.raises(ValueError, match="must be C-contiguous"):
        K.relu_forward(x, np.empty((4, 8))[:, ::2])
    ro = np.empty((4, 4))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        K.relu_forward(x, ro)
    with pytest.raises(ValueError, match="must be C-contiguous"):
        K.sgd_update(np.zeros((4, 4)).T[::2], np.zeros((2, 4)), 0.1)


def test_plain_lists_are_accepted_as_inputs(K):
    out = np.empty((1, 3))
    K.relu_forward([[-1.0, 0.0, 2.0]], out)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 2.0]])
