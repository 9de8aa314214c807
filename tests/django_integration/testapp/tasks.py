"""Found by autodiscovery only: nothing imports this module explicitly."""

import threading

from django_integration.tasks import OnDemandTask, PeriodicTask, SubscriberTask

_lock = threading.Lock()
runs: list[tuple[str, dict, object]] = []


def record(name, kwargs, info):
    with _lock:
        runs.append((name, kwargs, info))


def runs_of(name):
    with _lock:
        return [(kwargs, info) for task, kwargs, info in runs if task == name]


class RecordingTask(OnDemandTask):
    def run(self, **kwargs):
        record(self.name(), kwargs, self.task_info)
        return {"received": kwargs}


class DeduplicatedRecordingTask(OnDemandTask):
    deduplicate = True

    def run(self, **kwargs):
        record(self.name(), kwargs, self.task_info)
        return "done"


class ExplodingTask(OnDemandTask):
    def run(self, **kwargs):
        record(self.name(), kwargs, self.task_info)
        raise RuntimeError("boom")


class HourlyTask(PeriodicTask):
    run_every = "0 * * * *"

    def run(self, **kwargs):
        record(self.name(), kwargs, self.task_info)
        return "tick"


class RecordingSubscriber(SubscriberTask):
    topic_id = "test-events"

    def run(self, data, attributes, message_id, ordering_key, publish_time, subscription, **kwargs):
        record(
            self.name(),
            {
                "data": data,
                "attributes": attributes,
                "message_id": message_id,
                "ordering_key": ordering_key,
                "publish_time": publish_time,
                "subscription": subscription,
                **kwargs,
            },
            self.task_info,
        )
        return "ok"
