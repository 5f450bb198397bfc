"""Which kernel build and which BLAS ``mldsl.kernels`` uses: the x86-64-v3 build where the CPU has it,
the portable one otherwise or on request; scipy-openblas32's OpenBLAS, else SciPy's BLAS; clear errors
for requests that cannot be met."""
import os
import platform
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mldsl.kernels as K

V3 = K.VARIANTS["x86_64_v3"]
ALL_V3 = {f: True for f in V3}


def _python(code, **env):
    """Runs ``code`` in a fresh interpreter with extra environment; returns the CompletedProcess."""
    full = {k: v for k, v in os.environ.items() if k not in ("MLDSL_BLAS", "MLDSL_KERNELS_ISA")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=full)


@pytest.mark.parametrize("requested", ["", "auto", "AUTO"])
def test_auto_picks_the_best_build_the_cpu_can_run(requested):
    assert K.choose_variant(requested, ALL_V3, ["x86_64_v3"]) == "x86_64_v3"
    assert K.choose_variant(requested, {**ALL_V3, "AVX2": False}, ["x86_64_v3"]) == ""    # CPU too old
    assert K.choose_variant(requested, ALL_V3, []) == ""                                   # not built


def test_baseline_on_request_and_errors_that_say_what_to_do():
    assert K.choose_variant("baseline", ALL_V3, ["x86_64_v3"]) == ""
    assert K.choose_variant("x86_64_v3", ALL_V3, ["x86_64_v3"]) == "x86_64_v3"
    with pytest.raises(ImportError, match=r"MLDSL_KERNELS_ISA='avx9' is not a kernel build; use one of: auto, "
                                          r"baseline, x86_64_v3"):
        K.choose_variant("avx9", ALL_V3, ["x86_64_v3"])
    with pytest.raises(ImportError, match=r"this CPU lacks AVX2, FMA3; unset MLDSL_KERNELS_ISA"):
        K.choose_variant("x86_64_v3", {**ALL_V3, "AVX2": False, "FMA3": False}, ["x86_64_v3"])
    with pytest.raises(ImportError, match=r"the kernels were not built for it"):
        K.choose_variant("x86_64_v3", ALL_V3, [])


@pytest.mark.skipif(bool(os.environ.get("MLDSL_KERNELS_PATH")), reason="a debug build has no variants")
def test_the_install_builds_and_serves_the_v3_kernels_on_x86_64():
    if platform.machine().lower() not in ("x86_64", "amd64"):
        assert K.built_variants() == [] and K.variant() == "baseline"
        return
    assert K.built_variants() == ["x86_64_v3"]
    expected = "x86_64_v3" if all(K.cpu_features().get(f) for f in V3) else "baseline"
    assert K.variant() == expected
    assert K.module("dense").__name__ == ("mldsl.kernels.x86_64_v3.dense" if expected != "baseline"
                                          else "mldsl.kernels.dense")


def test_baseline_can_be_forced_and_gives_the_same_results():
    code = """
        import numpy as np, mldsl.kernels as K
        rng = np.random.default_rng(0)
        x, w = rng.random((50, 40), dtype=np.float32), rng.random((40, 30), dtype=np.float32)
        out = np.empty((50, 30), np.float32)
        K.dense_forward(x, w, None, out, "gelu")
        print(K.variant(), K.module("dense").__name__, float(out.sum()))
    """
    forced = _python(code, MLDSL_KERNELS_ISA="baseline")
    assert forced.returncode == 0, forced.stderr
    isa, name, total = forced.stdout.split()
    assert (isa, name) == ("baseline", "mldsl.kernels.dense")
    default = _python(code)
    assert default.returncode == 0, default.stderr
    assert float(default.stdout.split()[2]) == pytest.approx(float(total), rel=1e-5)


def test_an_unknown_isa_request_is_a_clear_import_error():
    r = _python("import mldsl.kernels as K; K.dense_forward", MLDSL_KERNELS_ISA="sse9")
    assert r.returncode != 0
    assert "MLDSL_KERNELS_ISA='sse9' is not a kernel build" in r.stderr


# ---------------------------------------------------------------- BLAS
def test_the_kernels_call_scipy_openblas32_by_default():
    """scipy-openblas32 is a dependency, so a normal install runs on it (not on the fallback)."""
    if os.environ.get("MLDSL_BLAS"):
        pytest.skip("MLDSL_BLAS is set for this run")
    info = K.build_info()["blas"]
    assert info["name"] == "openblas", info
    assert os.path.exists(info["library"]) and "fallback_reason" not in info


def test_scipy_blas_on_request_gives_the_same_products():
    code = """
        import numpy as np, mldsl.kernels as K
        rng = np.random.default_rng(0)
        a, b = rng.random((64, 48)), rng.random((48, 32))
        out = np.empty((64, 32))
        K.matmul(a, b, out)
        print(K.build_info()["blas"]["name"], repr(float(np.abs(out - a @ b).max())))
    """
    for choice in ("scipy", "openblas"):
        r = _python(code, MLDSL_BLAS=choice)
        assert r.returncode == 0, r.stderr
        name, err = r.stdout.split()
        assert name == choice and float(err) < 1e-12


@pytest.fixture
def broken_openblas(tmp_path):
    """A ``scipy_openblas32`` that fails to import, ahead of the real one on the path."""
    (tmp_path / "scipy_openblas32.py").write_text("raise ImportError('simulated broken wheel')\n")
    return {"PYTHONPATH": str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_auto_falls_back_to_scipy_when_openblas_cannot_load(broken_openblas):
    r = _python("""
        import numpy as np, mldsl.kernels as K
        out = K.matmul(np.eye(3), np.arange(9.0).reshape(3, 3), np.empty((3, 3)))
        info = K.build_info()["blas"]
        print(info["name"], info["fallback_reason"], out[2, 2])
    """, **broken_openblas)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "scipy" and "simulated broken wheel" in r.stdout
    assert r.stdout.split()[-1] == "8.0"


def test_requiring_openblas_that_cannot_load_is_a_clear_error(broken_openblas):
    r = _python("import mldsl.kernels as K; K.dense_forward", MLDSL_BLAS="openblas", **broken_openblas)
    assert r.returncode != 0
    assert "MLDSL_BLAS=openblas but scipy-openblas32 cannot be loaded (simulated broken wheel)" in r.stderr
    assert "pip install scipy-openblas32" in r.stderr


def test_an_unknown_blas_request_is_a_clear_error():
    r = _python("import mldsl.kernels as K; K.dense_forward", MLDSL_BLAS="mkl")
    assert r.returncode != 0 and "MLDSL_BLAS='mkl' is not a BLAS choice; use one of: auto, openblas, scipy" in r.stderr


def test_the_native_backend_reports_an_unusable_kernel_build():
    r = _python("""
        from mldsl.backends.native.backend import NativeBackend
        print(NativeBackend().available())
    """, MLDSL_KERNELS_ISA="sse9")
    assert r.returncode == 0, r.stderr
    assert "compiled kernels cannot be imported" in r.stdout and "sse9" in r.stdout
