"""Tests that the user docs tell the truth, checked against where the code declares each fact."""
