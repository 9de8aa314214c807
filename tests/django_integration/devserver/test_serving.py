"""The runserver child: started the way this process was, stopped with its reloaded child."""

import os
import sys

import pytest

from django_integration.devserver import addresses, overrides, serving
from emulators import process_groups
from emulators.testing import eventually


@pytest.fixture
def manage_py(tmp_path, monkeypatch):
    script = tmp_path / "manage.py"
    script.write_text("")
    monkeypatch.setattr(sys, "argv", [str(script), "gcp_devserver", "0.0.0.0:8000", "-v", "2"])
    monkeypatch.setattr(sys.modules["__main__"], "__spec__", None)  # not `python -m ...`
    return str(script)


def test_runserver_is_run_by_the_same_script_with_the_devserver_settings(manage_py):
    command = serving.command(addresses.parse("0.0.0.0:8000"))
    settings = ["--settings", overrides.SETTINGS_MODULE]
    assert command == [sys.executable, manage_py, "runserver", "0.0.0.0:8000", *settings]


def test_noreload_and_pythonpath_are_passed_on(manage_py):
    command = serving.command(addresses.parse("8000"), reload=False, pythonpath="/src")
    assert command[-3:] == ["--noreload", "--pythonpath", "/src"]


def test_stop_ends_the_whole_group(tmp_path):
    pid_file = tmp_path / "reloaded.pid"
    # A reloader with a child, as runserver has: both end.
    reloader = f"sleep 60 & echo $! > {pid_file}; wait"
    process = serving.start(["sh", "-c", reloader], {"PATH": "/usr/bin:/bin"})
    assert os.getpgid(process.pid) == process.pid  # a group of its own
    reloaded = eventually(lambda: pid_file.exists() and int(pid_file.read_text() or 0))
    assert os.getpgid(reloaded) == process.pid
    serving.stop(process)
    assert process.returncode is not None
    assert not process_groups.alive(process.pid)  # the reloaded child included
