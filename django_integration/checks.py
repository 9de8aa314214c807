"""Django system checks: misconfiguration found at startup (`manage.py check`), with stable ids.

Errors stop `runserver`/`migrate`; warnings are printed. docs/django.md lists every id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings as django_settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse

from controller.registry import crons, documents, errors, rules, schemas
from django_integration import conf, exceptions, exporting, names, registry, schedules, tasks

_AFFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,99}$")
_DELIMITER = re.compile(r"^[A-Za-z0-9_-]{1,10}$")
_QUEUE_ID = re.compile(r"^[A-Za-z0-9-]{1,100}$")  # Cloud Tasks' rule for queue ids
# Registry fields that have a check of their own above (E004, E005): not reported twice.
_OWN_CHECKS = re.compile(r"\.(schedule|timeZone)$")


def _error(number: int, msg: str, hint: str | None = None, obj: Any = None) -> checks.Error:
    return checks.Error(msg, hint=hint, obj=obj, id=f"django_integration.E{number:03d}")


def _warning(number: int, msg: str, hint: str | None = None, obj: Any = None) -> checks.Warning:
    return checks.Warning(msg, hint=hint, obj=obj, id=f"django_integration.W{number:03d}")


@checks.register()
def check_settings(app_configs: Iterable[Any] | None = None, **kwargs: Any) -> list[Any]:
    """Settings that contradict each other or cannot work."""
    settings = conf.settings
    found: list[Any] = []
    eager, disabled = settings.eager_execute, settings.disable_execute
    if eager and disabled:
        found.append(
            _error(
                3,
                "GCP_TASKS_EAGER_EXECUTE and GCP_TASKS_DISABLE_EXECUTE are both set.",
                hint="They are mutually exclusive: set at most one.",
            )
        )
    needs_domain = bool(tasks.registered()) and not (eager or disabled)
    domain = settings.domain
    if needs_domain and not domain:
        found.append(
            _error(
                1,
                "GCP_TASKS_DOMAIN is not set.",
                hint="Set it to the https:// base URL Google pushes tasks to.",
            )
        )
    if domain and not domain.startswith("https://") and not (eager or settings.emulating):
        found.append(
            _error(
                2,
                f"GCP_TASKS_DOMAIN {domain!r} does not use https://.",
                hint="Google pushes only to https:// URLs; http:// is allowed with "
                "GCP_TASKS_EAGER_EXECUTE or an emulator (GCP_TASKS_EMULATOR_TARGET).",
            )
        )
    queue = settings.default_queue_name
    if tasks.on_demand_tasks() and not (eager or disabled) and not queue:
        found.append(
            _error(
                7,
                "GCP_TASKS_DEFAULT_QUEUE_NAME is not set but on-demand tasks are registered.",
                hint="Name the Cloud Tasks queue; it is created on the first enqueue.",
            )
        )
    if queue and not (isinstance(queue, str) and _QUEUE_ID.fullmatch(queue)):
        found.append(
            _error(
                7,
                f"GCP_TASKS_DEFAULT_QUEUE_NAME {queue!r} is not a Cloud Tasks queue id.",
                hint="Use 1-100 letters, digits or hyphens.",
            )
        )
    affix = settings.resource_affix
    if affix is not None and not _AFFIX.fullmatch(affix):
        found.append(
            _error(
                8,
                f"GCP_TASKS_RESOURCE_AFFIX {affix!r} cannot be part of resource names.",
                hint="Start with a letter; use only letters, digits, '_' and '-' (at most 100).",
            )
        )
    if not _DELIMITER.fullmatch(settings.delimiter):
        found.append(
            _error(
                8,
                f"GCP_TASKS_DELIMITER {settings.delimiter!r} cannot be part of resource names.",
                hint="Use 1-10 letters, digits, '_' or '-' (the default is '--').",
            )
        )
    return found + _check_authentication() + _check_registry_settings()


def _check_authentication() -> list[Any]:
    settings = conf.settings
    found: list[Any] = []
    disable = getattr(django_settings, "GCP_TASKS_DISABLE_AUTH", False)
    if not isinstance(disable, bool):
        found.append(
            _error(
                13,
                f"GCP_TASKS_DISABLE_AUTH must be True or False, not {disable!r}.",
                hint="Only True turns OIDC verification off; until then it stays on.",
            )
        )
    try:
        allowed = settings.invoker_service_account_emails
    except ImproperlyConfigured as error:
        hint = 'For example ["tasks@my-project.iam.gserviceaccount.com"].'
        return [*found, _error(13, f"{error}.", hint=hint)]
    if settings.auth_disabled:
        if not getattr(django_settings, "DEBUG", False):
            found.append(
                _warning(
                    1,
                    "OIDC verification of task requests is off (GCP_TASKS_DISABLE_AUTH) and "
                    "DEBUG is False: anyone who can reach the endpoints can run any task.",
                    hint="Remove GCP_TASKS_DISABLE_AUTH unless ingress is restricted otherwise.",
                )
            )
        return found
    if tasks.registered() and not allowed:
        found.append(
            _warning(
                2,
                "No service account may call the task endpoints: every push will get 403.",
                hint="Set GCP_TASKS_SERVICE_ACCOUNT_EMAIL or "
                "GCP_TASKS_INVOKER_SERVICE_ACCOUNT_EMAILS.",
            )
        )
    if tasks.registered() and not settings.eager_execute and not settings.service_account_email:
        found.append(
            _warning(
                3,
                "GCP_TASKS_SERVICE_ACCOUNT_EMAIL is not set: tasks, scheduler jobs and push "
                "subscriptions carry no OIDC token, and verification will refuse them (401).",
                hint="Name the service account Google signs push tokens for.",
            )
        )
    return found


def _check_registry_settings() -> list[Any]:
    settings = conf.settings
    found: list[Any] = []
    if registry.declares_resources() and not settings.resource_affix:
        found.append(
            _warning(
                4,
                "GCP_TASKS_RESOURCE_AFFIX is not set: the task registry cannot be exported and "
                "nothing can tell this app's scheduler jobs and subscriptions from others'.",
                hint="Set a short, unique affix such as the app's name.",
            )
        )
    target = settings.registry_configmap
    if target:
        try:
            exporting.parse_target(target)
        except ValueError as error:
            found.append(_error(10, f"GCP_TASKS_REGISTRY_CONFIGMAP: {error}"))
        if not settings.resource_affix:
            found.append(
                _error(
                    10,
                    "GCP_TASKS_REGISTRY_CONFIGMAP is set but GCP_TASKS_RESOURCE_AFFIX is not.",
                    hint="A registry needs an affix: every resource it owns starts with it.",
                )
            )
    return found


@checks.register()
def check_tasks(app_configs: Iterable[Any] | None = None, **kwargs: Any) -> list[Any]:
    """Task classes the cloud could not run as declared."""
    found: list[Any] = []
    for name, paths in tasks.conflicts().items():
        found.append(
            _error(
                6,
                f"Several task classes are named {name!r}: {', '.join(paths)}.",
                hint="Task names are URL path segments: rename one, or override name().",
            )
        )
    for name, cls in tasks.periodic_tasks().items():
        schedule = cls.run_every
        problem = (
            crons.problem(schedule)
            if isinstance(schedule, str)
            else "run_every is not set: give a unix-cron expression such as '0 * * * *'"
        )
        if problem:
            found.append(_error(4, f"{name}: {problem}", obj=cls))
        if not isinstance(cls.time_zone, str) or rules.time_zone_problem(cls.time_zone):
            found.append(
                _error(5, f"{name}: time_zone {cls.time_zone!r} is not an IANA name", obj=cls)
            )
    for path, schedule in schedules.schedules().items():
        problem = crons.problem(schedule.cron)
        if problem:
            found.append(_error(4, f"{path}: {problem}"))
        if rules.time_zone_problem(schedule.time_zone):
            found.append(_error(5, f"{path}: time_zone {schedule.time_zone!r} is not an IANA name"))
    for name, subscriber in tasks.subscriber_tasks().items():
        try:
            topic = subscriber().topic_id
        except Exception as error:  # a topic_id property may fail in any way
            topic, reason = None, f"topic_id is not set ({type(error).__name__})"
        else:
            reason = f"topic_id {topic!r} is not a Pub/Sub topic id"
        if not isinstance(topic, str) or not names.PUBSUB_ID.fullmatch(topic):
            found.append(_error(9, f"{name}: {reason}", obj=subscriber))
    if tasks.registered():
        for url_name in ("gcp-tasks", "gcp-subscriber-tasks"):
            try:
                reverse(url_name, args=("probe",))
            except NoReverseMatch:
                found.append(
                    _error(
                        11,
                        f"The URL named {url_name!r} does not resolve.",
                        hint='Add path("...", include("django_integration.urls")) to ROOT_URLCONF.',
                    )
                )
    return found + _check_registry()


def _check_registry() -> list[Any]:
    """The exported registry must pass the controller's own validation."""
    settings = conf.settings
    affix = settings.resource_affix
    if not affix or not registry.declares_resources():
        return []
    if not _AFFIX.fullmatch(affix) or not _DELIMITER.fullmatch(settings.delimiter):
        return []  # E008 says it
    try:
        document = documents.to_mapping(registry.build(project="checks-placeholder"))
    except Exception:  # the domain, URLs or topic ids are wrong: reported by their own checks
        return []
    source = "the task registry"
    problems: list[errors.RegistryError] = schemas.check(document, source)
    problems += rules.check(document, source)
    return [
        _error(12, f"Task registry: {problem.path}: {problem.message}")
        for problem in problems
        if not _OWN_CHECKS.search(problem.path)
    ]


