# Counter-based random numbers (SplitMix64 finaliser over seed-keyed counters): element ``k`` of
# a draw with (seed, offset) depends only on (seed, offset + k), so draws are deterministic,
# need no state, run without the GIL, and the NumPy twin reproduces them bit for bit.

cdef inline uint64_t _mix64(uint64_t z) noexcept nogil:
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline uint64_t _rng_key(uint64_t seed) noexcept nogil:
    return _mix64(seed + <uint64_t>0x9E3779B97F4A7C15ULL)


cdef inline double _uniform24(uint64_t key, uint64_t counter) noexcept nogil:
    """Uniform in [0, 1) with 24 random bits (exact in float32 and float64)."""
    return <double>(_mix64(key + counter * <uint64_t>0x9E3779B97F4A7C15ULL) >> 40) * (1.0 / 16777216.0)
