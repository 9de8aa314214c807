"""kopf handlers: thin; they parse, call the reconcile engine and write status once."""
