"""Headless Chromium for pages a person uses: Debian's `chromium` and `chromium-driver` driven by
Selenium (`make system-packages` installs them). Missing is an error, never a skip.

The flags keep Chromium from reaching out on its own (updates, sync, field trials): on a closed
network those connections are refused, and a test must not depend on them anyway.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

BROWSER = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


class Missing(RuntimeError):
    """Chromium or its driver is not installed."""


def check() -> None:
    for path, package in ((BROWSER, "chromium"), (DRIVER, "chromium-driver")):
        if not Path(path).exists():
            raise Missing(
                f"{path} is missing: run `make system-packages` "
                f"(apt-get install -y chromium chromium-driver), it provides {package}"
            )


@contextmanager
def browser(width: int = 1400, height: int = 900) -> Iterator[webdriver.Chrome]:
    """A fresh headless Chromium (its own profile directory), closed and removed afterwards."""
    check()
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = BROWSER
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    # The driver path is given, so Selenium Manager never looks for (or downloads) one.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
