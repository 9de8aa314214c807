pytest_plugins = ["emulators.testing"]
