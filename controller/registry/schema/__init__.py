"""The published JSON Schema of the registry document (package data: task-registry.v1.json)."""
