"""Benchmarks, run with `make bench` (or `python -m benchmarks [--quick]`): enqueueing, the task
endpoint, reconciling at scale and convergence latency, side by side with django-gcp.

Every measured client runs in its own process, apart from the emulators it talks to. Results are
medians and ratios from one run; the table goes to stdout and everything to `.bench/results.json`.
"""
