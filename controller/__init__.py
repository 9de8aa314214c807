"""gcp-tasks-controller: reconciles Cloud Scheduler jobs and Pub/Sub push subscriptions.

Layers, imports pointing downwards only (enforced by import-linter, see pyproject.toml):
`cli`/`operator` -> `gcp`/`k8s` (the only code that talks to APIs) -> `reconcile` -> `registry`.
"""
