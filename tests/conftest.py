"""Suite-wide test settings.

Hypothesis: no per-example deadline anywhere (these machines are shared and timing is noisy), and on CI
(``CI`` set) a derandomized profile, so a CI run is reproducible; developers' runs keep exploring new
examples. ``HYPOTHESIS_PROFILE=dev|ci`` picks one explicitly. ``MLDSL_SGEMM`` is ``own`` unless set.
"""
import os

from hypothesis import settings

# The kernels' own sgemm, as the tests that compare it with BLAS expect, without measuring which is faster
# (and writing the per-user cache) in every test process; tests/kernels/test_kernels_sgemm_choice.py
# tests the measurement and its cache.
os.environ.setdefault("MLDSL_SGEMM", "own")

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
