"""The vector store on qdrant-client: Qdrant local mode (a folder) or a Qdrant server (by URL).

Local mode searches brute force in Python: every query scores every point of the collection and
checks the tenant filter point by point, so its latency grows linearly with the collection
(see ``index.edge_store`` for the in-process engine that does not).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models

from virtuele_assistent.index.analyzer import SparseVector
from virtuele_assistent.index.store import (
    DENSE,
    EXCLUDED,
    SPARSE,
    IndexedChunk,
    ScoredPoint,
    VectorStore,
    VectorStoreLocked,
    cosine_to,
    point_id,
    point_payload,
    rank_fused,
)
from virtuele_assistent.settings import Settings


class QdrantStore(VectorStore):
    def __init__(self, client: QdrantClient, collection: str, dim: int, owns_client: bool = True) -> None:
        self.client = client
        self.collection = collection
        self.dim = dim
        self.owns_client = owns_client
        self.local = getattr(client, "_client", None).__class__.__name__ == "QdrantLocal"
        self.ensure_collection()

    @classmethod
    def from_settings(cls, settings: Settings, dim: int) -> QdrantStore:
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
                payload=point_payload(chunk),
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

    def set_excluded(self, chunk_ids: list[str], excluded: bool) -> None:
        if chunk_ids:
            self.client.set_payload(
                self.collection,
                payload={EXCLUDED: int(excluded)},
                points=[point_id(c) for c in chunk_ids],
                wait=True,
            )

    def delete_tenant(self, tenant_id: int) -> None:
        self.client.delete(
            self.collection, points_selector=models.FilterSelector(filter=tenant_filter(tenant_id)), wait=True
        )

    def dense_vectors(self, chunk_ids: list[str]) -> dict[str, np.ndarray]:
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
        if not chunk_ids:
            return True
        found = self.client.retrieve(
            self.collection, ids=[point_id(c) for c in chunk_ids], with_vectors=False, with_payload=False
        )
        return len(found) == len(set(chunk_ids))

    def count(self, tenant_id: int | None = None) -> int:
        flt = tenant_filter(tenant_id) if tenant_id is not None else None
        return self.client.count(self.collection, count_filter=flt, exact=True).count

    def chunks(self, batch: int = 512) -> Iterator[list[IndexedChunk]]:
        offset = None
        while True:
            records, offset = self.client.scroll(
                self.collection, limit=batch, offset=offset, with_payload=True, with_vectors=True
            )
            out = []
            for record in records:
                payload = dict(record.payload or {})
                vectors = record.vector if isinstance(record.vector, dict) else {}
                sparse = vectors.get(SPARSE)
                out.append(
                    IndexedChunk(
                        chunk_id=payload.pop("chunk_id"),
                        tenant_id=payload.pop("tenant_id"),
                        document_id=payload.pop("document_id"),
                        dense=np.asarray(vectors[DENSE], dtype=np.float32),
                        sparse=SparseVector(
                            indices=list(sparse.indices) if isinstance(sparse, models.SparseVector) else [],
                            values=list(sparse.values) if isinstance(sparse, models.SparseVector) else [],
                        ),
                        payload=payload,
                    )
                )
            if out:
                yield out
            if offset is None:
                return

    def sibling(self, collection: str) -> QdrantStore:
        if self.client.collection_exists(collection):
            self.client.delete_collection(collection)
        return QdrantStore(self.client, collection, self.dim, owns_client=False)

    def search_dense(self, tenant_ids: list[int], vector: np.ndarray, limit: int) -> list[ScoredPoint]:
        result = self.client.query_points(
            self.collection,
            query=vector.tolist(),
            using=DENSE,
            query_filter=answer_filter(tenant_ids),
            limit=limit,
            with_payload=True,
        )
        return _scored(result.points, dense_scores=True)

    def search_sparse(self, tenant_ids: list[int], vector: SparseVector, limit: int) -> list[ScoredPoint]:
        if not vector.indices:
            return []
        result = self.client.query_points(
            self.collection,
            query=_sparse_query(vector),
            using=SPARSE,
            query_filter=answer_filter(tenant_ids),
            limit=limit,
            with_payload=True,
        )
        return _scored(result.points)

    def search_fused(
        self, tenant_ids: list[int], dense: np.ndarray, sparse: SparseVector, limit: int, candidates: int
    ) -> list[ScoredPoint]:
        prefetches = [models.Prefetch(query=dense.tolist(), using=DENSE, limit=candidates)]
        if sparse.indices:
            prefetches.append(
                models.Prefetch(
                    query=_sparse_query(sparse),
                    using=SPARSE,
                    limit=candidates,
                )
            )
        result = self.client.query_points(
            self.collection,
            prefetch=prefetches,
            query=models.FusionQuery(fusion=models.Fusion.RRF),
            query_filter=answer_filter(tenant_ids),
            limit=2 * candidates,  # every fused candidate
            with_payload=True,
            with_vectors=[DENSE],
        )
        out = _scored(result.points)
        for scored, point in zip(out, result.points, strict=True):
            vectors: dict[str, Any] = point.vector if isinstance(point.vector, dict) else {}
            scored.dense_score = cosine_to(dense, vectors.get(DENSE))
        return rank_fused(out, limit)

    def search_signals(
        self, tenant_ids: list[int], dense: np.ndarray, sparse: SparseVector, limit: int
    ) -> tuple[list[ScoredPoint], list[ScoredPoint]]:
        flt = answer_filter(tenant_ids)
        requests = [
            models.QueryRequest(query=dense.tolist(), using=DENSE, filter=flt, limit=limit, with_payload=True)
        ]
        if sparse.indices:
            requests.append(
                models.QueryRequest(
                    query=_sparse_query(sparse),
                    using=SPARSE,
                    filter=flt,
                    limit=limit,
                    with_payload=True,
                )
            )
        responses = self.client.query_batch_points(self.collection, requests=requests)
        dense_points = _scored(responses[0].points, dense_scores=True)
        return dense_points, (_scored(responses[1].points) if sparse.indices else [])

    def ping(self) -> None:
        self.client.get_collection(self.collection)

    def close(self) -> None:
        if self.owns_client:
            self.client.close()


def tenant_filter(tenant_ids: int | list[int]) -> models.Filter:
    ids = [tenant_ids] if isinstance(tenant_ids, int) else list(tenant_ids)
    return models.Filter(must=[models.FieldCondition(key="tenant_id", match=models.MatchAny(any=ids))])


def answer_filter(tenant_ids: list[int]) -> models.Filter:
    """What an answer may come from: the tenants' points, not those staff took out of the answers."""
    return models.Filter(
        must=[models.FieldCondition(key="tenant_id", match=models.MatchAny(any=list(tenant_ids)))],
        must_not=[models.FieldCondition(key=EXCLUDED, match=models.MatchValue(value=1))],
    )


def _sparse_query(vector: SparseVector) -> models.SparseVector:
    return models.SparseVector(indices=vector.indices, values=vector.values)


def _scored(points: list[models.ScoredPoint], dense_scores: bool = False) -> list[ScoredPoint]:
    return [
        ScoredPoint(
            chunk_id=(p.payload or {}).get("chunk_id", str(p.id)),
            score=p.score,
            payload=p.payload or {},
            dense_score=p.score if dense_scores else None,
        )
        for p in points
    ]
