"""What the planner may do beyond converging: orphans, mass deletions, recreation."""

from __future__ import annotations

import dataclasses
import enum


class OrphanPolicy(enum.StrEnum):
    """What happens to a resource we own that no registry desires any more."""

    DELETE = "delete"
    PAUSE = "pause"  # scheduler jobs are paused; subscriptions cannot be, so they are kept
    KEEP = "keep"


@dataclasses.dataclass(frozen=True)
class Policy:
    orphans: OrphanPolicy = OrphanPolicy.DELETE
    # A plan deleting more than this fraction (or all) of one owner's resources of one kind is
    # refused...
    max_deletion_ratio: float = 0.5
    # ...unless this is set; it also lets an owner's empty registry delete its resources.
    allow_mass_deletion: bool = False
    # Delete and create again when an immutable field (Pub/Sub filter, ordering, topic) differs.
    allow_recreate: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_deletion_ratio <= 1.0:
            raise ValueError(
                f"max_deletion_ratio must be within 0..1, not {self.max_deletion_ratio}"
            )

    def allows_deleting(self, deletions: int, owned: int) -> bool:
        """Whether a plan may delete `deletions` of the `owned` resources of one kind and owner:
        a broken export loses one kind at once, so all of them is never enough on its own."""
        if deletions == 0 or self.allow_mass_deletion:
            return True
        return deletions < owned and deletions <= owned * self.max_deletion_ratio
