"""A Cloud Tasks emulator serving Google's real `google.cloud.tasks.v2.CloudTasks` gRPC API.

`names`, `retries`, `queues` and `tasks` are pure message logic; `state` keeps queues and tasks in
memory; `pushing` is the only part that sends HTTP; `service` wires it all to gRPC.
"""

from emulators.cloud_tasks.service import SERVICE, CloudTasksEmulator

__all__ = ["SERVICE", "CloudTasksEmulator"]
