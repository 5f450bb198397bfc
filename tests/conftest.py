"""Suite-wide test settings.

Hypothesis: no per-example deadline anywhere (these machines are shared and timing is noisy), and on CI
(``CI`` set) a derandomized profile, so a CI run is reproducible; developers' runs keep exploring new
examples. ``HYPOTHESIS_PROFILE=dev|ci`` picks one explicitly.
"""
import os

from hypothesis import settings

settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
