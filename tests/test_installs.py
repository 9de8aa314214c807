"""What an install holds: the base package (Django's app) without the controller extra, or with it.

`make test` runs this module twice: in the main environment (with the extra) and with `--lean`
in the Django 6 environment, installed as `gcp-tasks-controller[django,test]` only, where the
Django integration's tests run too. So a dependency that creeps back into the base package fails
here, and so does an environment that is not what the Makefile says it is.
"""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

import pytest

from controller.cli import exits, main

CONTROLLER_ONLY = ("kopf", "prometheus_client")  # the `controller` extra's import packages


@pytest.fixture
def lean(pytestconfig: pytest.Config) -> bool:
    return bool(pytestconfig.getoption("lean"))


@pytest.mark.parametrize("module", CONTROLLER_ONLY)
def test_the_controller_extra_is_installed_only_when_asked_for(module: str, lean: bool) -> None:
    assert (importlib.util.find_spec(module) is None) is lean


def test_the_console_script_names_the_extra_when_it_is_missing(lean: bool) -> None:
    script = pathlib.Path(sys.executable).with_name("gcp-tasks-controller")
    done = subprocess.run(
        [str(script), "reconcile", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if lean:
        assert done.returncode == exits.INVALID
        (line,) = done.stderr.splitlines()
        assert line.endswith(f"needs the '{main.EXTRA}' extra: {main.INSTALL}")
    else:
        assert done.returncode == exits.CONVERGED, done.stderr
        assert "--dry-run" in done.stdout
