"""The example app: its tasks are found in `tasks.py` without any import in `apps.py`."""
