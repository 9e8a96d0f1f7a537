"""Find the passages of a tenant's content that best match a question."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from virtuele_assistent.index.analyzer import DutchAnalyzer
from virtuele_assistent.index.embedder import Embedder
from virtuele_assistent.index.store import ScoredPoint, VectorStore

Mode = Literal["hybrid", "dense", "bm25"]


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
    def __init__(self, store: VectorStore, embedder: Embedder, analyzer: DutchAnalyzer) -> None:
        self.store = store
        self.embedder = embedder
        self.analyzer = analyzer

    def search(
        self, tenant_ids: list[int], question: str, limit: int = 5, mode: Mode = "hybrid"
    ) -> list[Passage]:
        if mode == "bm25":
            return _passages(
                self.store.search_sparse(tenant_ids, self.analyzer.query_vector(question), limit)
            )
        dense = self.embedder.embed_query(question)
        if mode == "dense":
            points = self.store.search_dense(tenant_ids, dense, limit)
            return _passages(points, {p.chunk_id: p.score for p in points})
        fused = self.store.search_hybrid(tenant_ids, dense, self.analyzer.query_vector(question), limit)
        # Fusion scores are ranks; the cosine similarity tells how close the best match really is.
        dense_points = self.store.search_dense(tenant_ids, dense, max(limit, 30))
        return _passages(fused, {p.chunk_id: p.score for p in dense_points})


def _passages(points: list[ScoredPoint], dense_scores: dict[str, float] | None = None) -> list[Passage]:
    dense_scores = dense_scores or {}
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
            dense_score=dense_scores.get(p.chunk_id),
            language=p.payload.get("language"),
        )
        for p in points
    ]
