"""Evaluation suites, benchmarks and their reports. Uses copilot and tools; nothing imports it."""
