import datetime
import zoneinfo
from datetime import UTC, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_integration import enqueueing, exceptions, payloads, tasks
from django_integration.tasks import OnDemandTask, PeriodicTask, SubscriberTask
from tests.django_integration.testapp import tasks as testapp_tasks

pytestmark = pytest.mark.usefixtures("isolated_registrations")


@pytest.mark.parametrize("base", [tasks.Task, OnDemandTask, PeriodicTask, SubscriberTask])
def test_base_classes_cannot_be_instantiated(base):
    with pytest.raises(exceptions.IncorrectTaskUsageError, match="Inherit and create your own"):
        base()


def test_subclasses_register_themselves_by_kind():
    class Thumbnail(OnDemandTask):
        def run(self, **kwargs):
            return kwargs

    class Cleanup(PeriodicTask):
        run_every = "0 * * * *"

    class Listener(SubscriberTask):
        topic_id = "events"

    assert tasks.on_demand_tasks()["Thumbnail"] is Thumbnail
    assert tasks.periodic_tasks()["Cleanup"] is Cleanup
    assert tasks.subscriber_tasks()["Listener"] is Listener
    assert "Thumbnail" not in tasks.periodic_tasks() | tasks.subscriber_tasks()


def test_abstract_tasks_are_not_registered_but_their_subclasses_are():
    class Family(OnDemandTask):
        abstract = True

    class Member(Family):
        pass

    assert "Family" not in tasks.registered()
    assert tasks.registered()["Member"] is Member
    assert Family.abstract and not Member.abstract
    Family()  # an abstract task of the user's own may be instantiated, as in django-gcp


def test_two_classes_with_one_name_are_a_conflict():
    def define():
        class Twin(OnDemandTask):
            pass

        return Twin

    first = define()
    assert tasks.conflicts() == {}  # the same class defined again is not a conflict
    define()

    class Twin(OnDemandTask):  # same name, another qualname
        pass

    assert tasks.conflicts() == {
        "Twin": sorted([f"{__name__}.{first.__qualname__}", f"{__name__}.{Twin.__qualname__}"])
    }


def test_name_slug_queue_and_url():
    task = testapp_tasks.RecordingTask()
    assert task.name() == "RecordingTask"
    assert task.slug == "recordingtask"
    assert task.queue_name == "test-queue"
    assert task.url() == "https://tasks.example.com/gcp/tasks/RecordingTask"
    assert testapp_tasks.RecordingSubscriber.url() == (
        "https://tasks.example.com/gcp/subscriber-tasks/RecordingSubscriber"
    )
    assert testapp_tasks.HourlyTask().schedule_name == "test--hourlytask"
    assert testapp_tasks.RecordingSubscriber().subscription_id == (
        "test--test-events--recordingsubscriber"
    )


def test_missing_queue_name_is_a_clear_error():
    with (
        override_settings(GCP_TASKS_DEFAULT_QUEUE_NAME=None),
        pytest.raises(ImproperlyConfigured, match="GCP_TASKS_DEFAULT_QUEUE_NAME"),
    ):
        _ = testapp_tasks.RecordingTask().queue_name


@pytest.mark.parametrize(
    ("overrides", "allowed"),
    [
        ({"GCP_TASKS_DOMAIN": "https://x.example.com"}, True),
        ({"GCP_TASKS_DOMAIN": "http://x.example.com"}, False),
        ({"GCP_TASKS_DOMAIN": "http://x.example.com", "GCP_TASKS_EAGER_EXECUTE": True}, True),
        ({"GCP_TASKS_DOMAIN": "http://x.example.com", "GCP_TASKS_EMULATOR_TARGET": "h:1"}, True),
    ],
)
def test_domain_must_be_https_unless_eager_or_emulating(overrides, allowed, monkeypatch):
    monkeypatch.delenv("CLOUD_TASKS_EMULATOR_HOST", raising=False)
    with override_settings(**overrides):
        if allowed:
            assert testapp_tasks.RecordingTask.url().startswith(overrides["GCP_TASKS_DOMAIN"])
        else:
            with pytest.raises(exceptions.InvalidTaskDomainError, match="must use https://"):
                testapp_tasks.RecordingTask.url()


def test_missing_domain_is_a_clear_error():
    with (
        override_settings(GCP_TASKS_DOMAIN=None),
        pytest.raises(ImproperlyConfigured, match="GCP_TASKS_DOMAIN is not set"),
    ):
        testapp_tasks.RecordingTask.url()


@override_settings(GCP_TASKS_EAGER_EXECUTE=True)
def test_eager_execution_runs_inline_with_json_round_tripped_arguments():
    when = datetime.datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
    result = testapp_tasks.RecordingTask().enqueue(when=when, tags={"b", "a"})
    expected = {"when": "2025-01-15T12:00:00Z", "tags": ["a", "b"]}
    assert result == {"received": expected}
    assert testapp_tasks.runs_of("RecordingTask") == [(expected, None)]
    assert testapp_tasks.RecordingTask().enqueue_later(60, n=1) == {"received": {"n": 1}}


@override_settings(GCP_TASKS_DISABLE_EXECUTE=True)
def test_disabled_execution_does_nothing():
    assert testapp_tasks.RecordingTask().enqueue(n=1) is None
    assert testapp_tasks.RecordingTask().enqueue_later(timedelta(minutes=1), n=1) is None
    assert testapp_tasks.RecordingTask.enqueue_many([{"n": 1}, {"n": 2}]) == [None, None]
    assert testapp_tasks.runs_of("RecordingTask") == []
    assert testapp_tasks.RecordingTask().execute(n=3) == {"received": {"n": 3}}


