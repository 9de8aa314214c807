"""The engine against the emulators: create, converge, drift found field by field and fixed with
masks naming only those fields, ownership respected. Writes are counted from the scheduler
emulator's own request log (an independent record), Pub/Sub calls from our side."""

from __future__ import annotations

import dataclasses
import datetime
import gc
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
import structlog
from google.cloud import pubsub_v1, scheduler_v1
from google.protobuf import field_mask_pb2
from google.pubsub_v1 import types as pubsub_types
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

from controller.engine import progress, reconciling
from controller.gcp import calling, errors
from controller.gcp import clients as gcp_clients
from controller.planning import plans, policies
from controller.registry import model, ownership
from emulators import faults, pubsub, running
from tests.controller import resources
from tests.controller.fake_time import FakeTime

FAST = {"writes_per_second": 1000.0}


def _desired(project: str) -> model.Registry:
    return resources.registry(
        project,
        jobs=(
            resources.job("cleanup"),
            resources.job("report", schedule="*/5 * * * *", paused=True),
        ),
        subs=(
            resources.subscription("order-created"),
            resources.subscription(
                "order-paid", dead_letter_topic="orders-dead", retry=model.PushRetry(5, 60)
            ),
        ),
    )


def _job_path(project: str, name: str) -> str:
    return f"projects/{project}/locations/{resources.LOCATION}/jobs/{name}"


def _drift_events(logs: list[dict[str, object]]) -> set[tuple[object, object, object]]:
    return {(e["kind"], e["name"], e["field"]) for e in logs if e["event"] == "drift_detected"}


@pytest.fixture
def converged(
    clients: gcp_clients.Clients, project: str, cloud_scheduler_emulator: running.Service
) -> tuple[reconciling.Reconciler, model.Registry]:
    """A project where a first pass has already created everything; the request log is cleared."""
    reconciler = reconciling.Reconciler(clients, **FAST)
    desired = _desired(project)
    assert reconciler.run_pass([desired]).converged
    cloud_scheduler_emulator.requests.clear()
    return reconciler, desired


def test_first_pass_creates_everything_and_second_pass_writes_nothing(
    clients: gcp_clients.Clients,
    project: str,
    cloud_scheduler_emulator: running.Service,
    subscriber_api: pubsub_v1.SubscriberClient,
) -> None:
    reconciler = reconciling.Reconciler(clients, **FAST)
    desired = _desired(project)

    first = reconciler.run_pass([desired])

    assert first.converged, first.failures
    requests = cloud_scheduler_emulator.requests
    assert requests.count("CreateJob") == 2
    assert [r.resource for r in requests.entries if r.method == "PauseJob"] == [
        _job_path(project, "shop--report")
    ]
    assert first.counts() == {"create": 4, "pause": 1}
    listed = {
        s.name.rsplit("/", 1)[-1]: s
        for s in subscriber_api.list_subscriptions(project=f"projects/{project}")
    }
    assert set(listed) == {"shop--orders--order-created", "shop--orders--order-paid"}
    paid = listed["shop--orders--order-paid"]
    assert paid.dead_letter_policy.dead_letter_topic == f"projects/{project}/topics/orders-dead"
    assert dict(paid.labels) == ownership.labels("shop")
    assert first.owned() == {"scheduler_job": 2, "subscription": 2}

    requests.clear()
    with structlog.testing.capture_logs() as logs:
        second = reconciler.run_pass([desired])

    assert requests.writes() == []
    assert second.writes == 0
    # One List per kind: jobs of the location, subscriptions of the project (one page each).
    assert requests.count("ListJobs") == 1
    assert second.api_calls == 2
    assert second.converged
    assert set(second.counts()) == {"unchanged"}
    assert _drift_events(logs) == set()
    summary = [e for e in logs if e["event"] == "reconcile_pass"]
    assert len(summary) == 1
    assert summary[0]["writes"] == 0 and summary[0]["api_calls"] == 2


def _edit(
    scheduler_api: scheduler_v1.CloudSchedulerClient, name: str, job: scheduler_v1.Job, *paths: str
) -> None:
    job.name = name
    scheduler_api.update_job(job=job, update_mask=field_mask_pb2.FieldMask(paths=list(paths)))


