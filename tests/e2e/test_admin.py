"""The admin end to end, as a person on call uses it: headless Chromium against the live example
app, the emulators and the controller (`gcp-tasks-controller run --registry FILE`), no mocks.

Chromium and its driver come from `make system-packages`; when they are missing these tests fail.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest
from google.cloud import scheduler_v1
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from emulators import testing
from examples import admin_site
from tools import admin_pages, chromium

JOB = admin_site.NIGHTLY_JOB
JOB_PATH = f"projects/{admin_site.PROJECT}/locations/{admin_site.LOCATION}/jobs/{JOB}"
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[admin_site.Site]:
    site = admin_site.start(pathlib.Path(tmp_path_factory.mktemp("admin-site")))
    yield site
    site.stop()


@pytest.fixture(scope="module")
def browser(site: admin_site.Site) -> Iterator[WebDriver]:
    with chromium.browser() as driver:
        admin_pages.log_in(driver, site.url, admin_site.USERNAME, admin_site.PASSWORD)
        yield driver


@pytest.fixture(scope="module")
def scheduler(site: admin_site.Site) -> Iterator[scheduler_v1.CloudSchedulerClient]:
    client = testing.scheduler_client(site.services.scheduler.host)
    yield client
    client.transport.close()


def state(scheduler: scheduler_v1.CloudSchedulerClient) -> str:
    return scheduler.get_job(name=JOB_PATH).state.name


def test_a_periodic_task_shows_its_live_state(site, browser):
    browser.get(f"{site.url}{admin_pages.PERIODIC}")

    assert browser.title.startswith("Periodic tasks")
    row = admin_pages.job_row(browser, JOB).text
    assert admin_site.NIGHTLY in row and "0 3 * * *" in row and "Europe/London" in row
    assert admin_pages.cell(browser, JOB, "cloud") == "ENABLED"
    assert admin_pages.cell(browser, JOB, "in-line") == "yes"
    assert admin_pages.cell(browser, JOB, "next-run").endswith(("UTC", "GMT"))


def test_run_now_fires_the_job_and_its_execution_appears(site, browser):
    browser.get(f"{site.url}{admin_pages.PERIODIC}")

    admin_pages.follow(browser, admin_pages.job_row(browser, JOB).find_element(By.NAME, "run"))

    assert any(f"Run now: {JOB} fires now" in m for m in admin_pages.messages(browser))
    admin_pages.reload_until(
        browser, lambda: "OK" in admin_pages.cell(browser, JOB, "last-attempt")
    )
    admin_pages.follow(
        browser, admin_pages.job_row(browser, JOB).find_element(By.LINK_TEXT, "Recent executions")
    )
    rows = admin_pages.reload_until(browser, lambda: admin_pages.result_rows(browser))
    assert admin_site.NIGHTLY in rows[0] and "SUCCESSFUL" in rows[0]


def test_a_pause_is_applied_and_kept_by_the_controller_until_resumed(site, browser, scheduler):
    browser.get(f"{site.url}{admin_pages.PERIODIC}")
    admin_pages.follow(
        browser, admin_pages.job_row(browser, JOB).find_element(By.LINK_TEXT, "Pause…")
    )
    browser.find_element(By.NAME, "reason").send_keys("the report mailer is down")
    admin_pages.follow(browser, browser.find_element(By.NAME, "pause"))

    assert any(f"Paused {JOB}" in m for m in admin_pages.messages(browser))
    assert "Registry exported (file " in " ".join(admin_pages.messages(browser))
    assert "the report mailer is down" in admin_pages.cell(browser, JOB, "desired")
    admin_pages.reload_until(browser, lambda: admin_pages.cell(browser, JOB, "cloud") == "PAUSED")
    assert admin_pages.cell(browser, JOB, "in-line") == "yes"
    assert state(scheduler) == "PAUSED"

    mark = site.controller.mark
    testing.eventually(lambda: len(site.controller.logged("reconcile_pass", since=mark)) >= 2, 30)
    assert state(scheduler) == "PAUSED"  # kept across resyncs, not "fixed" back
    assert not site.controller.logged("verb=resume", f"name={JOB}", since=mark)

    admin_pages.follow(browser, admin_pages.job_row(browser, JOB).find_element(By.NAME, "resume"))

    assert any(f"Resumed {JOB}" in m for m in admin_pages.messages(browser))
    admin_pages.reload_until(browser, lambda: admin_pages.cell(browser, JOB, "cloud") == "ENABLED")
    assert state(scheduler) == "ENABLED"


def test_a_failed_execution_shows_its_traceback(site, browser):
    site.enqueue_failing_task()
    browser.get(f"{site.url}{admin_pages.EXECUTIONS}?task__exact=FailingTask&status__exact=FAILED")
    admin_pages.reload_until(browser, lambda: admin_pages.result_rows(browser))

    admin_pages.follow(browser, browser.find_element(By.CSS_SELECTOR, "#result_list tbody tr th a"))

    traceback = browser.find_element(By.CSS_SELECTOR, "pre.gcptasks-traceback").text
    assert "Traceback (most recent call last)" in traceback
    assert "return 1 / 0" in traceback and "ZeroDivisionError: division by zero" in traceback
    assert browser.find_elements(By.NAME, "retry")  # a superuser may retry it
