"""Benchmarks that print figures: Firestore operations, latency percentiles, import time.

Run with ``make bench``; each writes its figures to ``bench/results/<name>.json``.
"""
