"""Scripted fakes at the LLM boundary, shipped so tests, evals and benchmarks share them."""
