"""A results document as `python -m benchmarks` writes it, small enough to read in a test."""

from __future__ import annotations

import dataclasses
from typing import Any

from benchmarks import results


def reconcile_sizes(**sizes: tuple[float, float, float]) -> dict[str, Any]:
    """`n100=(seconds, cpu_seconds, peak_rss_mb)`: the reconcile data of those sizes."""
    return {
        name.removeprefix("n"): {
            "controller": {
                "no_drift": {"median_seconds": seconds, "median_cpu_seconds": cpu},
                "peak_rss_mb": rss,
            }
        }
        for name, (seconds, cpu, rss) in sizes.items()
    }


def document(
    benchmarks: dict[str, dict[str, Any]], targets: tuple[results.Target, ...] = ()
) -> dict[str, Any]:
    return {
        "profile": {"name": "full"},
        "started": "2026-01-02T03:04:05+00:00",
        "machine": {
            "nproc": 2,
            "cpu_model": "AMD EPYC",
            "python": "3.11.7",
            "load_average": [1.25, 1.0, 1.0],
            "load_average_after": [1.5, 1.0, 1.0],
        },
        "benchmarks": benchmarks,
        "targets": [dataclasses.asdict(target) for target in targets],
    }
