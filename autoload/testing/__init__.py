"""The plugin author's kit: fixtures and a conformance suite (a pytest plugin)."""