@pytest.mark.parametrize(
    ("edit", "paths", "fields"),
    [
        (scheduler_v1.Job(schedule="*/1 * * * *"), ("schedule",), {"schedule"}),
        (scheduler_v1.Job(time_zone="America/New_York"), ("time_zone",), {"time_zone"}),
        (
            scheduler_v1.Job(http_target=scheduler_v1.HttpTarget(uri="https://evil.example.com/x")),
            ("http_target.uri",),
            {"http_target.uri"},
        ),
        (
            scheduler_v1.Job(http_target=scheduler_v1.HttpTarget(body=b'{"kind": "other"}')),
            ("http_target.body",),
            {"http_target.body"},
        ),
        (
            scheduler_v1.Job(
                retry_config=scheduler_v1.RetryConfig(
                    retry_count=5, min_backoff_duration=datetime.timedelta(seconds=30)
                )
            ),
            ("retry_config",),
            {"retry_config"},
        ),
        (
            scheduler_v1.Job(
                schedule="0 4 * * *",
                http_target=scheduler_v1.HttpTarget(uri="https://evil.example.com/x"),
            ),
            ("schedule", "http_target.uri"),
            {"schedule", "http_target.uri"},
        ),
    ],
    ids=["schedule", "time_zone", "uri", "body", "retry_config", "schedule+uri"],
)
def test_drifted_job_is_reported_per_field_and_restored_with_one_masked_update(
    converged: tuple[reconciling.Reconciler, model.Registry],
    project: str,
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    cloud_scheduler_emulator: running.Service,
    edit: scheduler_v1.Job,
    paths: tuple[str, ...],
    fields: set[str],
) -> None:
    reconciler, desired = converged
    path = _job_path(project, "shop--cleanup")
    before = scheduler_api.get_job(name=path)
    _edit(scheduler_api, path, edit, *paths)
    cloud_scheduler_emulator.requests.clear()

    with structlog.testing.capture_logs() as logs:
        report = reconciler.run_pass([desired])

    assert report.converged
    assert _drift_events(logs) == {("scheduler_job", "shop--cleanup", field) for field in fields}
    writes = cloud_scheduler_emulator.requests.writes()
    assert [(w.method, w.resource) for w in writes] == [("UpdateJob", path)]
    assert set(writes[0].update_mask) == fields
    after = scheduler_api.get_job(name=path)
    for field in ("schedule", "time_zone", "http_target", "retry_config", "description"):
        assert getattr(after, field) == getattr(before, field), field
    applied = [e for e in logs if e["event"] == "action_applied"]
    assert [(e["verb"], e["name"], set(e["fields"])) for e in applied] == [
        ("update", "shop--cleanup", fields)
    ]
    drift = next(e for e in logs if e["event"] == "drift_detected")
    assert drift["desired"] != drift["actual"]


@pytest.mark.parametrize(
    ("name", "behind_our_back", "restore"),
    [("shop--cleanup", "pause_job", "ResumeJob"), ("shop--report", "resume_job", "PauseJob")],
)
def test_paused_state_changed_behind_our_back_is_restored(
    converged: tuple[reconciling.Reconciler, model.Registry],
    project: str,
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    cloud_scheduler_emulator: running.Service,
    name: str,
    behind_our_back: str,
    restore: str,
) -> None:
    reconciler, desired = converged
    path = _job_path(project, name)
    getattr(scheduler_api, behind_our_back)(name=path)
    cloud_scheduler_emulator.requests.clear()

    with structlog.testing.capture_logs() as logs:
        report = reconciler.run_pass([desired])

    assert report.converged
    assert _drift_events(logs) == {("scheduler_job", name, "paused")}
    assert [(w.method, w.resource) for w in cloud_scheduler_emulator.requests.writes()] == [
        (restore, path)
    ]
    desired_paused = name == "shop--report"
    state = scheduler_api.get_job(name=path).state
    assert (state == scheduler_v1.Job.State.PAUSED) is desired_paused


def test_schedule_changed_and_paused_is_one_update_plus_one_resume(
    converged: tuple[reconciling.Reconciler, model.Registry],
    project: str,
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    cloud_scheduler_emulator: running.Service,
) -> None:
    reconciler, desired = converged
    path = _job_path(project, "shop--cleanup")
    _edit(scheduler_api, path, scheduler_v1.Job(schedule="*/2 * * * *"), "schedule")
    scheduler_api.pause_job(name=path)
    cloud_scheduler_emulator.requests.clear()

    with structlog.testing.capture_logs() as logs:
        assert reconciler.run_pass([desired]).converged

    assert _drift_events(logs) == {
        ("scheduler_job", "shop--cleanup", "schedule"),
        ("scheduler_job", "shop--cleanup", "paused"),
    }
    writes = cloud_scheduler_emulator.requests.writes()
    assert [(w.method, w.update_mask) for w in writes] == [
        ("UpdateJob", ("schedule",)),
        ("ResumeJob", ()),
    ]
    job = scheduler_api.get_job(name=path)
    assert job.schedule == "0 3 * * *" and job.state == scheduler_v1.Job.State.ENABLED


def test_deleted_subscription_is_recreated(
    converged: tuple[reconciling.Reconciler, model.Registry],
    project: str,
    subscriber_api: pubsub_v1.SubscriberClient,
    cloud_scheduler_emulator: running.Service,
) -> None:
    reconciler, desired = converged
    path = f"projects/{project}/subscriptions/shop--orders--order-paid"
    subscriber_api.delete_subscription(subscription=path)

    report = reconciler.run_pass([desired])

    assert report.converged
    assert [(o.action.verb, o.action.name) for o in report.outcomes if o.action.is_write] == [
        (plans.Verb.CREATE, "shop--orders--order-paid")
    ]
    assert report.writes == 1
    assert cloud_scheduler_emulator.requests.writes() == []
    recreated = subscriber_api.get_subscription(subscription=path)
    assert recreated.push_config.push_endpoint.endswith("/order-paid")
    assert recreated.labels[ownership.OWNER_LABEL] == "shop"


