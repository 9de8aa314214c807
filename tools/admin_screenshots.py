"""`make admin-screenshots`: the admin's three pages, taken from the live example site (emulators,
app, controller) in headless Chromium, written to docs/images/admin-*.png.

Run it again whenever the pages change: the images are generated, never drawn by hand.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile

from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from controller import logs
from examples import admin_site
from tools import admin_pages, chromium

IMAGES = pathlib.Path(__file__).resolve().parent.parent / "docs" / "images"
WIDTH = 1360
MAX_HEIGHT = 1600


def take(driver: WebDriver, url: str, name: str) -> pathlib.Path:
    """A screenshot of the whole page at `url`, the window grown to the page's height."""
    driver.set_window_size(WIDTH, 600)
    driver.get(url)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    # The window's outer size includes what headless Chromium keeps for its own frame.
    chrome = int(driver.execute_script("return window.outerHeight - window.innerHeight"))
    driver.set_window_size(WIDTH, min(height, MAX_HEIGHT) + chrome)
    path = IMAGES / f"admin-{name}.png"
    driver.save_screenshot(str(path))
    return path


def main() -> int:
    logs.configure(json=False, level="WARNING")
    IMAGES.mkdir(parents=True, exist_ok=True)
    job = admin_site.NIGHTLY_JOB
    with tempfile.TemporaryDirectory() as workdir:
        site = admin_site.start(pathlib.Path(workdir))
        try:
            with chromium.browser(width=WIDTH) as driver:
                admin_pages.log_in(driver, site.url, admin_site.USERNAME, admin_site.PASSWORD)
                # Something to show: a run now, a failed task, and a pause the cloud has applied.
                driver.get(f"{site.url}{admin_pages.PERIODIC}")
                # The pages, not the navigation: the sidebar stays closed (the admin remembers).
                driver.find_element(By.ID, "toggle-nav-sidebar").click()
                admin_pages.follow(
                    driver, admin_pages.job_row(driver, job).find_element(By.NAME, "run")
                )
                site.enqueue_failing_task()
                admin_pages.reload_until(
                    driver, lambda: "OK" in admin_pages.cell(driver, job, "last-attempt")
                )
                admin_pages.follow(
                    driver, admin_pages.job_row(driver, job).find_element(By.LINK_TEXT, "Pause…")
                )
                driver.find_element(By.NAME, "reason").send_keys("the report mailer is down")
                admin_pages.follow(driver, driver.find_element(By.NAME, "pause"))
                admin_pages.reload_until(
                    driver, lambda: admin_pages.cell(driver, job, "cloud") == "PAUSED"
                )
                driver.get(f"{site.url}{admin_pages.EXECUTIONS}?status__exact=FAILED")
                admin_pages.reload_until(driver, lambda: admin_pages.result_rows(driver))
                written = [
                    take(driver, f"{site.url}{admin_pages.PERIODIC}", "periodic-tasks"),
                    take(driver, f"{site.url}{admin_pages.SUBSCRIBERS}", "subscriber-tasks"),
                    take(driver, f"{site.url}{admin_pages.EXECUTIONS}", "executions"),
                ]
        finally:
            site.stop()
    for path in written:
        print(f"wrote {path.relative_to(IMAGES.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
