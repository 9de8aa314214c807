"""The settings `runserver` runs with under `manage.py gcp_devserver`: the project's own settings
module, then the dev server's overrides (`overrides.compute`), both named in the environment.

Importing it also ties the process to its parent (Linux): runserver ends with the dev server,
and its reloaded child with runserver, even when the parent is killed outright.
"""

import importlib
import json
import os

from django_integration.devserver import overrides as _overrides
from emulators import process_groups as _process_groups

_process_groups.die_with_parent()

_base = importlib.import_module(os.environ[_overrides.BASE_SETTINGS_ENV])
# What `from project.settings import *` would give, uppercase names being all Django reads.
globals().update({name: value for name, value in vars(_base).items() if name.isupper()})
globals().update(json.loads(os.environ[_overrides.OVERRIDES_ENV]))
