"""Summaries of measured samples: medians, 95th percentiles and ratios, never single times."""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence


@dataclasses.dataclass(frozen=True)
class Summary:
    """The shape of one set of samples (seconds, or whatever unit they were taken in)."""

    count: int
    median: float
    p95: float
    minimum: float
    maximum: float

    def as_dict(self, scale: float = 1.0) -> dict[str, float | int]:
        return {
            "count": self.count,
            "median": self.median * scale,
            "p95": self.p95 * scale,
            "min": self.minimum * scale,
            "max": self.maximum * scale,
        }


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile (0..1) with linear interpolation between the nearest ranks."""
    if not values:
        raise ValueError("no samples")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be within 0..1, not {fraction}")
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(values: Sequence[float]) -> Summary:
    if not values:
        raise ValueError("no samples")
    return Summary(
        count=len(values),
        median=statistics.median(values),
        p95=percentile(values, 0.95),
        minimum=min(values),
        maximum=max(values),
    )


def median_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """The median of the pairwise ratios: rounds measured side by side share the machine's mood."""
    if len(numerators) != len(denominators) or not numerators:
        raise ValueError("ratios need pairs of samples")
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))
