"""docs/django.md: the settings table and the system check ids, against the code that reads them."""

from __future__ import annotations

import ast
import inspect
import json
import logging
import logging.config
import os
import re
import subprocess
import sys
from typing import Any

import pytest
from django.core.management.base import BaseCommand
from django.test import override_settings

from controller.registry import documents
from django_integration import checks, conf, loggers
from django_integration.devserver import overrides
from django_integration.management.commands import gcp_devserver
from tests.docs import pages

PAGE = pages.DOCS / "django.md"
SETTING_NAME = re.compile(r"GCP_[A-Z0-9_]+")
ENVIRONMENT_READS = {"os.environ.get", "os.getenv"}

pytestmark = pytest.mark.django_tests


def settings_read_by_conf() -> set[str]:
    """Every `GCP_*` name conf.py reads from Django's settings (not those it reads only from
    the environment), found in its source so that a new setting cannot be missed."""
    tree = ast.parse(inspect.getsource(conf))
    environment_only = {
        id(node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ENVIRONMENT_READS and node.args
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and SETTING_NAME.fullmatch(node.value)
        and id(node) not in environment_only
    }


def check_ids_in_checks(source: Any = checks) -> set[str]:
    """The id of every check checks.py (or one of its functions) can report, formatted by
    checks.py's own helpers."""
    makers = {"_error": checks._error, "_warning": checks._warning}
    ids = set()
    for node in ast.walk(ast.parse(inspect.getsource(source))):
        call = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        if call and node.func.id in makers:
            number = node.args[0]
            assert isinstance(number, ast.Constant), ast.unparse(node)
            ids.add(makers[node.func.id](number.value, "").id)
    return ids


def test_the_settings_table_lists_exactly_the_settings_conf_reads() -> None:
    (table,) = pages.tables(pages.section(pages.read(PAGE), "Settings"))
    documented = [pages.first_code(row["setting"]) for row in table]
    assert len(documented) == len(set(documented)), "a setting is listed twice"
    read = settings_read_by_conf()
    assert len(read) > 15, read  # the scan itself works
    assert set(documented) == read


def test_the_logging_table_lists_exactly_the_apps_loggers() -> None:
    (table,) = pages.tables(pages.section(pages.read(PAGE), "Logging"))
    documented = {pages.first_code(row["logger"]) for row in table if row["logger"]}
    ours = {name for name in documented if name.startswith("django_integration")}
    assert ours == {logger.name for logger in loggers.ALL}
    assert "django.tasks" in documented  # where Django itself logs the django.tasks runs


@pytest.fixture
def logging_restored():
    """Every logger as it was, after a test applied a LOGGING of its own (dictConfig also resets
    the children of the loggers it names)."""
    existing = logging.Logger.manager.loggerDict.values()
    every = [logging.getLogger(), *(lg for lg in existing if isinstance(lg, logging.Logger))]
    saved = [(lg, lg.handlers[:], lg.level, lg.propagate, lg.disabled) for lg in every]
    yield
    for logger, handlers, level, propagate, disabled in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled


def test_the_cloud_logging_snippet_writes_cloud_logging_lines(logging_restored, capsys) -> None:
    text = pages.section(pages.read(PAGE), "JSON logs on Cloud Run and GKE")
    [snippet] = re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    namespace: dict[str, object] = {}
    exec(snippet, namespace)  # the documented settings, as settings.py would hold them
    logging.config.dictConfig(namespace["LOGGING"])
    loggers.tasks.info("Task %s succeeded", "Nightly", extra={"task": "Nightly"})

    [line] = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert list(record)[:3] == ["time", "severity", "message"]
    assert (record["severity"], record["message"]) == ("INFO", "Task Nightly succeeded")
    assert record["time"].endswith("Z") and record["task"] == "Nightly"


def test_the_system_checks_table_lists_exactly_the_ids_checks_reports() -> None:
    (table,) = pages.tables(pages.section(pages.read(PAGE), "System checks"))
    documented = [f"django_integration.{pages.first_code(row['id'])}" for row in table]
    assert len(documented) == len(set(documented)), "an id is listed twice"
    reported = check_ids_in_checks()
    assert len(reported) > 10, reported
    assert set(documented) == reported


def test_the_backend_checks_are_the_ids_backend_problems_reports() -> None:
    section = pages.section(pages.read(PAGE), "System checks")
    (paragraph,) = [text for text in section.split("\n\n") if "`backend.check()`" in text]
    backend_part = paragraph.split("`@periodic`")[0]
    mentioned = {
        f"django_integration.{code}" for code in re.findall(r"`([EW]\d{3})`", backend_part)
    }
    reported = check_ids_in_checks(checks.backend_problems)
    assert len(reported) >= 4, reported  # the scan itself works
    assert mentioned == reported


@pytest.mark.parametrize("page", pages.every_page(), ids=lambda path: path.name)
def test_every_check_id_the_docs_mention_exists(page) -> None:
    short = {check_id.removeprefix("django_integration.") for check_id in check_ids_in_checks()}
    mentioned = set(re.findall(r"`(?:django_integration\.)?([EW]\d{3})`", pages.read(page)))
    assert mentioned <= short, f"{page.name} mentions unknown checks {mentioned - short}"


def devserver_tables() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    options, settings = pages.tables(
        pages.section(pages.read(PAGE), "Local development: `manage.py gcp_devserver`")
    )
    return options, settings


def test_the_devserver_options_table_lists_exactly_the_commands_own_options() -> None:
    """Its own, not those every management command has (--settings, -v...)."""
    common = {
        option
        for action in BaseCommand().create_parser("manage.py", "any")._actions
        for option in action.option_strings
    }
    parser = gcp_devserver.Command().create_parser("manage.py", "gcp_devserver")
    own = {
        option
        for action in parser._actions
        for option in (action.option_strings or [action.dest.upper()])  # positional: ADDRPORT
        if option not in common
    }
    options, _ = devserver_tables()
    documented = [pages.first_code(row["option"]).split()[0] for row in options]
    assert len(own) >= 4, own  # the scan itself works
    assert sorted(documented) == sorted(own)


def test_the_devserver_settings_table_lists_exactly_what_it_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    backend = {
        "BACKEND": "django_integration.backends.CloudTasksBackend",
        "OPTIONS": {"DOMAIN": ""},
    }
    with override_settings(
        GCP_TASKS_PROJECT=None,
        GCP_TASKS_SERVICE_ACCOUNT_EMAIL=None,
        ALLOWED_HOSTS=[],
        TASKS={"default": backend},
    ):  # every conditional override applies
        local = overrides.compute(
            app_url="http://127.0.0.1:8000",
            push_host="127.0.0.1",
            tasks_host="127.0.0.1:1",
            certs_url="http://127.0.0.1:2/oauth2/v1/certs",
            registry_file="/tmp/registry.json",
        )
    _, settings = devserver_tables()
    documented = {name for row in settings for name in pages.code_spans(row["setting"])}
    assert documented == set(local)


def example_registry() -> str:
    """The example shop's registry, as its own `export_task_registry` writes it."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("GCP_", "GOOGLE_", "CLOUD_", "PUBSUB_"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="examples.project.settings",
        GCP_TASKS_DOMAIN="https://shop.example.com",
    )
    done = subprocess.run(
        [sys.executable, "examples/manage.py", "export_task_registry"],
        cwd=pages.ROOT,
        env=environment,
        capture_output=True,
        check=True,
        text=True,
        timeout=60,
    )
    return done.stdout


def test_the_devserver_sample_shows_every_job_and_subscription_of_the_example_shop() -> None:
    """The banner lists every job and subscription, and the first pass creates each of them."""
    section = pages.section(pages.read(PAGE), "Local development: `manage.py gcp_devserver`")
    (sample,) = re.findall(r"^```\n(Local Google Cloud .*?)^```", section, flags=re.M | re.S)
    desired = documents.parse(example_registry(), "example")
    jobs = [f"{job.name} ({job.schedule} {job.time_zone})" for job in desired.scheduler_jobs]
    subscriptions = [f"{sub.name} (topic {sub.topic})" for sub in desired.subscriptions]
    assert len(jobs) >= 2 and subscriptions, desired
    assert re.search(r"^  Cloud Scheduler .*  jobs: (.*)$", sample, flags=re.M)[1] == ", ".join(
        jobs
    )
    assert re.search(r"^  Pub/Sub .*  subscriptions: (.*)$", sample, flags=re.M)[1] == ", ".join(
        subscriptions
    )
    assert re.findall(r"^controller: .*$", sample, flags=re.M) == [
        *(f"controller: create scheduler job {job.name}" for job in desired.scheduler_jobs),
        *(f"controller: create subscription {sub.name}" for sub in desired.subscriptions),
    ]
