"""Time zones, the rule with the most edge cases (cron syntax: test_crons.py)."""

from __future__ import annotations

import pytest

from controller.registry import rules


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("UTC", True),
        ("Etc/UTC", True),
        ("Europe/London", True),
        ("America/Argentina/Buenos_Aires", True),
        ("europe/london", False),
        ("GMT+1", False),
        ("localtime", False),
        ("Mars/Olympus_Mons", False),
    ],
)
def test_time_zones(name: str, valid: bool) -> None:
    assert (rules.time_zone_problem(name) == "") is valid
