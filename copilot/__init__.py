"""Agent-assist copilot for omnichannel customer service."""

__version__ = "0.1.0"
