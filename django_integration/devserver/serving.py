"""Serving the app with the project's own `runserver` in a child process (its autoreloader
included), in a process group of its own so that stopping it leaves no reloaded child behind.

The child is `manage.py runserver` started the way this process was started (the same
interpreter, script or `-m` module and warning options), so `runserver` is whichever the project
has installed: Django's, `django.contrib.staticfiles`' or one from a package such as daphne.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping

from django.utils import autoreload

from django_integration.devserver import addresses, overrides
from emulators import process_groups


def command(
    address: addresses.Address, *, reload: bool = True, pythonpath: str | None = None
) -> list[str]:
    """The command line of the `runserver` child."""
    # Django's autoreloader reruns a process the same way: it ends with this process's own
    # arguments, which are replaced by runserver's.
    rerun = autoreload.get_child_arguments()
    program = rerun[: len(rerun) - len(sys.argv[1:])]
    arguments = [*program, "runserver", address.addrport, "--settings", overrides.SETTINGS_MODULE]
    if not reload:
        arguments.append("--noreload")
    if pythonpath:
        arguments += ["--pythonpath", pythonpath]
    return [str(argument) for argument in arguments]


def start(arguments: list[str], environment: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start `runserver`; its output goes where this process's goes. Call from the main thread:
    runserver's settings module ties its life to the thread that started it."""
    # It calls die_with_parent() itself (devserver.settings), once it runs.
    return process_groups.launch(arguments, dying_with_parent=False, env=dict(environment))


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop `runserver` and its reloaded child, SIGKILLing what does not end within 10 s."""
    process_groups.stop(process)
