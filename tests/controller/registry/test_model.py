"""The shared model: frozen mappings and the ownership prefix."""

from __future__ import annotations

import pytest

from controller.registry import model


def registry(**changes: object) -> model.Registry:
    fields: dict[str, object] = {
        "source": "s",
        "project": "p",
        "location": "l",
        "affix": "shop",
        "owner": "o",
    }
    return model.Registry(**(fields | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(("delimiter", "prefix"), [("--", "shop--"), ("_", "shop_")])
def test_prefix_is_affix_and_delimiter(delimiter: str, prefix: str) -> None:
    assert registry(delimiter=delimiter).prefix == prefix


def test_without_an_affix_there_is_no_prefix() -> None:
    assert registry(affix="").prefix == ""


def test_mappings_are_frozen_and_sequences_are_tuples() -> None:
    job = model.SchedulerJob("shop--a", "* * * * *", "https://x.test", headers={"b": "1", "a": "2"})
    reg = registry(scheduler_jobs=[job], annotations={"k": "v"})
    assert reg.scheduler_jobs == (job,) and reg.subscriptions == ()
    assert list(job.headers) == ["a", "b"]
    with pytest.raises(TypeError):
        reg.annotations["k"] = "w"  # type: ignore[index]
    assert not reg.is_empty and registry().is_empty
