"""Runnable examples of using the copilot from a bot."""
