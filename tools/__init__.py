"""Maintenance scripts that generate parts of the docs from their sources (`make chart-docs`)."""
