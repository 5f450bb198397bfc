"""Benchmarks: ``python -m mldsl.bench.<name>`` (each module documents what it measures)."""
