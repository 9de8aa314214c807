"""System checks: each misconfiguration gives its stable id, a sound setup gives none."""

import pytest
from django.core import checks as django_checks
from django.test import override_settings

from django_integration import checks
from django_integration.tasks import OnDemandTask, PeriodicTask, SubscriberTask


def ids():
    return sorted({message.id for message in checks.check_settings() + checks.check_tasks()})


def test_the_test_settings_are_sound():
    assert ids() == []


@pytest.mark.django_db  # Django's own model checks ask the database about JSON support
def test_checks_are_registered_with_django():
    with override_settings(GCP_TASKS_DOMAIN="http://insecure.example.com"):
        found = django_checks.run_checks()
    assert "django_integration.E002" in {message.id for message in found}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"GCP_TASKS_DOMAIN": None}, ["django_integration.E001"]),
        ({"GCP_TASKS_DOMAIN": None, "GCP_TASKS_EAGER_EXECUTE": True}, []),
        ({"GCP_TASKS_DOMAIN": "http://insecure.example.com"}, ["django_integration.E002"]),
        ({"GCP_TASKS_DOMAIN": "http://local", "GCP_TASKS_EMULATOR_TARGET": "h:1"}, []),
        ({"GCP_TASKS_DOMAIN": "http://local", "GCP_TASKS_EAGER_EXECUTE": True}, []),
        (
            {"GCP_TASKS_EAGER_EXECUTE": True, "GCP_TASKS_DISABLE_EXECUTE": True},
            ["django_integration.E003"],
        ),
        ({"GCP_TASKS_DEFAULT_QUEUE_NAME": None}, ["django_integration.E007"]),
        ({"GCP_TASKS_DEFAULT_QUEUE_NAME": "my_queue"}, ["django_integration.E007"]),
        ({"GCP_TASKS_DEFAULT_QUEUE_NAME": ["q"]}, ["django_integration.E007"]),
        ({"GCP_TASKS_RESOURCE_AFFIX": "my.shop"}, ["django_integration.E008"]),
        ({"GCP_TASKS_DELIMITER": "::"}, ["django_integration.E008"]),
        ({"GCP_TASKS_RESOURCE_AFFIX": "shop\n"}, ["django_integration.E008"]),
        ({"GCP_TASKS_DEFAULT_QUEUE_NAME": "default\n"}, ["django_integration.E007"]),
        ({"GCP_TASKS_REGISTRY_CONFIGMAP": "Not Valid"}, ["django_integration.E010"]),
        (
            {"GCP_TASKS_REGISTRY_CONFIGMAP": "ns/name", "GCP_TASKS_RESOURCE_AFFIX": None},
            ["django_integration.E010", "django_integration.W004"],
        ),
        ({"ROOT_URLCONF": "tests.django_integration.no_urls"}, ["django_integration.E011"]),
        ({"GCP_TASKS_REGISTRY_OWNER": "Not A Label"}, ["django_integration.E012"]),
        ({"GCP_TASKS_DISABLE_AUTH": True, "DEBUG": False}, ["django_integration.W001"]),
        ({"GCP_TASKS_DISABLE_AUTH": True, "DEBUG": True}, []),
        ({"GCP_TASKS_INVOKER_SERVICE_ACCOUNT_EMAILS": []}, ["django_integration.W002"]),
        ({"GCP_TASKS_INVOKER_SERVICE_ACCOUNT_EMAILS": "a@b.c"}, ["django_integration.E013"]),
        ({"GCP_INVOKER_SERVICE_ACCOUNT_EMAILS": [1]}, ["django_integration.E013"]),
        ({"GCP_TASKS_DISABLE_AUTH": "true"}, ["django_integration.E013"]),
        ({"GCP_TASKS_DISABLE_AUTH": 1}, ["django_integration.E013"]),
        ({"GCP_TASKS_DISABLE_AUTH": False}, []),
        (
            {"GCP_TASKS_SERVICE_ACCOUNT_EMAIL": None},
            ["django_integration.W002", "django_integration.W003"],
        ),
        ({"GCP_TASKS_RESOURCE_AFFIX": None}, ["django_integration.W004"]),
    ],
)
def test_misconfiguration_is_reported_with_its_id(overrides, expected, monkeypatch):
    monkeypatch.delenv("CLOUD_TASKS_EMULATOR_HOST", raising=False)
    with override_settings(**overrides):
        assert ids() == expected


