"""Find the passages of a tenant's content that best match a question."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from virtuele_assistent.index.analyzer import Analyzer
from virtuele_assistent.index.embedder import Embedder
from virtuele_assistent.index.store import ScoredPoint, VectorStore
from virtuele_assistent.retrieval.rerank import Reranker

Mode = Literal["hybrid", "dense", "bm25"]
CANDIDATES = 30  # per signal, before fusion and re-ranking


@dataclass
class Passage:
    chunk_id: str
    document_id: int
    tenant_id: int
    url: str
    title: str
    heading_path: str
    text: str
    score: float
    dense_score: float | None = None
    language: str | None = None


class Retriever:
    """Hybrid search (dense + BM25, RRF in Qdrant), always filtered by tenant.

    The re-ranker (``rerank=True``, ``VA_RERANK``) is off by default: on seven municipalities it
    lifts recall but not the answers (see ``retrieval.rerank``).
    ``question_language`` (ISO 639-1) lets it treat passages in another language fairly; without it
    the question's language is detected.
    """

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        analyzer: Analyzer,
        reranker: Reranker | None = None,
        rerank: bool = False,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.analyzer = analyzer
        self.reranker = reranker if reranker is not None else Reranker(analyzer)
        self.rerank = rerank

    def search(
        self,
        tenant_ids: list[int],
        question: str,
        limit: int = 5,
        mode: Mode = "hybrid",
        rerank: bool | None = None,
        question_language: str | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Passage]:
        """``query_vector``: the question's embedding, when the caller already has it."""
        sparse = self.analyzer.query_vector(question)
        if mode == "bm25":
            return _passages(self.store.search_sparse(tenant_ids, sparse, limit))
        dense = query_vector if query_vector is not None else self.embedder.embed_query(question)
        if mode == "dense":
            return _passages(self.store.search_dense(tenant_ids, dense, limit))
        candidates = max(limit, CANDIDATES)
        if not (self.rerank if rerank is None else rerank):
            # Fusion scores are ranks; the cosine similarity tells how close the best match really is.
            return _passages(self.store.search_fused(tenant_ids, dense, sparse, limit, candidates))
        dense_points, sparse_points = self.store.search_signals(tenant_ids, dense, sparse, candidates)
        dense_scores = {p.chunk_id: p.dense_score for p in dense_points}
        language = question_language or _language(question)
        ranked = self.reranker.rerank(question, language, dense_points, sparse_points)
        return _passages([_with_score(p, s, dense_scores.get(p.chunk_id)) for p, s in ranked[:limit]])


def _language(question: str) -> str | None:
    from virtuele_assistent.extract.language import detect_language

    return detect_language(question) or "nl"


def _with_score(point: ScoredPoint, score: float, dense_score: float | None) -> ScoredPoint:
    return ScoredPoint(chunk_id=point.chunk_id, score=score, payload=point.payload, dense_score=dense_score)


def _passages(points: list[ScoredPoint]) -> list[Passage]:
    return [
        Passage(
            chunk_id=p.chunk_id,
            document_id=int(p.payload.get("document_id", 0)),
            tenant_id=int(p.payload.get("tenant_id", 0)),
            url=p.payload.get("url", ""),
            title=p.payload.get("title", ""),
            heading_path=p.payload.get("heading_path", ""),
            text=p.payload.get("text", ""),
            score=p.score,
            dense_score=p.dense_score,
            language=p.payload.get("language"),
        )
        for p in points
    ]
