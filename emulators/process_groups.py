"""Child processes that lead a process group of their own, are stopped as a whole, and do not
outlive the process that started them.

A wrapper (the Pub/Sub emulator's shell script, `manage.py runserver`'s autoreloader) starts
children of its own, and signalling only the wrapper leaves them running. A child started with
`launch()` leads a new session, so `stop()` signals the whole group and waits until no
member is left; on Linux it is also told to die with its parent, for the exits `stop()` never
sees (SIGKILL, a crash).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# util-linux's setpriv sets the parent-death signal and execs the command: nothing runs in the
# forked child before exec, which in a process with threads (gRPC's) is the only safe way.
_SETPRIV = shutil.which("setpriv") if sys.platform.startswith("linux") else None


def launch(
    command: Sequence[str], *, dying_with_parent: bool = True, **popen: Any
) -> subprocess.Popen[bytes]:
    """Start `command` leading a session of its own, so that `stop()` can end its whole group.

    Start it from a thread that outlives it (the main thread): Linux sends the parent-death
    signal when the thread that forked ends, not the process. Without setpriv the signal is set
    between fork and exec, which is unsafe with threads (and makes gRPC log each fork): a child
    that can call `die_with_parent()` itself is started with `dying_with_parent=False`.
    """
    argv, preexec = list(command), None
    if dying_with_parent and _SETPRIV is not None:
        argv = [_SETPRIV, "--pdeathsig", signal.SIGTERM.name, "--", *argv]
    elif dying_with_parent and sys.platform.startswith("linux"):
        preexec = die_with_parent
    return subprocess.Popen(argv, start_new_session=True, preexec_fn=preexec, **popen)


def stop(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """SIGTERM the process's group, SIGKILL what is left after `timeout`, and wait until no
    member of the group is alive."""
    group = process.pid  # a session leader's pid is its group id
    signal_group(group, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        signal_group(group, signal.SIGKILL)
        process.wait(timeout=timeout)
    deadline = time.monotonic() + timeout
    while alive(group):
        if time.monotonic() > deadline:
            signal_group(group, signal.SIGKILL)
            deadline = time.monotonic() + timeout
        time.sleep(0.05)


def signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signum)


def alive(group: int) -> bool:
    """Whether a live (not zombie) process is left in the group."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: a zombie counts as alive here, which only waits longer
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    for entry in proc.iterdir():
        fields = _stat(entry) if entry.name.isdigit() else None
        if fields is not None and int(fields[2]) == group and fields[0] not in _DEAD:
            return True
    return False


def running(pid: int) -> bool:
    """Whether process `pid` is alive, not a zombie waiting to be reaped (Linux)."""
    fields = _stat(Path(f"/proc/{pid}"))
    return fields is not None and fields[0] not in _DEAD


_DEAD = ("Z", "X")  # zombie, dead: states of a process that has ended


def _stat(entry: Path) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, pgrp, ...), or None
    when the process is gone."""
    try:
        # The command name is in parentheses and may contain spaces and parentheses.
        return (entry / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent() -> None:
    """SIGTERM this process when the thread that started it ends (Linux; elsewhere nothing).

    Called in a child, before exec or by the child itself. The setting survives exec (the
    Pub/Sub script `exec`s java) but not a further fork, which is why `stop()` ends the group.
    """
    if not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
