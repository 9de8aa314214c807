"""How big each benchmark runs: `full` (`make bench`), `quick` (`make bench-quick`) and `smoke`
(the test suite: the smallest size that still runs every code path)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    # enqueueing: sequential calls per round and implementation, rounds, tasks per bulk call
    enqueue_calls: int
    enqueue_rounds: int
    bulk_tasks: int
    bulk_workers: int
    # the task endpoint: seconds per round and variant, rounds, concurrent clients
    endpoint_seconds: float
    endpoint_rounds: int
    endpoint_clients: int
    # reconciling: N scheduler jobs + N subscriptions for each N; passes per measured case
    reconcile_sizes: tuple[int, ...]
    reconcile_repeats: int
    # convergence: resources in the registry, samples per scenario, the controller's resync
    convergence_size: int
    convergence_samples: int
    resync_seconds: float
    # idle: resources in the registry, the alive window, the short resync and passes measured
    idle_size: int
    idle_seconds: float
    idle_resync_seconds: float
    idle_passes: int


PROFILES = {
    "full": Profile(
        name="full",
        enqueue_calls=2000,
        enqueue_rounds=5,
        bulk_tasks=2000,
        bulk_workers=16,
        endpoint_seconds=5.0,
        endpoint_rounds=5,
        endpoint_clients=8,
        reconcile_sizes=(100, 1000, 5000, 20000),
        reconcile_repeats=5,
        convergence_size=100,
        convergence_samples=12,
        resync_seconds=5.0,
        idle_size=1000,
        idle_seconds=30.0,
        idle_resync_seconds=3.0,
        idle_passes=8,
    ),
    "quick": Profile(
        name="quick",
        enqueue_calls=500,
        enqueue_rounds=3,
        bulk_tasks=1000,
        bulk_workers=16,
        endpoint_seconds=2.0,
        endpoint_rounds=3,
        endpoint_clients=8,
        reconcile_sizes=(100, 1000),
        reconcile_repeats=3,
        convergence_size=50,
        convergence_samples=6,
        resync_seconds=2.0,
        idle_size=1000,
        idle_seconds=10.0,
        idle_resync_seconds=2.0,
        idle_passes=4,
    ),
    "smoke": Profile(
        name="smoke",
        enqueue_calls=20,
        enqueue_rounds=1,
        bulk_tasks=20,
        bulk_workers=4,
        endpoint_seconds=0.3,
        endpoint_rounds=1,
        endpoint_clients=2,
        reconcile_sizes=(10,),
        reconcile_repeats=1,
        convergence_size=3,
        convergence_samples=1,
        resync_seconds=1.0,
        idle_size=10,
        idle_seconds=1.0,
        idle_resync_seconds=0.5,
        idle_passes=2,
    ),
}
