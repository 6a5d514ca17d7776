"""Benchmarks that print figures: Firestore operations, latency percentiles, import time.

Run with ``make bench``; each prints one table and writes its figures to
``bench/results/<name>.json``, the log lines of what it ran to ``bench/results/logs/``.
"""
