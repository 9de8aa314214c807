"""`gcp-tasks-controller`: the console script. It checks the controller extra is installed, then
runs one command (`commands.execute`).

The base package serves Django apps and installs without the controller's own dependencies
(kopf, prometheus-client); they come with the `controller` extra, which this script names.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence

from controller.cli import exits

EXTRA = "controller"
INSTALL = f"pip install 'gcp-tasks-controller[{EXTRA}]'"
_OURS = ("controller", "django_integration", "emulators")


def main(argv: Sequence[str] | None = None, *, stop: threading.Event | None = None) -> int:
    """Run the command in `argv` (default: sys.argv); returns the exit code. `stop` ends `run`."""
    try:
        from controller.cli import commands  # needs the extra: imported only once it is here
    except ModuleNotFoundError as missing:
        if missing.name is None or missing.name.split(".")[0] in _OURS:
            raise  # our own code is broken: not a missing extra
        print(
            f"gcp-tasks-controller: {missing.name} is not installed; the controller needs the "
            f"'{EXTRA}' extra: {INSTALL}",
            file=sys.stderr,
        )
        return exits.INVALID
    return commands.execute(argv, stop=stop)