@pytest.mark.usefixtures("isolated_registrations")
@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"run_every": None}, "django_integration.E004"),
        ({"run_every": "every hour"}, "django_integration.E004"),
        ({"run_every": "0 0 * * * *"}, "django_integration.E004"),
        ({"run_every": "0 0 L * *"}, "django_integration.E004"),
        ({"run_every": "0 * * * *", "time_zone": "Mars/Olympus"}, "django_integration.E005"),
        ({"run_every": "0 * * * *", "attempt_deadline": 5}, "django_integration.E012"),
        ({"run_every": "0 * * * *", "max_backoff_duration": 1}, "django_integration.E012"),
    ],
)
def test_periodic_tasks_the_scheduler_would_refuse(attributes, expected):
    type("Broken", (PeriodicTask,), {"__module__": __name__, **attributes})
    messages = [m for m in checks.check_tasks() if m.id == expected]
    assert len(messages) == 1
    assert messages[0].msg.startswith(("Broken:", "Task registry:"))


@pytest.mark.usefixtures("isolated_registrations")
@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({}, "django_integration.E009"),
        ({"topic_id": "go"}, "django_integration.E009"),
        ({"topic_id": "goog-reserved"}, "django_integration.E012"),
        ({"topic_id": "events", "ack_deadline_seconds": 5}, "django_integration.E012"),
        ({"topic_id": "events", "labels": {"Team": "x"}}, "django_integration.E012"),
    ],
)
def test_subscriber_tasks_pubsub_would_refuse(attributes, expected):
    type("BrokenSubscriber", (SubscriberTask,), {"__module__": __name__, **attributes})
    assert expected in ids()


@pytest.mark.usefixtures("isolated_registrations")
def test_task_name_conflicts_are_errors():
    type("Twin", (OnDemandTask,), {"__module__": "one.tasks"})
    type("Twin", (OnDemandTask,), {"__module__": "two.tasks"})
    [message] = [m for m in checks.check_tasks() if m.id == "django_integration.E006"]
    assert "one.tasks.Twin" in message.msg and "two.tasks.Twin" in message.msg


# -- CloudTasksBackend (its check(), which Django's task framework runs) and storage ------------

BACKEND = "django_integration.backends.CloudTasksBackend"


def backend_ids(**params):
    from django_integration import framework

    with override_settings(TASKS={"default": {"BACKEND": BACKEND, **params}}):
        return sorted({message.id for message in framework.task_backends["default"].check()})


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, []),
        ({"OPTIONS": {"DEDUPLICATE": True, "QUEUE_IDS": {"reports": "shop-reports"}}}, []),
        ({"OPTIONS": {"DEDUPLICATES": True}}, ["django_integration.E014"]),
        ({"OPTIONS": {"DISPATCH_DEADLINE": 5}}, ["django_integration.E014"]),
        ({"QUEUES": ["default", "my_reports"]}, ["django_integration.E007"]),
        ({"OPTIONS": {"QUEUE_IDS": {"default": "bad id"}}}, ["django_integration.E007"]),
        ({"OPTIONS": {"DOMAIN": "http://insecure.example.com"}}, ["django_integration.E001"]),
        (
            {"OPTIONS": {"SERVICE_ACCOUNT_EMAIL": "other@p.iam.gserviceaccount.com"}},
            ["django_integration.W005"],
        ),
    ],
)
def test_backend_misconfiguration_has_stable_ids(params, expected):
    assert backend_ids(**params) == expected


@pytest.mark.django_db
def test_recording_without_its_tables_is_a_warning_with_check_database():
    from django.db import connection

    from django_integration import models

    with override_settings(GCP_TASKS_RECORD_EXECUTIONS=True):
        assert checks.check_storage(databases=["default"]) == []
        assert checks.check_storage() == []  # not asked to look at databases
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {models.TaskExecution._meta.db_table}")
            cursor.execute(f"DROP TABLE {models.TaskRun._meta.db_table}")
        [warning] = checks.check_storage(databases=["default"])
    assert warning.id == "django_integration.W006" and "migrate" in warning.hint
    assert checks.check_storage(databases=["default"]) == []  # recording off: nothing to say
