"""Embedders, the Dutch keyword analyzer and the Qdrant vector store."""
