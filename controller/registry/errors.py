"""Errors in registry documents: each names the source, the JSON path and what is wrong."""

from __future__ import annotations

from collections.abc import Sequence


class RegistryError(ValueError):
    """One problem in one registry document, at a JSON path such as `$.spec.schedulerJobs[2]`."""

    def __init__(self, source: str, path: str, message: str) -> None:
        super().__init__(source, path, message)
        self.source = source
        self.path = path
        self.message = message

    @property
    def errors(self) -> tuple[RegistryError, ...]:
        """Every problem found; callers iterate this whether one or several were found."""
        return (self,)

    def __str__(self) -> str:
        return f"{self.source}: {self.path}: {self.message}"


class InvalidRegistry(RegistryError):
    """Several problems in one document, all collected (the first is also `source`/`path`)."""

    def __init__(self, errors: Sequence[RegistryError]) -> None:
        if not errors:
            raise ValueError("InvalidRegistry needs at least one error")
        first = errors[0]
        super().__init__(first.source, first.path, f"{len(errors)} problems")
        self._errors = tuple(errors)

    @property
    def errors(self) -> tuple[RegistryError, ...]:
        return self._errors

    def __str__(self) -> str:
        lines = [f"{self.source}: invalid registry ({len(self._errors)} problems):"]
        lines.extend(f"  {error.path}: {error.message}" for error in self._errors)
        return "\n".join(lines)


def raise_if_any(errors: Sequence[RegistryError]) -> None:
    """Raise the one error, or `InvalidRegistry` with all of them; nothing when there are none."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InvalidRegistry(errors)
