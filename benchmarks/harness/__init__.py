"""The benchmark harness behind ``benchmarks/run.py``: rows, fixtures, measurement, report."""
