"""`manage.py gcp_devserver [addrport] [--no-pubsub] [--resync-seconds N] [--noreload]`.

Runs the app on this machine as it runs in the cloud: local Cloud Tasks, Cloud Scheduler and
Google's Pub/Sub emulator (pushes signed by a local OIDC issuer, verified by the app), the app's
registry reconciled into them, and `runserver`; Ctrl-C or SIGTERM stops all of it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings

from controller import logs
from controller.registry import documents, model
from django_integration import conf, exporting, pausing, registry, tasks
from django_integration.devserver import addresses, converging, overrides, serving
from emulators import pubsub, running

DEFAULT_RESYNC_SECONDS = 60.0


class Command(BaseCommand):
    help = (
        "Serve the app with runserver, with local Cloud Tasks, Cloud Scheduler and Pub/Sub "
        "emulators, and its periodic and subscriber tasks reconciled into them as the "
        "controller does; Ctrl-C stops everything."
    )
    requires_system_checks: list[str] = []  # runserver checks the settings it serves with

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "addrport",
            nargs="?",
            help="Port number or address:port, as for runserver (port 0: a free one; default "
            f"{addresses.DEFAULT_ADDR}:{addresses.DEFAULT_PORT}).",
        )
        parser.add_argument(
            "--no-pubsub",
            action="store_true",
            help="Do not start Google's Pub/Sub emulator (it needs Java): no subscriptions.",
        )
        parser.add_argument(
            "--resync-seconds",
            type=float,
            default=DEFAULT_RESYNC_SECONDS,
            metavar="N",
            help="Full reconcile pass at least this often; registry changes apply within a "
            f"second anyway (default {DEFAULT_RESYNC_SECONDS:g}).",
        )
        parser.add_argument(
            "--noreload",
            action="store_false",
            dest="use_reloader",
            help="Tell runserver not to use the auto-reloader.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            address = addresses.parse(options["addrport"])
        except ValueError as error:
            raise CommandError(str(error)) from error
        if options["resync_seconds"] <= 0:
            raise CommandError("--resync-seconds must be positive")
        # This process runs only the emulators and the reconcile loop: quiet unless asked.
        logs.configure(level="INFO" if options["verbosity"] > 1 else "WARNING")
        stopping = threading.Event()
        previous = {
            signum: signal.signal(signum, lambda signum, frame: stopping.set())
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            code = self._run(address, stopping, options)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if code:
            raise CommandError(f"runserver exited with code {code}", returncode=code)

    def _run(self, address: addresses.Address, stopping: threading.Event, options: Any) -> int:
        with_pubsub = not options["no_pubsub"]
        base_settings = django_settings.SETTINGS_MODULE  # overridden settings do not name it
        with ExitStack() as stack:
            services = self._start_emulators(with_pubsub)
            stack.callback(services.stop)
            if address.port == 0:
                address = addresses.Address(
                    address.addr, pubsub.free_port(address.push_host.strip("[]")), address.ipv6
                )
            environment = _environment(services)
            stack.enter_context(_environ(environment))
            workdir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="gcp-devserver-"))
            )
            registry_file = workdir / "registry.json"
            local = overrides.compute(
                app_url=address.url,
                push_host=address.push_host,
                tasks_host=services.tasks.host,
                certs_url=services.issuer.certs_url,
                registry_file=str(registry_file),
            )
            stack.enter_context(override_settings(**local))
            desired = self._export(registry_file)
            if desired is None:
                local["GCP_TASKS_REGISTRY_FILE"] = None
            else:
                controller = converging.Controller(
                    str(registry_file),
                    scheduler_host=services.scheduler.host,
                    pubsub=with_pubsub,
                    resync_seconds=options["resync_seconds"],
                    say=self._say,
                ).start()
                stack.callback(controller.stop)
            self._summarize(base_settings, services, address, desired, registry_file, options)
            if stopping.is_set():  # Ctrl-C while the emulators started
                return 0
            app = serving.start(
                serving.command(
                    address, reload=options["use_reloader"], pythonpath=options["pythonpath"]
                ),
                {
                    **os.environ,
                    **overrides.environment(base_settings, local),
                },
            )
            stack.callback(serving.stop, app)
            while not stopping.wait(0.1):
                if app.poll() is not None:
                    return app.returncode  # e.g. the port is taken: runserver said why
            self._say("Stopping runserver, the controller and the emulators...")
        return 0

    def _start_emulators(self, with_pubsub: bool) -> running.Running:
        try:
            return running.start_all(with_pubsub=with_pubsub, log_capacity=10_000)
        except pubsub.EmulatorNotFound as error:
            raise CommandError(f"{error}; or run without Pub/Sub: --no-pubsub") from error
        except (pubsub.EmulatorFailed, OSError) as error:
            raise CommandError(f"the emulators did not start: {error}") from error

    def _export(self, path: Path) -> model.Registry | None:
        """The app's registry with its stored pauses, written where the controller reads it; None
        without an affix, unless periodic (classes or `@periodic`) or subscriber tasks need one
        (then it is an error)."""
        try:
            desired = pausing.desired()  # paused in the admin stays paused
        except ImproperlyConfigured as error:
            if registry.declares_resources():
                raise CommandError(str(error)) from error
            return None
        except pausing.PausesUnreadable as error:
            raise CommandError(str(error)) from error
        exporting.write_file(str(path), documents.render(desired))
        return desired

    def _summarize(
        self,
        base_settings: str,
        services: running.Running,
        address: addresses.Address,
        desired: model.Registry | None,
        registry_file: Path,
        options: Any,
    ) -> None:
        settings = conf.settings
        on_demand = ", ".join(sorted(tasks.on_demand_tasks())) or "none"
        jobs = ", ".join(
            f"{job.name} ({job.schedule} {job.time_zone})"
            for job in (desired.scheduler_jobs if desired else ())
        )
        subscriptions = ", ".join(
            f"{sub.name} (topic {sub.topic})" for sub in (desired.subscriptions if desired else ())
        )
        pubsub_line = (
            f"{services.pubsub.host}  subscriptions: {subscriptions or 'none'}"
            if services.pubsub is not None
            else "off (--no-pubsub): no subscriptions, publish() has no emulator"
        )
        lines = [
            f"Local Google Cloud for {base_settings} "
            f"(project {settings.project}, location {settings.region}):",
            f"  Cloud Tasks      {services.tasks.host}  on-demand tasks: {on_demand}",
            f"  Cloud Scheduler  {services.scheduler.host}  jobs: {jobs or 'none'}",
            f"  Pub/Sub          {pubsub_line}",
            f"  OIDC tokens      for {settings.service_account_email}, verified against "
            f"{services.issuer.certs_url}",
        ]
        if desired is None:
            lines.append("  Controller       off: no GCP_TASKS_RESOURCE_AFFIX, so no registry")
        else:
            lines.append(
                f"  Controller       {registry_file} (re-exported on every reload, "
                f"resync every {options['resync_seconds']:g}s)"
            )
        lines.append(f"  App              {address.url}/ (runserver below; quit with CONTROL-C)")
        self._say("\n".join(lines))

    def _say(self, text: str) -> None:
        # Flushed at once: runserver writes to the same terminal or pipe.
        self.stdout.write(text)
        self.stdout.flush()


def _environment(services: running.Running) -> dict[str, str]:
    """The emulators' variables, and none left from the shell for a service we did not start."""
    environment = services.environment()
    if services.pubsub is None:
        environment[running.PUBSUB_ENV] = ""
    return environment


@contextlib.contextmanager
def _environ(variables: dict[str, str]) -> Iterator[None]:
    """These variables for this process and its children, "" meaning unset; restored after."""
    saved = {name: os.environ.get(name) for name in variables}
    for name, value in variables.items():
        if value:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
