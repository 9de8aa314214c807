"""Tests of controller.reconcile (pure: tables of desired/observed -> plan)."""
