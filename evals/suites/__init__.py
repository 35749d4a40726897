"""Eval suites: the scenario suite over the engine, and one suite per external benchmark."""
