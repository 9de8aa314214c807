"""Tasks the tests run: they record what they receive so a test can observe the side effect."""
