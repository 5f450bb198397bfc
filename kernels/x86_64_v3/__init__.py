"""The kernel modules built for x86-64-v3 (AVX2, FMA): same sources as ``mldsl.kernels``' portable
modules, other compiler flags. Import kernels through :mod:`mldsl.kernels`, which picks this build only
when the CPU supports it."""
