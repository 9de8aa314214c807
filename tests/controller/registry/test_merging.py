"""Merging: a resource claimed by two sources is a conflict on both, never a tug of war."""

from __future__ import annotations

import dataclasses

import pytest

from controller.registry import merging, model


def job(name: str) -> model.SchedulerJob:
    return model.SchedulerJob(name=name, schedule="* * * * *", uri=f"https://x.test/{name}")


def sub(name: str) -> model.Subscription:
    return model.Subscription(name=name, topic="orders", push_endpoint=f"https://x.test/{name}")


def registry(
    source: str,
    jobs: tuple[str, ...] = (),
    subs: tuple[str, ...] = (),
    *,
    owner: str = "",
    project: str = "shop-prod",
    location: str = "europe-west1",
) -> model.Registry:
    return model.Registry(
        source=source,
        project=project,
        location=location,
        affix="app",
        owner=owner or source,
        scheduler_jobs=tuple(job(n) for n in jobs),
        subscriptions=tuple(sub(n) for n in subs),
    )


def names(desired: merging.Desired) -> dict[str, tuple[list[str], list[str]]]:
    return {
        r.source: ([j.name for j in r.scheduler_jobs], [s.name for s in r.subscriptions])
        for r in desired.registries
    }


CASES = [
    pytest.param(
        [registry("a", ("app--1",), ("app--s1",)), registry("b", ("app--2",), ("app--s2",))],
        {"a": (["app--1"], ["app--s1"]), "b": (["app--2"], ["app--s2"])},
        [],
        id="disjoint",
    ),
    pytest.param(
        [registry("a", ("app--1", "app--x")), registry("b", ("app--x", "app--2"))],
        {"a": (["app--1"], []), "b": (["app--2"], [])},
        [("scheduler_job", "app--x", ("a", "b"))],
        id="same-job-same-scope",
    ),
    pytest.param(
        [registry("a", ("app--x",)), registry("b", ("app--x",), location="us-central1")],
        {"a": (["app--x"], []), "b": (["app--x"], [])},
        [],
        id="same-job-other-location",
    ),
    pytest.param(
        [registry("a", ("app--x",)), registry("b", ("app--x",), project="other-prod")],
        {"a": (["app--x"], []), "b": (["app--x"], [])},
        [],
        id="same-job-other-project",
    ),
    pytest.param(
        [registry("a", (), ("app--s",)), registry("b", (), ("app--s",), location="us-central1")],
        {"a": ([], []), "b": ([], [])},
        [("subscription", "app--s", ("a", "b"))],
        id="subscriptions-are-project-wide",
    ),
    pytest.param(
        [registry("c", ("app--x",)), registry("a", ("app--x",)), registry("b", ("app--x",))],
        {"a": ([], []), "b": ([], []), "c": ([], [])},
        [("scheduler_job", "app--x", ("a", "b", "c"))],
        id="three-claimants",
    ),
    pytest.param(
        [
            registry("a", ("app--1",), owner="shop"),
            registry("b", ("app--2",), owner="shop", location="us-central1"),
        ],
        {"a": (["app--1"], []), "b": (["app--2"], [])},
        [],
        id="one-owner-two-locations",
    ),
    pytest.param(
        [registry("a", ("app--old",)), registry("a", ("app--new",))],
        {"a": (["app--new"], [])},
        [],
        id="same-source-twice-last-wins",
    ),
]


@pytest.mark.parametrize(("registries", "expected", "conflicts"), CASES)
def test_merge(
    registries: list[model.Registry],
    expected: dict[str, tuple[list[str], list[str]]],
    conflicts: list[tuple[str, str, tuple[str, ...]]],
) -> None:
    desired = merging.merge(registries)
    assert names(desired) == expected
    assert [(c.kind, c.name, c.sources) for c in desired.conflicts] == conflicts


def test_a_conflict_is_reported_on_both_sources_and_names_the_resource() -> None:
    desired = merging.merge([registry("file:a.json", ("app--x",)), registry("cm/b", ("app--x",))])
    (conflict,) = desired.conflicts
    assert conflict.sources == ("cm/b", "file:a.json")
    assert (conflict.project, conflict.location) == ("shop-prod", "europe-west1")
    assert "'app--x'" in str(conflict) and "cm/b and file:a.json" in str(conflict)


def test_merge_keeps_everything_else_about_a_registry() -> None:
    original = dataclasses.replace(registry("a", ("app--1", "app--x")), name="shop", delimiter="__")
    (kept, _) = merging.merge([original, registry("b", ("app--x",))]).registries
    assert kept == dataclasses.replace(original, scheduler_jobs=(job("app--1"),))
