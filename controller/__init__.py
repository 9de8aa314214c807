"""gcp-tasks-controller: reconciles Cloud Scheduler jobs and Pub/Sub push subscriptions.

Layers, imports pointing downwards only (enforced by import-linter, see pyproject.toml):
`cli` -> `operator` -> `engine` -> `gcp` | `sources` (the only code that does I/O) ->
`planning` -> `registry` (the pure core). `cli`, `operator` and `metrics` need the `controller`
extra (kopf, prometheus-client); the rest is in the base package that Django apps install.
"""
