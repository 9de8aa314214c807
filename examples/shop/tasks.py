"""The example shop's tasks, one of each kind, written as django-gcp's documentation writes them."""

import structlog

from django_integration.tasks import OnDemandTask, PeriodicTask, SubscriberTask

logger = structlog.get_logger()


class BaseAbstractTask(OnDemandTask):
    """Shows an abstract task family: not registered, and its subclasses are."""

    abstract = True

    def execute(self, **task_kwargs):
        retries = self.task_info.retry_count if self.task_info else None  # None when eager
        logger.info("shop_task_started", task=self.name(), retry_count=retries)
        return super().execute(**task_kwargs)


class SendOrderConfirmation(OnDemandTask):
    """An on-demand task: `SendOrderConfirmation().enqueue(order_id=42, email="a@b.c")`."""

    def run(self, order_id, email, **kwargs):
        logger.info("order_confirmation_sent", order_id=order_id, email=email)
        return {"order_id": order_id, "sent_to": email}


class RebuildSearchIndex(BaseAbstractTask):
    """A deduplicated task: enqueueing the same arguments again within ~1 hour is refused."""

    deduplicate = True

    def run(self, **kwargs):
        logger.info("search_index_rebuilt", **kwargs)
        return {"rebuilt": sorted(kwargs)}


class FailingTask(BaseAbstractTask):
    """A task that always fails: the endpoint answers 500 and Cloud Tasks retries it."""

    def run(self, **kwargs):
        return 1 / 0


class NightlySalesReport(PeriodicTask):
    """A periodic task: Cloud Scheduler posts to it every night at 03:00 London time."""

    run_every = "0 3 * * *"
    time_zone = "Europe/London"
    description = "Nightly sales report"
    retry_count = 2

    def run(self, **kwargs):
        logger.info("sales_report_generated", **kwargs)
        return {"report": "sales"}


class OrderEventsSubscriber(SubscriberTask):
    """A subscriber with message ordering: receives the `orders` topic's events in order."""

    topic_id = "orders"
    enable_message_ordering = True
    ack_deadline_seconds = 30
    minimum_backoff = 10.0
    maximum_backoff = 300.0

    def run(self, data, attributes, message_id, ordering_key, publish_time, subscription, **kwargs):
        logger.info(
            "order_event_received",
            data=data,
            attributes=attributes,
            message_id=message_id,
            ordering_key=ordering_key,
        )
        return {"message_id": message_id}
