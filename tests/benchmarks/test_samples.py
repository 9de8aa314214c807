"""Medians, percentiles and ratios of benchmark samples."""

from __future__ import annotations

import pytest

from benchmarks import samples


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([5.0], 0.95, 5.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0], 0.0, 1.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0], 0.5, 3.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0], 1.0, 5.0),
        ([5.0, 1.0, 4.0, 2.0, 3.0], 0.25, 2.0),
        ([0.0, 10.0], 0.95, 9.5),
        (list(map(float, range(101))), 0.95, 95.0),
    ],
)
def test_percentile_interpolates_between_ranks(
    values: list[float], fraction: float, expected: float
) -> None:
    assert samples.percentile(values, fraction) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("values", "fraction", "message"),
    [([], 0.5, "no samples"), ([1.0], 1.5, "within 0..1"), ([1.0], -0.1, "within 0..1")],
)
def test_percentile_refuses_bad_input(values: list[float], fraction: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        samples.percentile(values, fraction)


def test_summarize_reports_count_median_p95_and_extremes() -> None:
    summary = samples.summarize([4.0, 1.0, 3.0, 2.0])
    assert summary == samples.Summary(
        count=4, median=2.5, p95=pytest.approx(3.85), minimum=1.0, maximum=4.0
    )
    assert summary.as_dict(scale=1000) == {
        "count": 4,
        "median": 2500.0,
        "p95": pytest.approx(3850.0),
        "min": 1000.0,
        "max": 4000.0,
    }


@pytest.mark.parametrize(
    ("numerators", "denominators", "expected"),
    [
        ([2.0], [1.0], 2.0),
        ([1.1, 1.2, 5.0], [1.0, 1.0, 1.0], 1.2),
        ([2.0, 4.0], [1.0, 2.0], 2.0),
    ],
)
def test_median_ratio_pairs_rounds(
    numerators: list[float], denominators: list[float], expected: float
) -> None:
    assert samples.median_ratio(numerators, denominators) == pytest.approx(expected)


@pytest.mark.parametrize(("numerators", "denominators"), [([], []), ([1.0], [1.0, 2.0])])
def test_median_ratio_needs_pairs(numerators: list[float], denominators: list[float]) -> None:
    with pytest.raises(ValueError, match="pairs"):
        samples.median_ratio(numerators, denominators)
