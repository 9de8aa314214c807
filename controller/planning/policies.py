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
    # A plan deleting more than this fraction of the owned resources is refused...
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
