"""Fixtures for the kernel tests: every case runs over {cython, numpy twin} x {float32, float64}.

``MLDSL_KERNELS_PATH=<build-lib>`` points ``mldsl.kernels`` at another build (``.ci/kernels-debug``
builds a bounds-checked copy into a temp dir); ``MLDSL_KERNELS_EXPECT_DEBUG=1`` makes the run fail
unless the modules really come from a debug build there.
"""
import os

import numpy as np
import pytest
from kernels_testutil import IMPLS, load_impl


@pytest.fixture(params=IMPLS)
def K(request):
    return load_impl(request.param)


@pytest.fixture(params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request):
    return request.param


@pytest.fixture
def tol(dtype):
    """assert_allclose keyword arguments suited to the dtype."""
    return dict(rtol=2e-4, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


@pytest.fixture(scope="session", autouse=True)
def _kernels_build_in_use():
    from mldsl.kernels import dense
    path = os.environ.get("MLDSL_KERNELS_PATH")
    if path:
        assert os.path.realpath(dense.__file__).startswith(os.path.realpath(path)), (
            f"MLDSL_KERNELS_PATH={path} but mldsl.kernels.dense came from {dense.__file__}")
    if os.environ.get("MLDSL_KERNELS_EXPECT_DEBUG", "") not in ("", "0"):
        assert dense.DEBUG_BUILD, f"{dense.__file__} is not a debug build"
    yield
