"""The vector store: dense + BM25 sparse vectors per chunk in one Qdrant collection.

The same code runs against Qdrant local mode (a folder, embedded profile) and a Qdrant server
(by URL, production). Every point carries ``tenant_id``; every query filters on it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models

from virtuele_assistent.index.analyzer import SparseVector
from virtuele_assistent.settings import Settings

DENSE = "dense"
SPARSE = "bm25"


class VectorStoreLocked(RuntimeError):
    """The local-mode folder is open in another process (e.g. a running server)."""


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


def point_id(chunk_id: str) -> str:
    return str(uuid.UUID(hex=chunk_id)) if len(chunk_id) == 32 else chunk_id


class VectorStore:
    def __init__(self, client: QdrantClient, collection: str, dim: int) -> None:
        self.client = client
        self.collection = collection
        self.dim = dim
        self.local = getattr(client, "_client", None).__class__.__name__ == "QdrantLocal"
        self.ensure_collection()

    @classmethod
    def from_settings(cls, settings: Settings, dim: int) -> VectorStore:
        if settings.qdrant_url:
            client = QdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key, timeout=10)
        else:
            settings.qdrant_path.mkdir(parents=True, exist_ok=True)
            try:
                client = QdrantClient(path=str(settings.qdrant_path))
            except RuntimeError as error:
                if "already accessed" in str(error):
                    raise VectorStoreLocked(str(settings.qdrant_path)) from None
                raise
        return cls(client, settings.qdrant_collection, dim)

    def ensure_collection(self) -> None:
        if self.client.collection_exists(self.collection):
            return
        self.client.create_collection(
            self.collection,
            vectors_config={DENSE: models.VectorParams(size=self.dim, distance=models.Distance.COSINE)},
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )
        if not self.local:  # local mode scans payloads; a server needs the index for fast tenant filters
            self.client.create_payload_index(self.collection, "tenant_id", models.PayloadSchemaType.INTEGER)
            self.client.create_payload_index(self.collection, "document_id", models.PayloadSchemaType.INTEGER)

    def upsert(self, chunks: list[IndexedChunk]) -> None:
        if not chunks:
            return
        points = [
            models.PointStruct(
                id=point_id(chunk.chunk_id),
                vector={
                    DENSE: chunk.dense.tolist(),
                    SPARSE: models.SparseVector(indices=chunk.sparse.indices, values=chunk.sparse.values),
                },
                payload={
                    **chunk.payload,
                    "chunk_id": chunk.chunk_id,
                    "tenant_id": chunk.tenant_id,
                    "document_id": chunk.document_id,
                },
            )
            for chunk in chunks
        ]
        self.client.upsert(self.collection, points=points, wait=True)

    def delete(self, chunk_ids: list[str]) -> None:
        if chunk_ids:
            self.client.delete(
                self.collection,
                points_selector=models.PointIdsList(points=[point_id(c) for c in chunk_ids]),
                wait=True,
            )

    def delete_tenant(self, tenant_id: int) -> None:
        self.client.delete(
            self.collection, points_selector=models.FilterSelector(filter=tenant_filter(tenant_id)), wait=True
        )

    def dense_vectors(self, chunk_ids: list[str]) -> dict[str, np.ndarray]:
        """Stored dense vectors by chunk id, so unchanged chunks need no new embedding."""
        if not chunk_ids:
            return {}
        records = self.client.retrieve(
            self.collection,
            ids=[point_id(c) for c in chunk_ids],
            with_vectors=[DENSE],
            with_payload=["chunk_id"],
        )
        out: dict[str, np.ndarray] = {}
        for record in records:
            vector = record.vector.get(DENSE) if isinstance(record.vector, dict) else None
            if vector is not None and record.payload:
                out[record.payload["chunk_id"]] = np.asarray(vector, dtype=np.float32)
        return out

    def has_all(self, chunk_ids: list[str]) -> bool:
        """Whether every chunk has its point (a crash between SQL commit and vector write leaves gaps)."""
        if not chunk_ids:
            return True
        found = self.client.retrieve(
            self.collection, ids=[point_id(c) for c in chunk_ids], with_vectors=False, with_payload=False
        )
        return len(found) == len(set(chunk_ids))

    def count(self, tenant_id: int | None = None) -> int:
        flt = tenant_filter(tenant_id) if tenant_id is not None else None
        return self.client.count(self.collection, count_filter=flt, exact=True).count

    def search_dense(self, tenant_ids: list[int], vector: np.ndarray, limit: int) -> list[ScoredPoint]:
        result = self.client.query_points(
            self.collection,
            query=vector.tolist(),
            using=DENSE,
            query_filter=tenant_filter(tenant_ids),
            limit=limit,
            with_payload=True,
        )
        return _scored(result.points)

    def search_sparse(self, tenant_ids: list[int], vector: SparseVector, limit: int) -> list[ScoredPoint]:
        if not vector.indices:
            return []
        result = self.client.query_points(
            self.collection,
            query=models.SparseVector(indices=vector.indices, values=vector.values),
            using=SPARSE,
            query_filter=tenant_filter(tenant_ids),
            limit=limit,
            with_payload=True,
        )
        return _scored(result.points)

    def search_hybrid(
        self, tenant_ids: list[int], dense: np.ndarray, sparse: SparseVector, limit: int, prefetch: int = 30
    ) -> list[ScoredPoint]:
        flt = tenant_filter(tenant_ids)
        prefetches = [models.Prefetch(query=dense.tolist(), using=DENSE, filter=flt, limit=prefetch)]
        if sparse.indices:
            prefetches.append(
                models.Prefetch(
                    query=models.SparseVector(indices=sparse.indices, values=sparse.values),
                    using=SPARSE,
                    filter=flt,
                    limit=prefetch,
                )
            )
        result = self.client.query_points(
            self.collection,
            prefetch=prefetches,
            query=models.FusionQuery(fusion=models.Fusion.RRF),
            query_filter=flt,
            limit=limit,
            with_payload=True,
        )
        return _scored(result.points)

    def search_signals(
        self, tenant_ids: list[int], dense: np.ndarray, sparse: SparseVector, limit: int
    ) -> tuple[list[ScoredPoint], list[ScoredPoint], list[ScoredPoint]]:
        """RRF-fused, dense-only and sparse-only results in one round trip (for re-ranking)."""
        flt = tenant_filter(tenant_ids)
        sparse_query = models.SparseVector(indices=sparse.indices, values=sparse.values)
        prefetches = [models.Prefetch(query=dense.tolist(), using=DENSE, filter=flt, limit=limit)]
        if sparse.indices:
            prefetches.append(models.Prefetch(query=sparse_query, using=SPARSE, filter=flt, limit=limit))
        requests = [
            models.QueryRequest(
                prefetch=prefetches,
                query=models.FusionQuery(fusion=models.Fusion.RRF),
                filter=flt,
                limit=limit,
                with_payload=True,
            ),
            models.QueryRequest(
                query=dense.tolist(), using=DENSE, filter=flt, limit=limit, with_payload=True
            ),
        ]
        if sparse.indices:
            requests.append(
                models.QueryRequest(
                    query=sparse_query, using=SPARSE, filter=flt, limit=limit, with_payload=True
                )
            )
        responses = self.client.query_batch_points(self.collection, requests=requests)
        fused, dense_points = _scored(responses[0].points), _scored(responses[1].points)
        sparse_points = _scored(responses[2].points) if sparse.indices else []
        return fused, dense_points, sparse_points

    def ping(self) -> None:
        self.client.get_collection(self.collection)

    def close(self) -> None:
        self.client.close()


def tenant_filter(tenant_ids: int | list[int]) -> models.Filter:
    ids = [tenant_ids] if isinstance(tenant_ids, int) else list(tenant_ids)
    return models.Filter(must=[models.FieldCondition(key="tenant_id", match=models.MatchAny(any=ids))])


def _scored(points: list[models.ScoredPoint]) -> list[ScoredPoint]:
    return [
        ScoredPoint(
            chunk_id=(p.payload or {}).get("chunk_id", str(p.id)), score=p.score, payload=p.payload or {}
        )
        for p in points
    ]
