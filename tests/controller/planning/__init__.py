"""Tests of controller.planning (pure: tables of desired/observed -> plan)."""
