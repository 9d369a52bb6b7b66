"""Benchmark harness for sygesikring-tui (not timed tests): ``python -m bench``."""
