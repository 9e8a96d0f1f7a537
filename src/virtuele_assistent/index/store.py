"""The vector store: dense + BM25 sparse vectors per chunk, one collection, always filtered by tenant.

Two engines sit behind the one interface ``VectorStore``:

- ``qdrant`` (``index.qdrant_store``): qdrant-client, either Qdrant local mode (a folder; the embedded
  profile's default, ``vector_engine = "local"``) or a Qdrant server by URL (production).
- ``edge`` (``index.edge_store``): Qdrant Edge, the Qdrant engine in-process (a folder; embedded
  profile, ``vector_engine = "edge"``).

Both store the same points (named vectors ``dense`` (cosine) and ``bm25`` (sparse, IDF modifier),
payload with ``chunk_id``, ``tenant_id``, ``document_id`` and ``excluded`` when staff took the passage
out of the answers) and run the same queries: dense and keyword candidates fused by RRF, the tenant
filter (and the exclusion) applied inside every prefetch.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from virtuele_assistent.index.analyzer import SparseVector
from virtuele_assistent.settings import Settings

DENSE = "dense"
SPARSE = "bm25"
EXCLUDED = "excluded"  # payload 1: staff took the passage out of the answers (searches skip it); an
# integer, as Qdrant Edge matches no boolean value
RRF_K = 2  # Qdrant's default RRF constant (server, local mode); Qdrant Edge is given it explicitly


class VectorStoreLocked(RuntimeError):
    """The store's folder is open in another process (e.g. a running server)."""


@dataclass
class IndexedChunk:
    chunk_id: str
    tenant_id: int
    document_id: int
    dense: np.ndarray
    sparse: SparseVector
    payload: dict[str, Any]


@dataclass
class ScoredPoint:
    chunk_id: str
    score: float
    payload: dict[str, Any]
    dense_score: float | None = None  # cosine similarity to the query, where known


def point_id(chunk_id: str) -> str:
    return str(uuid.UUID(hex=chunk_id)) if len(chunk_id) == 32 else chunk_id


def point_payload(chunk: IndexedChunk) -> dict[str, Any]:
    return {
        **chunk.payload,
        "chunk_id": chunk.chunk_id,
        "tenant_id": chunk.tenant_id,
        "document_id": chunk.document_id,
    }


def cosine_to(query: np.ndarray, vector: list[float] | None) -> float | None:
    """Cosine of a stored (unit-length, as Qdrant stores cosine vectors) dense vector to the query."""
    if vector is None:
        return None
    return float(np.dot(np.asarray(vector, dtype=np.float32), query / (np.linalg.norm(query) or 1.0)))


def rank_fused(points: list[ScoredPoint], limit: int) -> list[ScoredPoint]:
    """The first ``limit`` fused points, equal RRF scores ordered by cosine similarity.

    RRF scores tie often (rank 3 in one list scores as rank 3 in the other; 1/2 + 1/6 = 1/3 + 1/3);
    engines order ties differently, and float32 or float64 sums make some ties look unequal. Rounding
    and ordering ties by cosine makes every engine rank alike, mostly as local mode did: a point of
    the dense list before a keyword-only one, and dense-list points by their dense rank.
    """
    ordered = sorted(points, key=lambda p: (-round(p.score, 6), -(p.dense_score or -1.0)))
    return ordered[:limit]


class VectorStore(ABC):
    collection: str
    dim: int

    @classmethod
    def from_settings(cls, settings: Settings, dim: int) -> VectorStore:
        if settings.vector_engine == "edge":
            try:
                from virtuele_assistent.index.edge_store import EdgeStore
            except ImportError as error:
                raise RuntimeError(
                    "vector_engine 'edge' needs Qdrant Edge: pip install 'virtuele-assistent[edge]'"
                ) from error
            return EdgeStore(settings.edge_path, settings.qdrant_collection, dim)
        from virtuele_assistent.index.qdrant_store import QdrantStore

        return QdrantStore.from_settings(settings, dim)

    @abstractmethod
    def upsert(self, chunks: list[IndexedChunk]) -> None: ...

    @abstractmethod
    def delete(self, chunk_ids: list[str]) -> None: ...

    @abstractmethod
    def set_excluded(self, chunk_ids: list[str], excluded: bool) -> None:
        """Take the chunks out of the answers (searches skip them), or put them back."""

    @abstractmethod
    def delete_tenant(self, tenant_id: int) -> None: ...

    @abstractmethod
    def dense_vectors(self, chunk_ids: list[str]) -> dict[str, np.ndarray]:
        """Stored dense vectors by chunk id, so unchanged chunks need no new embedding."""

    @abstractmethod
    def has_all(self, chunk_ids: list[str]) -> bool:
        """Whether every chunk has its point (a crash between SQL commit and vector write leaves gaps)."""

    @abstractmethod
    def count(self, tenant_id: int | None = None) -> int: ...

    @abstractmethod
    def chunks(self, batch: int = 512) -> Iterator[list[IndexedChunk]]:
        """Every stored point, in batches (to copy an index)."""

    @abstractmethod
    def sibling(self, collection: str) -> VectorStore:
        """A new, empty collection of the same engine beside this one (an earlier one is dropped)."""

    @abstractmethod
    def search_dense(self, tenant_ids: list[int], vector: np.ndarray, limit: int) -> list[ScoredPoint]: ...

    @abstractmethod
    def search_sparse(self, tenant_ids: list[int], vector: SparseVector, limit: int) -> list[ScoredPoint]: ...

    @abstractmethod
    def search_fused(
        self, tenant_ids: list[int], dense: np.ndarray, sparse: SparseVector, limit: int, candidates: int
    ) -> list[ScoredPoint]:
        """Dense and keyword candidates fused by RRF, each with its cosine similarity to the query.

        The tenant filter sits on the query once; the engine applies it inside every prefetch. The
        cosine comes from the dense vectors returned with the points: no separate dense search. All
        fused candidates are fetched so that ``rank_fused`` can order ties before cutting to ``limit``.
        """

    @abstractmethod
    def search_signals(
        self, tenant_ids: list[int], dense: np.ndarray, sparse: SparseVector, limit: int
    ) -> tuple[list[ScoredPoint], list[ScoredPoint]]:
        """Dense-only and keyword-only results in one call (the re-ranker's inputs)."""

    @abstractmethod
    def ping(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...
