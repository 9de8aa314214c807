"""Exit codes of `reconcile`, `plan` and `run` (docs/controller.md lists them)."""

CONVERGED = 0  # done: the cloud matches the registries (plan: the plan was computed)
FAILED = 1  # failed against the API, or differences remain (refused plan, recreate, conflict)
INVALID = (
    2  # invalid input: bad arguments, unreadable or invalid registry, conflicts; nothing changed
)
