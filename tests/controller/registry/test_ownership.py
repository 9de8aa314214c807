"""The ownership marks, pinned to the letter: resources already in the cloud carry them."""

from __future__ import annotations

import pytest

from controller.registry import ownership


def test_labels() -> None:
    assert ownership.labels("shop") == {
        "managed-by": "gcp-tasks-controller",
        "gcptasks-owner": "shop",
    }
    assert {"managed-by", "gcptasks-owner"} == ownership.LABELS


@pytest.mark.parametrize(
    ("stored", "own", "owner"),
    [
        ({}, {}, None),
        ({"team": "a"}, {"team": "a"}, None),
        ({"gcptasks-owner": "shop"}, {"gcptasks-owner": "shop"}, None),
        (
            {"managed-by": "someone-else", "gcptasks-owner": "shop"},
            {"managed-by": "someone-else", "gcptasks-owner": "shop"},
            None,
        ),
        (
            {"managed-by": "gcp-tasks-controller", "gcptasks-owner": "shop", "team": "a"},
            {"team": "a"},
            "shop",
        ),
        (
            {"managed-by": "gcp-tasks-controller", "gcptasks-owner": ""},
            {"managed-by": "gcp-tasks-controller", "gcptasks-owner": ""},
            None,
        ),
    ],
)
def test_split_labels(stored: dict[str, str], own: dict[str, str], owner: str | None) -> None:
    assert ownership.split_labels(stored) == (own, owner)


@pytest.mark.parametrize(
    ("description", "owner", "stored"),
    [
        ("", "shop", "[gcptasks.dev/owner=shop]"),
        ("Nightly clean-up", "shop", "Nightly clean-up [gcptasks.dev/owner=shop]"),
        ("has [brackets]", "a-b_c", "has [brackets] [gcptasks.dev/owner=a-b_c]"),
    ],
)
def test_marker_round_trip(description: str, owner: str, stored: str) -> None:
    assert ownership.describe(description, owner) == stored
    assert ownership.split_description(stored) == (description, owner)
    assert stored.endswith(ownership.marker(owner))


@pytest.mark.parametrize(
    "stored",
    ["", "hand-made", "[gcptasks.dev/owner=shop] then more", "[gcptasks.dev/owner=]"],
)
def test_descriptions_without_a_trailing_marker_are_not_ours(stored: str) -> None:
    assert ownership.split_description(stored) == (stored, None)
