"""`manage.py task_manager create_scheduler_jobs create_pubsub_subscriptions [--cleanup]
[--tasks-domain URL]`: django-gcp's command, run by the controller's reconcile engine.

Same arguments and `[+]`/`[-]` report as django-gcp; underneath, one reconcile pass restricted to
the kinds named: only differences are written (with field masks), and `--cleanup` deletes owned
resources no task declares (the orphan policy `delete`; without it, orphans are kept). Without
`GCP_TASKS_RESOURCE_AFFIX` the resources are still created, and `--cleanup` is skipped with a
warning, as django-gcp does: nothing would tell this app's resources from others'.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import override_settings

from controller.engine import reconciling, reports
from controller.gcp import clients, errors
from controller.planning import plans, policies
from controller.registry import documents, model
from controller.registry import errors as registry_errors
from django_integration import conf, pausing
from django_integration.exceptions import UnknownActionError

ACTIONS = {
    "create_scheduler_jobs": (plans.Kind.SCHEDULER_JOB, "scheduler jobs"),
    "create_pubsub_subscriptions": (plans.Kind.SUBSCRIPTION, "pubsub subscriptions"),
}
# django-gcp's warning, word for word, per kind.
CLEANUP_SKIPPED = (
    "Cleanup of unused {kind} was requested but skipped, because no resource affix was given - "
    "see the GCP_TASKS_RESOURCE_AFFIX docs for more details."
)
_CLEANUP_KINDS = {
    plans.Kind.SCHEDULER_JOB: "Scheduler Jobs",
    plans.Kind.SUBSCRIPTION: "PubSub Subscriptions",
}
logger = logging.getLogger(__name__)
# After these, the resource exists as declared (django-gcp's "[+]": created or updated).
_IN_LINE = frozenset(
    {plans.Verb.CREATE, plans.Verb.UPDATE, plans.Verb.PAUSE, plans.Verb.RESUME}
    | {plans.Verb.RECREATE, plans.Verb.UNCHANGED}
)


class Command(BaseCommand):
    help = "Allows creation of scheduler jobs and pubsub subscriptions (reconciled, not re-created)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "actions",
            nargs="+",
            help="Actions to take: create_scheduler_jobs and/or create_pubsub_subscriptions",
        )
        parser.add_argument(
            "--cleanup",
            action="store_true",
            default=False,
            help="Delete unused resources whose name is affixed with GCP_TASKS_RESOURCE_AFFIX",
        )
        parser.add_argument(
            "--tasks-domain",
            "--task-domain",
            dest="tasks_domain",
            type=str,
            help="Domain the tasks are sent to; overrides GCP_TASKS_DOMAIN",
        )
        parser.add_argument(
            "--allow-mass-deletion",
            action="store_true",
            help="With --cleanup: allow deleting all, or more than half, of the app's scheduler "
            "jobs or subscriptions",
        )

    def handle(self, *args: Any, actions: list[str], **options: Any) -> None:
        unknown = [action for action in actions if action not in ACTIONS]
        if unknown:
            raise UnknownActionError(
                f"Unknown action {unknown[0]}. Use `python manage.py task_manager --help` to see "
                "all options"
            )
        domain = options["tasks_domain"] or conf.settings.domain
        with override_settings(GCP_TASKS_DOMAIN=domain):
            desired = self._desired()
        kinds = {ACTIONS[action][0] for action in actions}
        cleanup = options["cleanup"]
        if cleanup and not desired.affix:
            cleanup = False
            for kind in sorted(kinds, key=list(plans.Kind).index):
                logger.warning(CLEANUP_SKIPPED.format(kind=_CLEANUP_KINDS[kind]))
        policy = policies.Policy(
            orphans=policies.OrphanPolicy.DELETE if cleanup else policies.OrphanPolicy.KEEP,
            allow_mass_deletion=options["allow_mass_deletion"],
        )
        try:
            built = clients.Clients.from_environment()
        except errors.ApiError as error:
            raise CommandError(f"Cannot reach Google Cloud: {error.reason}") from error
        with built:
            reconciler = reconciling.Reconciler(built, policy, kinds=kinds)
            report = reconciler.run_pass([desired])
        for action in dict.fromkeys(actions):
            kind, label = ACTIONS[action]
            self._display(report, kind, label, domain)
        if report.problems:
            problems = "\n".join(problem.message for problem in report.problems)
            raise CommandError(f"Not every resource is in line:\n{problems}")

    def _desired(self) -> model.Registry:
        """The app's registry, validated like any other source before anything is written."""
        try:
            # A job paused in the admin stays paused.
            built = pausing.desired(require_affix=False)
            return documents.parse(documents.render(built), built.source, affix_required=False)
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        except pausing.PausesUnreadable as error:
            raise CommandError(f"Nothing reconciled: {error}") from error
        except registry_errors.RegistryError as error:
            raise CommandError(f"The app's task registry is invalid: {error}") from error

    def _display(
        self, report: reports.PassReport, kind: plans.Kind, label: str, domain: str | None
    ) -> None:
        """django-gcp's report: `[+] name` per declared resource, `[-] name` per deleted one; like
        django-gcp, a job by its name, a subscription by the task it pushes to."""
        outcomes = [o for o in report.outcomes if o.action.kind is kind and o.ok]
        updated = dict.fromkeys(
            _reported(o.action.desired, o.action.name)
            for o in outcomes
            if o.action.verb in _IN_LINE
        )
        deleted = dict.fromkeys(
            _reported(o.action.actual, o.action.name)
            for o in outcomes
            if o.action.verb is plans.Verb.DELETE and o.applied
        )
        lines = [f"[+] {name}" for name in updated] + [f"[-] {name}" for name in deleted]
        body = "\n".join(f"- {line}" for line in lines)
        message = f"Successfully created {len(lines)} {label} to domain {domain}\n{body}"
        self.stdout.write(self.style.SUCCESS(message))


def _reported(resource: plans.Resource | None, name: str) -> str:
    if isinstance(resource, model.Subscription):
        return resource.push_endpoint.rsplit("/", 1)[-1]  # django-gcp names the task
    return name
