"""Google's JSON duration strings."""

from __future__ import annotations

import pytest

from controller.registry import durations


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0s", 0.0), ("180s", 180.0), ("0.5s", 0.5), ("1.25s", 1.25), ("3.000000001s", 3.000000001)],
)
def test_parse_and_format_round_trip(text: str, seconds: float) -> None:
    assert durations.parse(text) == seconds
    assert durations.format(seconds) == text


@pytest.mark.parametrize(("seconds", "text"), [(180, "180s"), (0.1, "0.1s"), (604800.0, "604800s")])
def test_format_is_the_shortest_exact_form(seconds: float, text: str) -> None:
    assert durations.format(seconds) == text


@pytest.mark.parametrize("text", ["180", "3m", "-1s", "1.0000000001s", " 1s", "s", ".5s"])
def test_parse_rejects_other_forms(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration like '180s'"):
        durations.parse(text)
