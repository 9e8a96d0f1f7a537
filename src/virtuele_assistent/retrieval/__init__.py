"""Hybrid retrieval: dense + BM25 in Qdrant, fused, always filtered by tenant."""

from virtuele_assistent.retrieval.followup import standalone_question
from virtuele_assistent.retrieval.search import Passage, Retriever

__all__ = ["Passage", "Retriever", "standalone_question"]
