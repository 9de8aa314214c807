"""Plan types: which verbs write."""

from __future__ import annotations

import pytest

from controller.planning import plans

WRITES = {"create", "update", "pause", "resume", "delete", "recreate"}


@pytest.mark.parametrize("verb", list(plans.Verb))
def test_only_real_changes_are_writes(verb: plans.Verb) -> None:
    action = plans.Action(plans.Kind.SCHEDULER_JOB, "shop--a", verb)
    assert action.is_write is (verb.value in WRITES)


def test_plan_writes_keeps_order() -> None:
    kinds = plans.Kind.SCHEDULER_JOB
    actions = tuple(plans.Action(kinds, f"shop--{v.value}", v) for v in plans.Verb)
    plan = plans.Plan(actions)
    assert [a.verb.value for a in plan.writes] == [v.value for v in plans.Verb if v.value in WRITES]
    assert str(plans.Verb.CONFLICT) == "conflict"  # StrEnum: logs show the value
