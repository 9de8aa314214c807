#!/usr/bin/env python
"""The example project's manage.py: run from the repository root, `python -m examples.manage`."""

import os
import sys
from pathlib import Path


def main() -> None:
    # Run as a script (`python examples/manage.py`), the repository root is not on the path.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)  # logging: LOGGING in examples/project/settings.py


if __name__ == "__main__":
    main()
