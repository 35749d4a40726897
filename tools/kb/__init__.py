"""The knowledge base: ingestion, Chroma storage, hybrid retrieval with citations."""
