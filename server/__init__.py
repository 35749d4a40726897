"""HTTP API and agent console for the copilot."""
