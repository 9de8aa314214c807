"""Children in a group of their own: stopped with every grandchild, and gone when we are."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from emulators import process_groups
from emulators.testing import eventually


def test_a_child_leads_a_session_of_its_own() -> None:
    child = process_groups.launch(["sleep", "60"])
    try:
        assert os.getsid(child.pid) == child.pid
        assert os.getpgid(child.pid) == child.pid != os.getpgid(0)
    finally:
        process_groups.stop(child)
    assert not process_groups.alive(child.pid)


def test_stop_ends_grandchildren_that_ignore_sigterm(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    wrapper = f"sh -c 'trap \"\" TERM; sleep 60' & echo $! > {pid_file}; wait"
    child = process_groups.launch(["sh", "-c", wrapper])
    grandchild = eventually(lambda: pid_file.exists() and int(pid_file.read_text() or 0))
    assert process_groups.running(grandchild)

    process_groups.stop(child, timeout=1)

    assert not process_groups.running(grandchild)
    assert child.returncode is not None


@pytest.mark.parametrize("setpriv", [True, False], ids=["setpriv", "set-before-exec"])
def test_a_child_dies_with_a_parent_killed_outright(setpriv: bool) -> None:
    assert process_groups._SETPRIV is not None, "util-linux's setpriv is missing"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from emulators import process_groups\n"
            f"process_groups._SETPRIV = process_groups._SETPRIV if {setpriv} else None\n"
            "child = process_groups.launch(['sleep', '60'])\n"
            "print(child.pid, flush=True)\n"
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    with parent, parent.stdout:
        child = int(parent.stdout.readline())
        try:
            assert process_groups.running(child)
            # With setpriv, the child is the command itself once setpriv has exec'd it.
            eventually(lambda: Path(f"/proc/{child}/cmdline").read_bytes() == b"sleep\x0060\x00")
            parent.kill()
            parent.wait(timeout=10)
            eventually(lambda: not process_groups.running(child), timeout=15)
        finally:
            if process_groups.running(child):
                os.kill(child, 9)


def test_a_zombie_is_not_running() -> None:
    child = subprocess.Popen(["true"])
    eventually(lambda: Path(f"/proc/{child.pid}/stat").read_text().split()[2] == "Z")
    assert not process_groups.running(child.pid)  # ended, not yet reaped
    child.wait()
    assert not process_groups.running(child.pid)  # gone
    assert process_groups.running(os.getpid())
