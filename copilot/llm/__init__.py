"""The slow path: a LangChain tool-calling orchestrator that enriches the fast path's cards."""
