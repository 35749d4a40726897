"""Sub-commands of the `copilot` CLI."""
