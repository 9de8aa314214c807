"""Command-line entry points: `gcp-tasks-controller run | reconcile | plan`."""
