"""Smoke: callgrind counts the app scope's requests only, and more for the verified endpoint than
for the bare view. No exact count is asserted (it depends on the Python and library builds)."""

from __future__ import annotations

import pytest

from benchmarks import endpoints, instructions


@pytest.mark.timeout(300)
def test_the_verified_endpoint_counts_more_than_the_bare_view() -> None:
    bare = instructions.count_app("bare", requests=3)
    verified = instructions.count_app("endpoint", requests=3)
    # The app alone: a request of the bare view is some hundred thousand instructions, not the
    # tens of millions Django's start would be if collection were on from the start.
    assert 100_000 < bare < verified < 5_000_000


@pytest.mark.parametrize(
    ("profile", "total"),
    [
        ("events: Ir\nsummary: 1234\n", 1234),
        ("events: Ir\nfn=(1) main\n0 5\ntotals: 98765\n", 98765),
    ],
)
def test_the_total_is_read_from_the_profile(profile: str, total: int) -> None:
    assert instructions._total(profile) == total


def test_a_profile_without_totals_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no totals"):
        instructions._total("events: Ir\n")


def test_the_table_has_a_row_per_endpoint_variant() -> None:
    server = {variant: 1000.0 * (index + 1) for index, variant in enumerate(endpoints.VARIANTS)}
    app = {"bare": 500.0, "endpoint": 1000.0}
    table = instructions._table(server, app, requests=10)
    rows = {row[0]: row[1:] for row in table.rows}
    assert rows[endpoints.LABELS["endpoint"]] == ("2", "2.00x", "1", "2.00x")
    assert rows[endpoints.LABELS["django-gcp"]][2:] == ("-", "-")
