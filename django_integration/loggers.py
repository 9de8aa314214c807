"""The app's loggers, named for what they report; docs/django.md#logging lists their levels and
`extra` fields.

Standard `logging`, so a project's LOGGING, Sentry and `mail_admins` see them, and structured
fields go in `extra`, where a JSON formatter finds them. Nothing is printed that LOGGING does not
ask for: under Django's default LOGGING an INFO record ends at the `isEnabledFor` check.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse

# Runs of class-based tasks: success (INFO), failure with its traceback (ERROR).
tasks = logging.getLogger("django_integration.tasks")
# The django.tasks endpoint's deliveries that ran nothing; Django logs the runs on `django.tasks`.
django_tasks = logging.getLogger("django_integration.django_tasks")
# Requests an endpoint refused: 400, 401, 403, 404 (WARNING) and 503 (ERROR).
refusals = logging.getLogger("django_integration.refusals")
# Google's signing certificates that could not be fetched or read.
certificates = logging.getLogger("django_integration.certificates")
# Queues and topics created on first use; django.tasks enqueues that failed after the commit.
enqueueing = logging.getLogger("django_integration.enqueueing")
# The registry written to its ConfigMap on startup, or why not.
export = logging.getLogger("django_integration.export")
# Stored runs and executions that could not be written.
recording = logging.getLogger("django_integration.recording")
# What people did in the admin (runs now, pauses, resumes, retries), and what kept them from it.
admin = logging.getLogger("django_integration.admin")

ALL = (tasks, django_tasks, refusals, certificates, enqueueing, export, recording, admin)


def refused(
    request: HttpRequest, response: HttpResponse, reason: str, **fields: Any
) -> HttpResponse:
    """Log why `response` refuses `request` and return it, marked as logged: Django's own
    `django.request` line for it would say less, a second time."""
    status = response.status_code
    level = logging.ERROR if status >= 500 else logging.WARNING
    if refusals.isEnabledFor(level):
        extra = {"path": request.path, "status": status, "reason": reason, **fields}
        refusals.log(level, "Refused %s (%s): %s", request.path, status, reason, extra=extra)
    response._has_been_logged = True  # type: ignore[attr-defined]  # read by log_response
    return response
