"""Brightwave Mobile: the demo telecom (retail stores and an online shop) and its three silos."""

COMPANY = "Brightwave Mobile"