class _Recorder(grpc.UnaryUnaryClientInterceptor):
    """The requests Google's client sends: Pub/Sub's emulator keeps no request log of its own."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, Any]] = []

    def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        self.requests.append((details.method.rsplit("/", 1)[-1], request))
        return continuation(details, request)


@pytest.fixture
def recorded_subscriber(
    pubsub_emulator: pubsub.PubSubEmulator,
) -> Iterator[tuple[pubsub_v1.SubscriberClient, _Recorder]]:
    recorder = _Recorder()
    channel = grpc.intercept_channel(grpc.insecure_channel(pubsub_emulator.host), recorder)
    client = pubsub_v1.SubscriberClient(transport=SubscriberGrpcTransport(channel=channel))
    yield client, recorder
    client.close()


def test_drifted_subscription_is_updated_with_a_mask(
    converged: tuple[reconciling.Reconciler, model.Registry],
    clients: gcp_clients.Clients,
    project: str,
    subscriber_api: pubsub_v1.SubscriberClient,
    recorded_subscriber: tuple[pubsub_v1.SubscriberClient, _Recorder],
) -> None:
    _, desired = converged
    subscriber, recorder = recorded_subscriber
    reconciler = reconciling.Reconciler(dataclasses.replace(clients, subscriber=subscriber), **FAST)
    path = f"projects/{project}/subscriptions/shop--orders--order-created"
    subscriber_api.update_subscription(
        request={
            "subscription": {
                "name": path,
                "push_config": {"push_endpoint": "https://evil.example.com/x"},
                "ack_deadline_seconds": 99,
            },
            "update_mask": {"paths": ["push_config", "ack_deadline_seconds"]},
        }
    )

    with structlog.testing.capture_logs() as logs:
        report = reconciler.run_pass([desired])

    assert report.converged
    assert _drift_events(logs) == {
        ("subscription", "shop--orders--order-created", "push_config"),
        ("subscription", "shop--orders--order-created", "ack_deadline_seconds"),
    }
    assert report.writes == 1
    (update,) = [request for method, request in recorder.requests if method != "ListSubscriptions"]
    assert update.subscription.name == path
    assert sorted(update.update_mask.paths) == ["ack_deadline_seconds", "push_config"]
    restored = subscriber_api.get_subscription(subscription=path)
    assert restored.push_config.push_endpoint.endswith("/order-created")
    assert restored.ack_deadline_seconds == 30


def test_resources_without_our_marker_are_never_touched(
    clients: gcp_clients.Clients,
    project: str,
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    subscriber_api: pubsub_v1.SubscriberClient,
    publisher_api: pubsub_v1.PublisherClient,
    cloud_scheduler_emulator: running.Service,
) -> None:
    parent = f"projects/{project}/locations/{resources.LOCATION}"
    foreign = {
        name: scheduler_api.create_job(
            parent=parent,
            job=scheduler_v1.Job(
                name=f"{parent}/jobs/{name}",
                description="hand-made",
                schedule="0 1 * * *",
                http_target=scheduler_v1.HttpTarget(uri="https://other.example.com/"),
            ),
        )
        for name in ("shop--cleanup", "shop--legacy")  # one desired name, one orphan-looking
    }
    publisher_api.create_topic(name=f"projects/{project}/topics/orders")
    foreign_subs = [
        pubsub_types.Subscription(  # push, our affix, no labels
            name=f"projects/{project}/subscriptions/shop--orders--legacy",
            topic=f"projects/{project}/topics/orders",
            push_config={"push_endpoint": "https://other.example.com/push"},
        ),
        pubsub_types.Subscription(  # pull, with our labels: still never ours
            name=f"projects/{project}/subscriptions/shop--orders--pull",
            topic=f"projects/{project}/topics/orders",
            labels=ownership.labels("shop"),
        ),
    ]
    for sub in foreign_subs:
        subscriber_api.create_subscription(request=sub)
    cloud_scheduler_emulator.requests.clear()
    reconciler = reconciling.Reconciler(clients, policies.Policy(allow_mass_deletion=True), **FAST)
    desired = resources.registry(
        project, jobs=(resources.job("cleanup"), resources.job("other")), subs=()
    )

    report = reconciler.run_pass([desired])

    # The only write: creating the one desired job whose name was free.
    assert [w.method for w in cloud_scheduler_emulator.requests.writes()] == ["CreateJob"]
    assert scheduler_api.get_job(name=f"{parent}/jobs/shop--other").description.endswith(
        ownership.marker("shop")
    )
    verbs = {(o.action.name, o.action.verb) for o in report.outcomes}
    assert ("shop--cleanup", plans.Verb.CONFLICT) in verbs
    assert not report.converged  # the desired name is taken by someone else's job
    for name, job in foreign.items():
        assert scheduler_api.get_job(name=job.name).description == "hand-made", name
    for sub in foreign_subs:
        assert subscriber_api.get_subscription(subscription=sub.name).name == sub.name


def test_orphans_are_deleted_and_mass_deletion_is_refused(
    converged: tuple[reconciling.Reconciler, model.Registry],
    project: str,
    cloud_scheduler_emulator: running.Service,
) -> None:
    reconciler, desired = converged
    one_less = dataclasses.replace(desired, scheduler_jobs=desired.scheduler_jobs[:1])

    report = reconciler.run_pass([one_less])

    assert report.converged
    assert [(w.method, w.resource) for w in cloud_scheduler_emulator.requests.writes()] == [
        ("DeleteJob", _job_path(project, "shop--report"))
    ]

    cloud_scheduler_emulator.requests.clear()
    almost_empty = dataclasses.replace(
        desired, scheduler_jobs=(resources.job("new"),), subscriptions=()
    )
    refused = reconciler.run_pass([almost_empty])

    assert refused.refused and not refused.converged
    assert cloud_scheduler_emulator.requests.writes() == []


def test_dry_run_plans_but_writes_nothing(
    clients: gcp_clients.Clients, project: str, cloud_scheduler_emulator: running.Service
) -> None:
    reconciler = reconciling.Reconciler(clients, **FAST)

    with structlog.testing.capture_logs() as logs:
        report = reconciler.run_pass([_desired(project)], dry_run=True)

    assert report.writes == 0
    assert cloud_scheduler_emulator.requests.writes() == []
    assert len(report.pending) == 5 and not report.converged
    planned = [e for e in logs if e["event"] == "action_planned"]
    assert len(planned) == 5 and all(e["dry_run"] for e in planned)


def test_a_rejected_write_is_reported_and_the_rest_still_applied(
    clients: gcp_clients.Clients, project: str, cloud_scheduler_emulator: running.Service
) -> None:
    reconciler = reconciling.Reconciler(clients, **FAST)
    desired = resources.registry(
        project, jobs=(resources.job("bad", schedule="not a schedule"), resources.job("good"))
    )

    with structlog.testing.capture_logs() as logs:
        report = reconciler.run_pass([desired])

    assert report.failed and not report.converged
    (failure,) = report.failures
    assert isinstance(failure, errors.InvalidArgument) and not failure.retryable
    assert failure.resource == _job_path(project, "shop--bad")
    failed = [e for e in logs if e["event"] == "action_failed"]
    assert [(e["verb"], e["name"], e["error"]) for e in failed] == [
        ("create", "shop--bad", "INVALID_ARGUMENT")
    ]
    assert cloud_scheduler_emulator.requests.count("CreateJob") == 2
    assert report.owned()["scheduler_job"] == 1


def test_kinds_restrict_what_is_listed_and_written(
    clients: gcp_clients.Clients, project: str, cloud_scheduler_emulator: running.Service
) -> None:
    reconciler = reconciling.Reconciler(clients, kinds={plans.Kind.SCHEDULER_JOB}, **FAST)

    report = reconciler.run_pass([_desired(project)])

    assert {o.action.kind for o in report.outcomes} == {plans.Kind.SCHEDULER_JOB}
    assert report.writes == 3  # two creates and one pause, no subscription call at all
    assert report.api_calls == 4


def test_an_unreachable_api_is_retried_then_that_kind_is_left_out(
    cloud_scheduler_emulator: running.Service, project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:9")  # nothing listens there
    with gcp_clients.Clients.from_environment() as clients:
        reconciler = reconciling.Reconciler(
            clients, backoff=calling.Backoff(attempts=3, base=0.01, cap=0.02), **FAST
        )
        with structlog.testing.capture_logs() as logs:
            report = reconciler.run_pass([_desired(project)])

    (failure,) = report.failures
    assert isinstance(failure, errors.Unavailable) and failure.retryable
    assert report.retries == 2 and report.api_errors == {"UNAVAILABLE": 3}
    assert [e["attempt"] for e in logs if e["event"] == "api_retry"] == [1, 2]
    # Scheduler jobs still converge; subscriptions are not planned against a failed listing.
    assert cloud_scheduler_emulator.requests.count("CreateJob") == 2
    assert {o.action.kind for o in report.outcomes} == {plans.Kind.SCHEDULER_JOB}
    assert not report.converged


@pytest.mark.parametrize(
    ("orphans", "writes", "state"),
    [
        (policies.OrphanPolicy.DELETE, [("DeleteJob",)], None),
        (policies.OrphanPolicy.PAUSE, [("PauseJob",)], scheduler_v1.Job.State.PAUSED),
        (policies.OrphanPolicy.KEEP, [], scheduler_v1.Job.State.ENABLED),
    ],
)
def test_orphan_policies(
    clients: gcp_clients.Clients,
    project: str,
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    cloud_scheduler_emulator: running.Service,
    orphans: policies.OrphanPolicy,
    writes: list[tuple[str]],
    state: scheduler_v1.Job.State | None,
) -> None:
    jobs = tuple(resources.job(name) for name in ("a", "b", "c"))
    reconciling.Reconciler(clients, **FAST).run_pass([resources.registry(project, jobs=jobs)])
    cloud_scheduler_emulator.requests.clear()
    reconciler = reconciling.Reconciler(clients, policies.Policy(orphans=orphans), **FAST)

    report = reconciler.run_pass([resources.registry(project, jobs=jobs[:2])])

    assert report.converged
    assert [(w.method,) for w in cloud_scheduler_emulator.requests.writes()] == writes
    listed = {
        j.name.rsplit("/", 1)[-1]: j for j in scheduler_api.list_jobs(parent=_parent(project))
    }
    assert (listed["shop--c"].state if "shop--c" in listed else None) == state


def _parent(project: str) -> str:
    return f"projects/{project}/locations/{resources.LOCATION}"


def test_immutable_subscription_field_needs_recreate_permission(
    converged: tuple[reconciling.Reconciler, model.Registry],
    clients: gcp_clients.Clients,
    project: str,
    subscriber_api: pubsub_v1.SubscriberClient,
) -> None:
    _, desired = converged
    ordered = dataclasses.replace(
        desired,
        subscriptions=(
            dataclasses.replace(desired.subscriptions[0], enable_message_ordering=True),
            desired.subscriptions[1],
        ),
    )
    name = ordered.subscriptions[0].name

    with structlog.testing.capture_logs() as logs:
        blocked = reconciling.Reconciler(clients, **FAST).run_pass([ordered])

    assert blocked.writes == 0 and not blocked.converged
    assert [(a.verb, a.name) for a in blocked.pending] == [(plans.Verb.RECREATE_NEEDED, name)]
    assert ("subscription", name, "enable_message_ordering") in _drift_events(logs)
    assert [e["name"] for e in logs if e["event"] == "recreate_needed"] == [name]

    allowed = reconciling.Reconciler(clients, policies.Policy(allow_recreate=True), **FAST)
    recreated = allowed.run_pass([ordered])

    assert recreated.converged
    assert [o.action.verb for o in recreated.outcomes if o.action.is_write] == [plans.Verb.RECREATE]
    stored = subscriber_api.get_subscription(
        subscription=f"projects/{project}/subscriptions/{name}"
    )
    assert stored.enable_message_ordering
    assert allowed.run_pass([ordered]).writes == 0


def test_one_owner_in_two_locations_shares_its_projects_subscriptions(
    clients: gcp_clients.Clients, project: str, cloud_scheduler_emulator: running.Service
) -> None:
    europe = resources.registry(
        project, jobs=(resources.job("eu"),), subs=(resources.subscription("eu"),), source="eu"
    )
    america = dataclasses.replace(
        resources.registry(
            project, jobs=(resources.job("us"),), subs=(resources.subscription("us"),), source="us"
        ),
        location="us-central1",
    )
    reconciler = reconciling.Reconciler(clients, **FAST)

    first = reconciler.run_pass([europe, america])
    second = reconciler.run_pass([europe, america])

    assert first.converged and first.conflicts == ()
    assert first.counts() == {"create": 4}
    # Subscriptions are one project-wide List: neither location sees the other's as orphans.
    assert second.converged and second.counts() == {"unchanged": 4} and second.writes == 0
    assert [s.scope.parent for s in second.scopes] == [
        f"projects/{project}/locations/europe-west1",
        f"projects/{project}/locations/us-central1",
        f"projects/{project}",
    ]
    assert cloud_scheduler_emulator.requests.count("ListJobs") == 4
    for source, job, sub in (
        ("eu", "shop--eu", "shop--orders--eu"),
        ("us", "shop--us", "shop--orders--us"),
    ):
        result = second.for_source(source)
        assert result is not None and result.converged
        assert [o.action.name for o in result.outcomes] == [job, sub]


# -- a Create whose answer was lost: the retry meets ALREADY_EXISTS ------------------------------

QUICK_RETRIES = calling.Backoff(attempts=3, base=0.001, cap=0.002)


def _retrying_jobs(
    clients: gcp_clients.Clients, sleep: Callable[[float], None]
) -> reconciling.Reconciler:
    """A reconciler of scheduler jobs whose retries call `sleep`: the moment to act behind its
    back."""
    return reconciling.Reconciler(
        clients, kinds={plans.Kind.SCHEDULER_JOB}, backoff=QUICK_RETRIES, sleep=sleep, **FAST
    )


def _lose_create_answers(emulator: running.Service, times: int = 1) -> None:
    emulator.faults.inject("CreateJob", grpc.StatusCode.DEADLINE_EXCEEDED, times=times, after=True)


def test_a_create_whose_answer_was_lost_is_read_back_and_succeeds(
    clients: gcp_clients.Clients,
    project: str,
    cloud_scheduler_emulator: running.Service,
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    _lose_create_answers(cloud_scheduler_emulator, times=2)  # both jobs; one is desired paused
    reconciler = reconciling.Reconciler(clients, backoff=QUICK_RETRIES, **FAST)

    with structlog.testing.capture_logs() as logs:
        report = reconciler.run_pass([_desired(project)])

    assert report.converged, report.failures
    assert [e for e in logs if e["event"] == "action_failed"] == []
    requests = cloud_scheduler_emulator.requests
    assert requests.count("CreateJob") == 4  # two lost answers, two retries
    assert requests.count("GetJob") == 2
    assert [w.method for w in requests.writes() if not w.method.startswith("Create")] == [
        "PauseJob"
    ]
    # The read-back plans against the whole desired state: the job desired paused is paused
    # there, and that PAUSE stands for its Create (as an UPDATE would).
    found = [(e["name"], e["verbs"]) for e in logs if e["event"] == "already_exists"]
    assert found == [("shop--cleanup", ["unchanged"]), ("shop--report", ["pause"])]
    assert report.counts() == {"create": 3, "pause": 1}
    report_job = scheduler_api.get_job(name=_job_path(project, "shop--report"))
    assert report_job.state == scheduler_v1.Job.State.PAUSED
    assert reconciler.run_pass([_desired(project)]).writes == 0


def test_a_lost_create_then_changed_by_someone_else_is_updated_with_a_mask(
    clients: gcp_clients.Clients,
    project: str,
    cloud_scheduler_emulator: running.Service,
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    path = _job_path(project, "shop--cleanup")

    def someone_edits_while_we_back_off(seconds: float) -> None:
        _edit(scheduler_api, path, scheduler_v1.Job(schedule="*/9 * * * *"), "schedule")

    _lose_create_answers(cloud_scheduler_emulator)
    reconciler = _retrying_jobs(clients, someone_edits_while_we_back_off)
    desired = resources.registry(project, jobs=(resources.job("cleanup"),))

    with structlog.testing.capture_logs() as logs:
        report = reconciler.run_pass([desired])

    assert report.converged, report.failures
    updates = [w for w in cloud_scheduler_emulator.requests.writes() if w.method == "UpdateJob"]
    assert [u.update_mask for u in updates] == [("schedule",)] * 2  # theirs, then ours
    assert report.writes == 3  # the create, its retry, the update
    assert [(o.action.verb, o.applied, o.ok) for o in report.outcomes] == [
        (plans.Verb.UPDATE, True, True)
    ]
    assert [e["verbs"] for e in logs if e["event"] == "already_exists"] == [["update"]]
    assert scheduler_api.get_job(name=path).schedule == "0 3 * * *"


def test_a_create_that_meets_someone_elses_resource_is_the_usual_conflict(
    clients: gcp_clients.Clients,
    project: str,
    cloud_scheduler_emulator: running.Service,
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    parent = _parent(project)
    foreign = scheduler_v1.Job(
        name=_job_path(project, "shop--cleanup"),
        description="hand-made",
        schedule="0 1 * * *",
        http_target=scheduler_v1.HttpTarget(uri="https://other.example.com/"),
    )

    def someone_takes_the_name_while_we_back_off(seconds: float) -> None:
        scheduler_api.create_job(parent=parent, job=foreign)

    cloud_scheduler_emulator.faults.inject("CreateJob", grpc.StatusCode.UNAVAILABLE)
    reconciler = _retrying_jobs(clients, someone_takes_the_name_while_we_back_off)

    with structlog.testing.capture_logs() as logs:
        report = reconciler.run_pass(
            [resources.registry(project, jobs=(resources.job("cleanup"),))]
        )

    assert not report.converged and not report.failed
    assert [(a.verb, a.name) for a in report.pending] == [(plans.Verb.CONFLICT, "shop--cleanup")]
    (conflict,) = [e for e in logs if e["event"] == "conflict"]
    assert "not ours (it has no ownership marker)" in conflict["reason"]
    assert scheduler_api.get_job(name=foreign.name).description == "hand-made"
    # Ours (refused), theirs, our retry: nothing else was written.
    assert [w.method for w in cloud_scheduler_emulator.requests.writes()] == ["CreateJob"] * 3
    assert report.writes == 2


def test_a_job_desired_paused_whose_name_someone_else_took_is_left_alone(
    clients: gcp_clients.Clients,
    project: str,
    cloud_scheduler_emulator: running.Service,
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    """The plan's PAUSE after the Create is about our job: once the read-back finds someone
    else's, it is not sent to theirs."""
    foreign = scheduler_v1.Job(
        name=_job_path(project, "shop--report"),
        schedule="0 1 * * *",
        http_target=scheduler_v1.HttpTarget(uri="https://other.example.com/"),
    )
    cloud_scheduler_emulator.faults.inject("CreateJob", grpc.StatusCode.UNAVAILABLE)
    reconciler = _retrying_jobs(
        clients, lambda seconds: scheduler_api.create_job(parent=_parent(project), job=foreign)
    )
    desired = resources.registry(project, jobs=(resources.job("report", paused=True),))

    report = reconciler.run_pass([desired])

    assert [(a.verb, a.name) for a in report.pending] == [(plans.Verb.CONFLICT, "shop--report")]
    assert [w.method for w in cloud_scheduler_emulator.requests.writes()] == ["CreateJob"] * 3
    assert scheduler_api.get_job(name=foreign.name).state == scheduler_v1.Job.State.ENABLED


