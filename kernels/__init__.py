"""Compiled kernels (Cython). Each module here has a plain NumPy twin in ``mldsl.backends.reference``."""
