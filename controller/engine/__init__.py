"""The reconcile engine: a pass is desired state -> one List per scope -> plan -> writes -> report.

`reconciling` runs the pass, `scopes` says what each List covers, `applying` writes one scope's
plan through the Google adapters, and `reports` is what the pass did: per scope and per source.
The CLI, the kopf operator and Django's `task_manager` all run passes through
`reconciling.Reconciler` and read its `reports.PassReport`; none of them classifies outcomes again.
"""
