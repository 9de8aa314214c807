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


# -- the same shop on Django's own task framework (django.tasks) --------------------------------
# Django 6 has it built in; on Django 5.2 the django-tasks backport gives the same API.
try:
    from django.tasks import task
except ImportError:
    from django_tasks import task

from django_integration.schedules import periodic  # noqa: E402


@task
def send_receipt(order_id, email):
    """A plain task: `send_receipt.enqueue(order_id=42, email="a@b.c")` returns a TaskResult."""
    logger.info("receipt_sent", order_id=order_id, email=email)
    return {"order_id": order_id, "sent_to": email}


@task(backend="deduplicated")
def reindex_product(sku):
    """A deduplicated task (TASKS["deduplicated"] has OPTIONS DEDUPLICATE): the same sku again
    within ~1 hour raises DuplicateTaskError."""
    logger.info("product_reindexed", sku=sku)
    return {"reindexed": sku}


@periodic("30 2 * * *", time_zone="Europe/London", kwargs={"days": 30}, retry_count=1)
@task
def purge_abandoned_carts(days):
    """Purge carts abandoned for a month: a Cloud Scheduler job the controller keeps in line."""
    logger.info("abandoned_carts_purged", days=days)
    return {"purged_older_than_days": days}


@task(takes_context=True)
def charge_card(context, order_id):
    """A task that takes its context: the attempt number comes from Cloud Tasks' retry count."""
    logger.info("card_charged", order_id=order_id, attempt=context.attempt)
    return {"order_id": order_id, "attempt": context.attempt, "result_id": context.task_result.id}