@override_settings(GCP_TASKS_DISABLE_EXECUTE=True, GCP_TASKS_EAGER_EXECUTE=True)
def test_eager_and_disabled_together_are_refused():
    with pytest.raises(exceptions.IncompatibleSettingsError, match="mutually exclusive"):
        testapp_tasks.RecordingTask().enqueue(n=1)
    with pytest.raises(exceptions.IncompatibleSettingsError):
        testapp_tasks.RecordingTask.enqueue_many([{"n": 1}])
    assert testapp_tasks.runs_of("RecordingTask") == []


@override_settings(GCP_TASKS_EAGER_EXECUTE=True)
def test_eager_enqueue_many_reports_each_outcome():
    outcomes = testapp_tasks.ExplodingTask.enqueue_many([{"n": 1}, {"n": 2}])
    assert [type(outcome) for outcome in outcomes] == [RuntimeError, RuntimeError]
    assert testapp_tasks.RecordingTask.enqueue_many([{"n": 1}, {"x": object()}])[0] == {
        "received": {"n": 1}
    }


@pytest.mark.parametrize(
    ("when", "seconds"),
    [
        (0, 0),
        (90, 90),
        (2.5, 2.5),
        (timedelta(hours=1), 3600),
        (-30, 0),  # the past means now
        pytest.param(-(10**400), 0, id="huge-negative"),
        (timedelta.min, 0),
    ],
)
def test_enqueue_later_delays(when, seconds):
    before = datetime.datetime.now(UTC)
    at = tasks.schedule_time(when)
    after = datetime.datetime.now(UTC)
    assert before + timedelta(seconds=seconds) <= at <= after + timedelta(seconds=seconds)


def test_enqueue_later_reads_naive_datetimes_in_the_current_time_zone():
    aware = datetime.datetime.now(UTC) + timedelta(hours=2)
    assert tasks.schedule_time(aware) == aware
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")  # UTC+9 all year
    with override_settings(TIME_ZONE="Asia/Tokyo"):
        local = (datetime.datetime.now(tokyo) + timedelta(hours=1)).replace(tzinfo=None)
        assert tasks.schedule_time(local) == local.replace(tzinfo=tokyo)


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("tomorrow", "Unsupported schedule 'tomorrow' of type str"),
        (True, "of type bool"),
        (None, "of type NoneType"),
        (datetime.date(2030, 1, 1), "of type date"),
        (float("inf"), "must be finite"),
        (timedelta(days=31), "at most 30 days ahead"),
        pytest.param(10**400, "at most 30 days ahead", id="huge-int"),
        (1e12, "at most 30 days ahead"),
        (timedelta.max, "at most 30 days ahead"),
        (datetime.datetime.max, "at most 30 days ahead"),
    ],
)
def test_enqueue_later_refuses_what_is_not_a_delay(when, message):
    with pytest.raises(ValueError, match=message):
        testapp_tasks.RecordingTask().enqueue_later(when, n=1)


def test_requests_carry_the_task_details():
    class Slow(OnDemandTask):
        dispatch_deadline = 900

        @property
        def queue_name(self):
            return "slow-queue"

    request = Slow()._request({"b": 2, "a": 1}, None)
    assert request == enqueueing.TaskRequest(
        queue="slow-queue",
        url="https://tasks.example.com/gcp/tasks/Slow",
        body='{"a":1,"b":2}',
        task_id=None,
        schedule_time=None,
        dispatch_deadline=900,
    )


@pytest.mark.parametrize(
    ("affix", "suffix"),
    [("test", "--deduplicatedrecordingtask--test"), (None, "--deduplicatedrecordingtask")],
)
def test_deduplicated_task_ids_hash_the_canonical_payload(affix, suffix):
    task = testapp_tasks.DeduplicatedRecordingTask()
    with override_settings(GCP_TASKS_RESOURCE_AFFIX=affix):
        first = task._request({"a": 1, "b": [1, 2]}, None).task_id
        same = task._request({"b": [1, 2], "a": 1}, None).task_id
        other = task._request({"a": 2, "b": [1, 2]}, None).task_id
    sha = payloads.digest('{"a":1,"b":[1,2]}')
    assert first == same == f"{sha}{suffix}"
    assert other != first
    assert len(sha) >= 16


def test_subscriber_topic_must_be_declared():
    class Forgetful(SubscriberTask):
        pass

    with pytest.raises(NotImplementedError):
        _ = Forgetful().topic_id


def test_cached_url_follows_the_script_prefix_urlconf_and_settings():
    from django.urls import set_script_prefix, set_urlconf

    task = testapp_tasks.RecordingTask
    assert task.url() == "https://tasks.example.com/gcp/tasks/RecordingTask"
    set_script_prefix("/app/")
    try:
        assert task.url() == "https://tasks.example.com/app/gcp/tasks/RecordingTask"
    finally:
        set_script_prefix("/")
    set_urlconf("tests.django_integration.no_urls")
    try:
        with pytest.raises(Exception, match="gcp-tasks"):
            task.url()
    finally:
        set_urlconf(None)
    with override_settings(GCP_TASKS_DOMAIN="https://other.example.com"):
        assert task.url() == "https://other.example.com/gcp/tasks/RecordingTask"
    assert task.url() == "https://tasks.example.com/gcp/tasks/RecordingTask"


def test_cached_execution_mode_follows_override_settings():
    assert tasks._execution_mode() == "enqueue"
    with override_settings(GCP_TASKS_EAGER_EXECUTE=True):
        assert testapp_tasks.RecordingTask().enqueue(n=1) == {"received": {"n": 1}}
    with override_settings(GCP_TASKS_DISABLE_EXECUTE=True):
        assert testapp_tasks.RecordingTask().enqueue(n=1) is None
    assert tasks._execution_mode() == "enqueue"
