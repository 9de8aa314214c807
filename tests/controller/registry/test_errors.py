"""Registry errors say where and what."""

from __future__ import annotations

import pytest

from controller.registry import errors


def test_one_error_names_source_path_and_message() -> None:
    error = errors.RegistryError("file:app.json", "$.spec.schedulerJobs[2].schedule", "bad cron")
    assert str(error) == "file:app.json: $.spec.schedulerJobs[2].schedule: bad cron"
    assert error.errors == (error,)
    assert isinstance(error, ValueError)


def test_several_errors_are_kept_in_order() -> None:
    first = errors.RegistryError("a", "$.spec.owner", "bad owner")
    second = errors.RegistryError("a", "$.spec.project", "bad project")
    invalid = errors.InvalidRegistry([first, second])
    assert invalid.errors == (first, second)
    assert (invalid.source, invalid.path) == ("a", "$.spec.owner")
    assert str(invalid) == (
        "a: invalid registry (2 problems):\n"
        "  $.spec.owner: bad owner\n"
        "  $.spec.project: bad project"
    )


@pytest.mark.parametrize(
    ("count", "raised"), [(0, None), (1, errors.RegistryError), (2, errors.InvalidRegistry)]
)
def test_raise_if_any(count: int, raised: type[Exception] | None) -> None:
    found = [errors.RegistryError("a", f"$.x{i}", "bad") for i in range(count)]
    if raised is None:
        errors.raise_if_any(found)
        return
    with pytest.raises(raised) as info:
        errors.raise_if_any(found)
    assert type(info.value) is raised
    assert len(info.value.errors) == count  # type: ignore[attr-defined]


def test_invalid_registry_needs_errors() -> None:
    with pytest.raises(ValueError, match="at least one"):
        errors.InvalidRegistry([])
