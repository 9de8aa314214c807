"""Tests of controller.registry (pure: no emulators needed)."""
