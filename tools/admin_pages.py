"""Steps on the example shop's admin pages in a real browser, shared by the end-to-end tests and
`make admin-screenshots`: log in, open a page, find a task's row, reload until something shows."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from selenium.common.exceptions import NoSuchElementException
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

T = TypeVar("T")

APP = "/admin/django_integration"
PERIODIC = f"{APP}/declaredperiodictask/"
SUBSCRIBERS = f"{APP}/declaredsubscribertask/"
EXECUTIONS = f"{APP}/taskexecution/"


def log_in(driver: WebDriver, url: str, username: str, password: str) -> None:
    driver.get(f"{url}/admin/login/")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    follow(driver, driver.find_element(By.CSS_SELECTOR, "input[type=submit]"))
    if not driver.find_elements(By.ID, "user-tools"):
        raise AssertionError(f"not logged in as {username}: {driver.page_source[:500]}")


def follow(driver: WebDriver, element: WebElement, timeout: float = 30.0) -> None:
    """Click a link or button and wait until the page it leads to has loaded: a click returns
    once dispatched, and reading the page before the POST, redirect and GET are done reads the
    old one."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait = WebDriverWait(driver, timeout)
    wait.until(expected_conditions.staleness_of(page))
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def job_row(driver: WebDriver, job: str) -> WebElement:
    return driver.find_element(By.CSS_SELECTOR, f'tr.gcptasks-row[data-job="{job}"]')


def cell(driver: WebDriver, job: str, name: str) -> str:
    """The text of a column (`cloud`, `in-line`, `desired`, `last-attempt`...) of a job's row."""
    return job_row(driver, job).find_element(By.CSS_SELECTOR, f"td.gcptasks-{name}").text


def messages(driver: WebDriver) -> list[str]:
    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, "ul.messagelist li")]


def result_rows(driver: WebDriver) -> list[str]:
    """The rows of a changelist table, as text."""
    return [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")]


def reload_until(
    driver: WebDriver, predicate: Callable[[], T], timeout: float = 30.0, every: float = 0.5
) -> T:
    """Reload the page until `predicate()` is truthy (an element missing counts as not yet)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = predicate()
        except NoSuchElementException:
            result = None  # type: ignore[assignment]
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not shown within {timeout:g}s on {driver.current_url}")
        time.sleep(every)
        driver.refresh()
