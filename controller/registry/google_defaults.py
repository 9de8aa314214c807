"""Google's values for the fields a registry may leave out; durations in seconds.

The model's defaults are Google's, so a field left out of a registry and the value Google fills
in compare equal. Read here by the model, the document parser and rules, the Google adapters (an
unset field reads as its default), the planner and Django's task classes; a test holds the
published JSON Schema's `default`s to these. The emulators keep their own copy of these values
on purpose: they stand in for Google, so they must not follow ours. (They do share the cron
grammar, `crons.problem`: that is a check of input, not a default.)
"""

# Cloud Scheduler jobs (HTTP targets)
TIME_ZONE = "UTC"
HTTP_METHOD = "POST"
ATTEMPT_DEADLINE = 180.0
RETRY_COUNT = 0
MAX_RETRY_DURATION = 0.0  # unlimited
MIN_BACKOFF_DURATION = 5.0
MAX_BACKOFF_DURATION = 3600.0
MAX_DOUBLINGS = 5

# Pub/Sub push subscriptions
ACK_DEADLINE_SECONDS = 10
MAX_DELIVERY_ATTEMPTS = 5  # of a dead-letter policy
MINIMUM_BACKOFF = 10.0  # of a retry policy
MAXIMUM_BACKOFF = 600.0
MESSAGE_RETENTION_DURATION = 604800.0  # 7 days
