"""The local dev loop behind `manage.py gcp_devserver`: the emulators, the app's registry, the
reconcile loop and `runserver`, started together and stopped together.

Only this package (and the command) imports `emulators`: a deployed app never runs any of it.
"""
