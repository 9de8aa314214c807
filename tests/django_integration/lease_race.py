"""Run by test_claiming_postgres in a process of its own (Django configured for one database):
many threads claim one run at the same instant; prints the outcomes as JSON.

`python tests/django_integration/lease_race.py sqlite PATH` or `... postgresql HOST PORT USER`.
"""

import json
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import django
from django.conf import settings

THREADS = 8
engine = sys.argv[1]
if engine == "sqlite":
    database = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": sys.argv[2],
        "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
    }
else:
    database = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "postgres",
        "HOST": sys.argv[2],
        "PORT": sys.argv[3],
        "USER": sys.argv[4],
    }
settings.configure(
    INSTALLED_APPS=["django_integration"],
    DATABASES={"default": database},
    USE_TZ=True,
    GCP_TASKS_RECORD_EXECUTIONS=True,
)
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from django_integration import claiming, deliveries, models, recording  # noqa: E402

call_command("migrate", "django_integration", verbosity=0)
delivery = recording.Delivery(
    kind=models.Kind.DJANGO_TASK, task="app.tasks.add", info=deliveries.TaskInfo(), backend="d"
)
start = threading.Barrier(THREADS)
outcomes: list[str] = []
executions: list[recording.Execution] = []
lock = threading.Lock()


def contender() -> None:
    start.wait()
    outcome, execution = claiming.claim("race", delivery)
    with lock:
        outcomes.append(outcome.value)
        if execution.run_id:
            executions.append(execution)
    connection.close()


threads = [threading.Thread(target=contender) for _ in range(THREADS)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
for execution in executions:
    execution.succeeded("done")
after, _ = claiming.claim("race", delivery)
run = models.TaskRun.objects.get(pk="race")
print(
    json.dumps(
        {
            "outcomes": sorted(outcomes),
            "after": after.value,
            "status": run.status,
            "attempts": run.attempts,
            "executions": run.executions.count(),
        }
    )
)
