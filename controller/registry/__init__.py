"""The desired state: model, parsing and validation of registries. Purely data, no I/O."""
