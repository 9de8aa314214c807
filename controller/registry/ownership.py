"""How the controller marks what it owns: two labels on subscriptions, a marker in job descriptions.

Declared once, here: the Google adapters write and read these marks, the planner leaves the labels
out of drift, and the registry rules keep a registry from setting or imitating them. Changing a
value disowns every resource already marked with the old one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

MANAGED_BY_LABEL = "managed-by"
MANAGED_BY = "gcp-tasks-controller"
OWNER_LABEL = "gcptasks-owner"
LABELS = frozenset({MANAGED_BY_LABEL, OWNER_LABEL})
# Cloud Scheduler jobs have no labels: the owner goes at the end of the description.
MARKER_PREFIX = "[gcptasks.dev/owner="
_MARKER = re.compile(rf"\s?{re.escape(MARKER_PREFIX)}([^\]\s]+)\]$")


def labels(owner: str) -> dict[str, str]:
    """The labels every subscription we write carries."""
    return {MANAGED_BY_LABEL: MANAGED_BY, OWNER_LABEL: owner}


def split_labels(stored: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    """A listed subscription's own labels, and its owner (None: not ours)."""
    own = dict(stored)
    if own.get(MANAGED_BY_LABEL) != MANAGED_BY or not own.get(OWNER_LABEL):
        return own, None
    owner = own.pop(OWNER_LABEL)
    del own[MANAGED_BY_LABEL]
    return own, owner


def marker(owner: str) -> str:
    return f"{MARKER_PREFIX}{owner}]"


def describe(description: str, owner: str) -> str:
    """A job description as stored in the cloud: the user's text, then our marker."""
    return f"{description} {marker(owner)}" if description else marker(owner)


def split_description(stored: str) -> tuple[str, str | None]:
    """A stored job description's user text, and its owner (None: not ours)."""
    found = _MARKER.search(stored)
    if found is None:
        return stored, None
    return stored[: found.start()], found.group(1)
