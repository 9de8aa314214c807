"""The loop behind `run --registry` and the dev server: a pass at once and on change, none on
nothing, and no end on a crash."""

from __future__ import annotations

import pathlib
import threading
from collections.abc import Callable, Iterator

import pytest
import structlog

from controller.engine import looping, reconciling, reports
from controller.gcp import clients as gcp_clients
from controller.planning import plans
from controller.registry import documents
from controller.sources import watching
from emulators.testing import eventually
from tests.controller import resources
from tests.controller.fake_time import FakeTime

Start = Callable[..., looping.Loop]


def _write(path: pathlib.Path, project: str, schedule: str) -> None:
    registry = resources.registry(project, jobs=(resources.job(schedule=schedule),))
    path.write_text(documents.render(registry))


class Turning:
    """A loop in a thread, stopped and joined at the end of the test."""

    def __init__(self, loop: looping.Loop) -> None:
        self.loop = loop
        self.stop = threading.Event()
        self.thread = threading.Thread(target=loop.run, args=(self.stop,))
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()


@pytest.fixture
def turn(clients: gcp_clients.Clients) -> Iterator[Start]:
    started: list[Turning] = []

    def start(path: pathlib.Path, **options: object) -> looping.Loop:
        reconciler = reconciling.Reconciler(clients, kinds={plans.Kind.SCHEDULER_JOB})
        loop = looping.Loop(
            watching.Watch([str(path)]),
            reconciler,
            resync_seconds=3600,
            poll_seconds=0.05,
            **options,  # type: ignore[arg-type]
        )
        started.append(Turning(loop))
        return loop

    yield start
    for turning in started:
        turning.close()
        turning.loop.watch.close()


def test_a_pass_at_once_and_another_as_soon_as_the_source_changes(
    tmp_path: pathlib.Path,
    project: str,
    turn: callable,  # type: ignore[valid-type]
) -> None:
    path = tmp_path / "registry.json"
    _write(path, project, "0 3 * * *")
    seen: list[reports.PassReport] = []

    loop = turn(path, on_pass=seen.append)
    eventually(lambda: len(seen) == 1)
    _write(path, project, "0 4 * * *")  # long before the hour's resync is due

    eventually(lambda: len(seen) == 2)
    verbs = [[o.action.verb for o in report.outcomes] for report in seen]
    assert verbs == [[plans.Verb.CREATE], [plans.Verb.UPDATE]]
    healthy, details = loop.healthy()
    assert healthy and details["passes"] == 2 and details["last_pass_converged"] is True


def test_nothing_valid_yet_is_no_pass_at_all(
    tmp_path: pathlib.Path,
    project: str,
    turn: callable,  # type: ignore[valid-type]
) -> None:
    """Planning against no registry could only look like "delete everything"."""
    path = tmp_path / "registry.json"
    path.write_text("{not json")
    seen: list[reports.PassReport] = []

    with structlog.testing.capture_logs() as logs:
        loop = turn(path, on_pass=seen.append)
        eventually(lambda: any(e["event"] == "reconcile_skipped" for e in logs))

    assert seen == [] and loop.passes == 0


@pytest.mark.parametrize(
    ("hook", "event"), [("on_pass", "reconcile_crashed"), ("on_poll", "poll_crashed")]
)
def test_a_crash_is_logged_and_the_loop_turns_on(
    tmp_path: pathlib.Path,
    project: str,
    turn: callable,  # type: ignore[valid-type]
    hook: str,
    event: str,
) -> None:
    path = tmp_path / "registry.json"
    _write(path, project, "0 3 * * *")

    def crash(*seen: object) -> None:
        raise RuntimeError("a bug in a hook")

    with structlog.testing.capture_logs() as logs:
        loop = turn(path, **{hook: crash})
        eventually(lambda: loop.passes == 1)
        _write(path, project, "0 4 * * *")
        eventually(lambda: loop.passes == 2)

    assert [e["event"] for e in logs].count(event) >= 1


def test_a_pass_of_slow_writes_longer_than_the_health_window_is_healthy_while_it_writes(
    tmp_path: pathlib.Path, project: str, clients: gcp_clients.Clients
) -> None:
    """Each write is a beat: 5 writes at one per 100 s take 400 s, past the 300 s after which
    a silent loop is called stuck."""
    path = tmp_path / "registry.json"
    jobs = tuple(resources.job(f"j{index}") for index in range(5))
    path.write_text(documents.render(resources.registry(project, jobs=jobs)))
    fake = FakeTime()
    healthy: list[tuple[float, bool]] = []
    reconciler = reconciling.Reconciler(
        clients,
        kinds={plans.Kind.SCHEDULER_JOB},
        writes_per_second=0.01,
        clock=fake.clock,
        sleep=fake.sleep,
        on_progress=lambda done: healthy.append((fake.now, loop.healthy()[0])),
    )
    watch = watching.Watch([str(path)])
    loop = looping.Loop(watch, reconciler, resync_seconds=60, clock=fake.clock)
    try:
        watch.poll()
        loop.reconcile()
    finally:
        watch.close()

    assert loop.passes == 1 and loop.last_converged
    assert healthy == [(0.0, True), *((100.0 * n, True) for n in range(5))]
    fake.sleep(301)  # then silence: stuck
    assert loop.healthy()[0] is False
