"""Planning policies: safe defaults, and a ratio that must be a fraction."""

from __future__ import annotations

import pytest

from controller.planning import policies


def test_defaults_are_the_safe_ones() -> None:
    policy = policies.Policy()
    assert policy.orphans is policies.OrphanPolicy.DELETE
    assert (policy.max_deletion_ratio, policy.allow_mass_deletion, policy.allow_recreate) == (
        0.5,
        False,
        False,
    )


@pytest.mark.parametrize("value", ["delete", "pause", "keep"])
def test_orphan_policy_from_text(value: str) -> None:
    assert policies.OrphanPolicy(value).value == value


@pytest.mark.parametrize("ratio", [-0.1, 1.5])
def test_ratio_must_be_a_fraction(ratio: float) -> None:
    with pytest.raises(ValueError, match=r"max_deletion_ratio must be within 0\.\.1"):
        policies.Policy(max_deletion_ratio=ratio)


@pytest.mark.parametrize(
    ("deletions", "owned", "policy", "allowed"),
    [
        (0, 0, policies.Policy(), True),
        (1, 2, policies.Policy(), True),  # exactly the ratio
        (2, 3, policies.Policy(), False),
        (2, 3, policies.Policy(max_deletion_ratio=0.7), True),
        (3, 3, policies.Policy(max_deletion_ratio=1.0), False),  # all of them: a broken export?
        (3, 3, policies.Policy(allow_mass_deletion=True), True),
        (1, 4, policies.Policy(max_deletion_ratio=0.0), False),
    ],
)
def test_deletions_allowed_of_one_kind_and_owner(
    deletions: int, owned: int, policy: policies.Policy, allowed: bool
) -> None:
    assert policy.allows_deleting(deletions, owned) is allowed