def test_a_lost_create_of_a_job_found_already_paused_is_not_resumed_and_paused_again(
    clients: gcp_clients.Clients,
    project: str,
    cloud_scheduler_emulator: running.Service,
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    path = _job_path(project, "shop--report")
    paused: list[str] = []

    def someone_pauses_it_while_we_back_off(seconds: float) -> None:
        if not paused:
            paused.append(scheduler_api.pause_job(name=path).name)

    _lose_create_answers(cloud_scheduler_emulator)
    reconciler = _retrying_jobs(clients, someone_pauses_it_while_we_back_off)
    desired = resources.registry(project, jobs=(resources.job("report", paused=True),))

    with structlog.testing.capture_logs() as logs:
        report = reconciler.run_pass([desired])

    assert report.converged, report.failures
    assert paused == [path]
    # Ours (answer lost), the pause of the test, our retry: no RESUME, no second PAUSE.
    writes = cloud_scheduler_emulator.requests.writes()
    assert [w.method for w in writes] == ["CreateJob", "PauseJob", "CreateJob"]
    assert [e["verbs"] for e in logs if e["event"] == "already_exists"] == [["unchanged"]]
    assert [(o.action.verb, o.applied, o.ok) for o in report.outcomes] == [
        (plans.Verb.CREATE, True, True)
    ]
    assert scheduler_api.get_job(name=path).state == scheduler_v1.Job.State.PAUSED


def test_a_job_desired_paused_whose_create_failed_is_not_paused_too(
    clients: gcp_clients.Clients, project: str, cloud_scheduler_emulator: running.Service
) -> None:
    cloud_scheduler_emulator.faults.inject("CreateJob", grpc.StatusCode.PERMISSION_DENIED)
    seen: list[progress.Progress] = []
    reconciler = reconciling.Reconciler(
        clients, kinds={plans.Kind.SCHEDULER_JOB}, on_progress=seen.append, **FAST
    )
    desired = resources.registry(project, jobs=(resources.job("report", paused=True),))

    report = reconciler.run_pass([desired])

    assert [(o.action.verb, o.ok) for o in report.outcomes] == [(plans.Verb.CREATE, False)]
    assert [w.method for w in cloud_scheduler_emulator.requests.writes()] == ["CreateJob"]
    assert (seen[-1].done, seen[-1].total) == (2, 2)  # the PAUSE it settled is counted done


def test_a_subscription_whose_create_answer_was_lost_is_read_back(
    clients: gcp_clients.Clients,
    project: str,
    pubsub_emulator: pubsub.PubSubEmulator,
    subscriber_api: pubsub_v1.SubscriberClient,
) -> None:
    injected, recorder = faults.Faults(), _Recorder()
    injected.inject("CreateSubscription", grpc.StatusCode.DEADLINE_EXCEEDED, after=True)
    channel = grpc.intercept_channel(
        grpc.insecure_channel(pubsub_emulator.host), recorder, faults.Interceptor(injected)
    )
    subscriber = pubsub_v1.SubscriberClient(transport=SubscriberGrpcTransport(channel=channel))
    reconciler = reconciling.Reconciler(
        dataclasses.replace(clients, subscriber=subscriber),
        kinds={plans.Kind.SUBSCRIPTION},
        backoff=QUICK_RETRIES,
        **FAST,
    )
    desired = resources.registry(project, subs=(resources.subscription(),))

    try:
        report = reconciler.run_pass([desired])
    finally:
        subscriber.close()

    assert report.converged, report.failures
    assert [f.method for f in injected.fired] == ["CreateSubscription"]
    assert [method for method, _ in recorder.requests] == [
        "ListSubscriptions",
        "CreateSubscription",  # NOT_FOUND: the topic is created (by the publisher client)
        "CreateSubscription",  # made, answer lost
        "CreateSubscription",  # ALREADY_EXISTS
        "GetSubscription",
    ]
    name = f"projects/{project}/subscriptions/shop--orders--order-created"
    assert subscriber_api.get_subscription(subscription=name).labels["gcptasks-owner"] == "shop"


# -- quota errors slow the rest of the pass ----------------------------------------------------


def test_a_quota_error_slows_every_later_write_of_the_pass_then_the_rate_recovers(
    clients: gcp_clients.Clients, project: str, cloud_scheduler_emulator: running.Service
) -> None:
    fake = FakeTime()
    reconciler = reconciling.Reconciler(
        clients,
        kinds={plans.Kind.SCHEDULER_JOB},
        writes_per_second=5.0,
        backoff=QUICK_RETRIES,
        sleep=fake.sleep,
        clock=fake.clock,
    )
    jobs = tuple(resources.job(f"j{index:02}") for index in range(10))
    cloud_scheduler_emulator.faults.inject("CreateJob", grpc.StatusCode.RESOURCE_EXHAUSTED)

    with structlog.testing.capture_logs() as logs:
        report = reconciler.run_pass([resources.registry(project, jobs=jobs)])

    assert report.converged, report.failures
    assert report.api_errors == {"RESOURCE_EXHAUSTED": 1} and report.retries == 1
    (lowered,) = [e for e in logs if e["event"] == "write_rate_lowered"]
    assert (lowered["rate"], lowered["previous_rate"], lowered["normal_rate"]) == (2.5, 5.0, 5.0)
    assert lowered["operation"] == "CreateJob"
    # The retry and the nine other creates waited for the lowered, slowly rising rate: at 5/s
    # their burst would have let them all go at once.
    waits = [seconds for seconds in fake.slept if seconds > QUICK_RETRIES.cap]
    assert len(waits) == 10
    assert all(1 / 5.0 < wait <= 1 / 2.5 for wait in waits)
    assert waits == sorted(waits, reverse=True)
    assert [e for e in logs if e["event"] == "write_rate_restored"] == []

    fake.now += 60.0  # a resync later, the quota window has passed
    more = (*jobs, resources.job("late"))
    with structlog.testing.capture_logs() as logs:
        assert reconciler.run_pass([resources.registry(project, jobs=more)]).converged

    (restored,) = [e for e in logs if e["event"] == "write_rate_restored"]
    assert restored["rate"] == 5.0


def test_a_long_pass_logs_its_progress_every_ten_seconds(
    clients: gcp_clients.Clients, project: str, cloud_scheduler_emulator: running.Service
) -> None:
    fake = FakeTime()
    seen: list[progress.Progress] = []
    reconciler = reconciling.Reconciler(
        clients,
        kinds={plans.Kind.SCHEDULER_JOB},
        writes_per_second=1.0,  # the bucket's sleeps move the fake clock a second a write
        sleep=fake.sleep,
        clock=fake.clock,
        on_progress=seen.append,
    )
    jobs = tuple(resources.job(f"j{index:02}") for index in range(25))

    with structlog.testing.capture_logs() as logs:
        report = reconciler.run_pass([resources.registry(project, jobs=jobs)])

    assert report.converged
    logged = [e for e in logs if e["event"] == "reconcile_progress"]
    # Write k is made at second k-1 (a burst of one, then one a second).
    assert [(e["done"], e["total"], e["rate"], e["eta_s"]) for e in logged] == [
        (11, 25, 1.1, 13),
        (21, 25, 1.05, 4),
    ]
    assert (seen[0].done, seen[-1].done, seen[-1].total) == (0, 25, 25)
    assert report.duration == 24.0


def test_a_dry_run_or_a_pass_without_drift_has_no_progress(
    converged: tuple[reconciling.Reconciler, model.Registry], clients: gcp_clients.Clients
) -> None:
    _, desired = converged
    seen: list[progress.Progress] = []
    reconciler = reconciling.Reconciler(clients, on_progress=seen.append, **FAST)

    first, *rest = desired.scheduler_jobs
    drifted = (dataclasses.replace(first, schedule="1 1 * * *"), *rest)

    reconciler.run_pass([desired])
    dry = reconciler.run_pass([dataclasses.replace(desired, scheduler_jobs=drifted)], dry_run=True)

    assert [a.verb for a in dry.pending] == [plans.Verb.UPDATE]
    assert seen == []


@pytest.mark.parametrize("enabled_before", [True, False])
def test_the_collector_is_off_while_a_pass_plans_and_as_it_was_while_the_pass_writes(
    clients: gcp_clients.Clients,
    project: str,
    cloud_scheduler_emulator: running.Service,
    enabled_before: bool,
) -> None:
    """A pass's objects die with it and hold no cycles: the collector is off while it lists and
    plans (it scanned them, and the registries, for nothing). Writes are rate limited, maybe for
    an hour, and the switch is the whole process's: the collector is as it was while they go."""
    listing: list[bool] = []  # read as a failed List backs off
    writing: list[bool] = []  # read as each write is counted done
    cloud_scheduler_emulator.faults.inject("ListJobs", grpc.StatusCode.UNAVAILABLE)
    reconciler = reconciling.Reconciler(
        clients,
        backoff=QUICK_RETRIES,
        sleep=lambda seconds: listing.append(gc.isenabled()),
        on_progress=lambda done: writing.append(gc.isenabled()),
        **FAST,
    )
    if not enabled_before:
        gc.disable()
    try:
        report = reconciler.run_pass([_desired(project)])
        enabled_after = gc.isenabled()
    finally:
        gc.enable()

    assert report.converged and report.counts() == {"create": 4, "pause": 1}
    assert listing == [False]
    assert len(writing) == 6 and set(writing) == {enabled_before}  # the start, then 5 writes
    assert enabled_after is enabled_before
