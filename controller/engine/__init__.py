"""The reconcile engine: one pass is desired state -> one List per kind -> plan -> writes -> report.

The CLI, the kopf operator and Django's `task_manager` all run passes through
`reconciling.Reconciler`; what a pass did (`reports.PassReport`) is what their exit codes,
statuses, Events and metrics read.
"""