def backend_problems(backend: Any) -> list[Any]:
    """What a `CloudTasksBackend` (its `check()`, run by Django's task framework) cannot do."""
    found: list[Any] = []
    from django_integration import backends

    unknown = sorted(set(backend.options) - set(backends.OPTIONS))
    if unknown:
        found.append(
            _error(
                14,
                f"TASKS[{backend.alias!r}] has unknown OPTIONS {', '.join(unknown)}.",
                hint=f"Known: {', '.join(sorted(backends.OPTIONS))}.",
            )
        )
    deadline = backend.dispatch_deadline
    if deadline is not None and not 15 <= deadline <= 1800:
        found.append(
            _error(
                14,
                f"TASKS[{backend.alias!r}] DISPATCH_DEADLINE {deadline:g} is outside 15-1800 "
                "seconds, the range Cloud Tasks accepts.",
            )
        )
    try:
        config = backend._config()
    except (ImproperlyConfigured, exceptions.InvalidTaskDomainError) as error:
        return [*found, _error(1, f"TASKS[{backend.alias!r}]: {error}")]
    for queue in sorted(backend.queues):
        queue_id = config.queue_ids.get(queue, queue)
        if not (isinstance(queue_id, str) and _QUEUE_ID.fullmatch(queue_id)):
            found.append(
                _error(
                    7,
                    f"TASKS[{backend.alias!r}] queue {queue!r} is Cloud Tasks queue id "
                    f"{queue_id!r}, which is not valid.",
                    hint="Use 1-100 letters, digits or hyphens, or map it with QUEUE_IDS.",
                )
            )
    try:
        reverse(backends.URL_NAME, args=("probe.task",))
    except NoReverseMatch:
        found.append(
            _error(
                11,
                f"The URL named {backends.URL_NAME!r} does not resolve.",
                hint='Add path("...", include("django_integration.urls")) to ROOT_URLCONF.',
            )
        )
    settings = conf.settings
    email = config.destination.service_account_email
    if not settings.auth_disabled and email:
        try:
            allowed = settings.invoker_service_account_emails
        except ImproperlyConfigured:
            allowed = frozenset([email])  # E013 says it
        if email not in allowed:
            found.append(
                _warning(
                    5,
                    f"TASKS[{backend.alias!r}] tasks carry tokens for {email}, which the "
                    "endpoints do not allow: every push will get 403.",
                    hint="Add it to GCP_TASKS_INVOKER_SERVICE_ACCOUNT_EMAILS.",
                )
            )
    return found


@checks.register(checks.Tags.database)
def check_storage(
    app_configs: Iterable[Any] | None = None, databases: Iterable[str] | None = None, **kwargs: Any
) -> list[Any]:
    """With recording on, its tables must exist (run only with `check --database`)."""
    if not conf.settings.record_executions or not databases:
        return []
    from django.db import connections, router

    from django_integration import models

    database = router.db_for_write(models.TaskRun)
    if database not in databases:
        return []
    table = models.TaskRun._meta.db_table
    try:
        tables = connections[database].introspection.table_names()
    except Exception as error:  # an unreachable database is reported by Django itself
        return [_warning(6, f"Could not look for {table} in database {database!r}: {error}")]
    if table in tables:
        return []
    return [
        _warning(
            6,
            f"GCP_TASKS_RECORD_EXECUTIONS is on but the table {table} does not exist in "
            f"database {database!r}: task runs are not recorded and results cannot be read.",
            hint="Run `manage.py migrate django_integration`, or turn the setting off.",
        )
    ]
