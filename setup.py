"""Builds mldsl's compiled kernels (``kernels/*.pyx`` -> ``mldsl.kernels``).

All metadata lives in ``pyproject.toml``; this file only declares the Cython extensions.
Set ``MLDSL_DEBUG_KERNELS=1`` at build time to compile with bounds checks and
wraparound on (a slower build the CI runs the kernel tests under). A debug build defines the C
macro ``MLDSL_DEBUG_KERNELS`` (each module reports it as ``DEBUG_BUILD``) and writes its generated
C to ``MLDSL_CYTHON_BUILD_DIR`` (default ``build/cython-debug``), never over ``kernels/*.c``;
``.ci/kernels-debug`` builds one into a temp dir with ``build_ext --build-lib``.
"""
import os
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).parent
DEBUG = os.environ.get("MLDSL_DEBUG_KERNELS", "") not in ("", "0")

directives = {
    "language_level": "3",
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": not DEBUG,
    "embedsignature": True,
}

extensions = [
    Extension(
        f"mldsl.kernels.{pyx.stem}",
        [f"kernels/{pyx.name}"],
        include_dirs=[numpy.get_include(), "kernels"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
        + ([("MLDSL_DEBUG_KERNELS", "1")] if DEBUG else []),
        extra_compile_args=["-O0", "-g"] if DEBUG else ["-O3"],
    )
    for pyx in sorted((HERE / "kernels").glob("*.pyx"))
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives=directives,
        include_path=["kernels"],
        build_dir=(os.environ.get("MLDSL_CYTHON_BUILD_DIR") or "build/cython-debug") if DEBUG else None,
    )
)
