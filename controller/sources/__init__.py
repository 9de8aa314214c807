"""Registry sources outside Kubernetes: files and http(s) URLs, read, parsed and watched.

The only code here that does I/O is fetching (`fetching.py`); `watching.py` keeps the last good
registry of each source so an invalid document never shrinks the desired state.
"""
