"""The in-memory state on its own: what becomes due when, and what an attempt's outcome does."""

from datetime import UTC, datetime, timedelta

import pytest
from google.cloud import tasks_v2

from emulators import clock as clocks
from emulators import dispatching
from emulators.cloud_tasks import state as states

START = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
PARENT = "projects/p/locations/l"
QUEUE = f"{PARENT}/queues/q"
BASIC = tasks_v2.Task.View.BASIC
OK = dispatching.Delivery(200, None, 0.01)
FAILED = dispatching.Delivery(500, None, 0.01)


@pytest.fixture
def clock() -> clocks.ManualClock:
    return clocks.ManualClock(START)


@pytest.fixture
def state(clock: clocks.ManualClock) -> states.State:
    result = states.State(clock, tombstone_seconds=60)
    result.create_queue(PARENT, tasks_v2.Queue(name=QUEUE))
    return result


def add(state: states.State, task_id: str, delay: float = 0, **fields: object) -> str:
    task = tasks_v2.Task(
        name=f"{QUEUE}/tasks/{task_id}",
        http_request=tasks_v2.HttpRequest(url="http://127.0.0.1:9/run"),
        schedule_time=START + timedelta(seconds=delay),
        **fields,
    )
    return state.create_task(QUEUE, task, BASIC).name


def test_due_tasks_come_in_schedule_order_with_the_next_due_time(
    state: states.State, clock: clocks.ManualClock
) -> None:
    add(state, "late", 30)
    add(state, "now", 0)
    add(state, "soon", 10)
    pushes, next_due = state.take_due()
    assert [push.task_id for push in pushes] == ["now"]
    assert next_due == START + timedelta(seconds=10)
    clock.advance(30)
    pushes, next_due = state.take_due()
    assert [push.task_id for push in pushes] == ["soon", "late"]
    assert next_due is None


def test_a_running_attempt_is_not_started_twice(state: states.State) -> None:
    add(state, "t")
    assert len(state.take_due()[0]) == 1
    assert state.take_due() == ([], None)


@pytest.mark.parametrize(
    ("deadline", "timeout"),
    [(None, 600.0), (timedelta(seconds=15), 15.0), (timedelta(minutes=30), 1800.0)],
)
def test_dispatch_deadline_is_the_http_timeout(
    state: states.State, deadline: timedelta | None, timeout: float
) -> None:
    add(state, "t", **({"dispatch_deadline": deadline} if deadline else {}))
    (push,) = state.take_due()[0]
    assert push.timeout == timeout


def test_push_carries_what_the_headers_need(state: states.State) -> None:
    add(state, "t", 0)
    (push,) = state.take_due()[0]
    assert (push.queue_id, push.task_id, push.method, push.url) == (
        "q",
        "t",
        "POST",
        "http://127.0.0.1:9/run",
    )
    assert (push.retry_count, push.execution_count, push.eta, push.previous_response) == (
        0,
        0,
        START,
        None,
    )


def test_success_removes_and_tombstones(state: states.State, clock: clocks.ManualClock) -> None:
    name = add(state, "t")
    (push,) = state.take_due()[0]
    state.finish(push, OK)
    assert state.list_tasks(QUEUE, BASIC, 0, "")[0] == []
    clock.advance(59)
    with pytest.raises(Exception, match="already exists"):
        add(state, "t")
    clock.advance(1)
    assert add(state, "t") == name


def test_failure_reschedules_after_backoff(state: states.State, clock: clocks.ManualClock) -> None:
    name = add(state, "t")
    (push,) = state.take_due()[0]
    state.finish(push, FAILED)
    task = state.get_task(name, BASIC)
    assert task.schedule_time == START + timedelta(seconds=0.1)
    assert state.take_due() == ([], START + timedelta(seconds=0.1))
    clock.advance(0.1)
    (again,) = state.take_due()[0]
    assert (again.retry_count, again.previous_response) == (1, 500)


def test_outcome_of_a_deleted_and_recreated_task_is_ignored(
    state: states.State, clock: clocks.ManualClock
) -> None:
    add(state, "t")
    (old_push,) = state.take_due()[0]
    state.delete_task(f"{QUEUE}/tasks/t")
    clock.advance(60)
    name = add(state, "t")
    state.finish(old_push, OK)  # belongs to the deleted incarnation
    assert state.get_task(name, BASIC).dispatch_count == 0


def test_paused_queue_tasks_wait_for_resume(state: states.State, clock: clocks.ManualClock) -> None:
    add(state, "t")
    state.set_queue_state(QUEUE, tasks_v2.Queue.State.PAUSED)
    assert state.take_due()[0] == []
    clock.advance(3600)
    assert state.take_due()[0] == []
    state.set_queue_state(QUEUE, tasks_v2.Queue.State.RUNNING)
    assert [push.task_id for push in state.take_due()[0]] == ["t"]


def test_on_change_is_called_when_dispatch_may_be_due_sooner(state: states.State) -> None:
    calls: list[str] = []
    state.on_change = lambda: calls.append("changed")
    add(state, "t")
    state.set_queue_state(QUEUE, tasks_v2.Queue.State.PAUSED)
    assert calls == ["changed", "changed"]


def test_expired_tombstones_do_not_accumulate(
    state: states.State, clock: clocks.ManualClock
) -> None:
    # Tombstones last 60 s here; with one task a second, about 60 are live at any time.
    for n in range(2500):
        add(state, f"t{n}")
        state.delete_task(f"{QUEUE}/tasks/t{n}")
        clock.advance(1)
        assert len(state._tombstones) <= 1025
