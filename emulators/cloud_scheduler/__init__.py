"""A local Cloud Scheduler: Google's gRPC API, cron firing in the job's time zone, retries, OIDC.

`schedules` and `jobs` are pure data; `firing` sends one attempt; `emulator` holds the service.
"""

from emulators.cloud_scheduler.emulator import CloudSchedulerEmulator

__all__ = ["CloudSchedulerEmulator"]
