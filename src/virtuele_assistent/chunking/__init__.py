"""Extracted text -> self-contained chunks that carry their page title and heading path."""

from virtuele_assistent.chunking.chunker import ChunkDraft, chunk_document

__all__ = ["ChunkDraft", "chunk_document"]
