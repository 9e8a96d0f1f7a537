"""The vector store on Qdrant Edge: the Qdrant engine (Rust) in-process, one shard folder per collection.

Opt-in for the embedded profile (``vector_engine = "edge"``, extra ``edge``). Unlike Qdrant local
mode it does not score every point in Python: the tenant filter uses a payload index and the keyword
search an inverted index, so a query stays fast at 100k chunks. Dense search is exact (no HNSW graph
is ever built: ``indexing_threshold=0``), so results match local mode.

Differences from local mode, as on a Qdrant server: deleted points keep counting in the IDF
statistics of the keyword vector until their segment is vacuumed. The optimizer runs in-process
after every delete; it vacuums a segment once a fifth of it is deleted (a no-op, well under a
millisecond, before that). The shard folder can be open in only one process at a time
(``VectorStoreLocked``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as edge

from virtuele_assistent.index.analyzer import SparseVector
from virtuele_assistent.index.store import (
    DENSE,
    EXCLUDED,
    RRF_K,
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

CONFIG_FILE = "edge_config.json"


class EdgeStore(VectorStore):
    def __init__(self, folder: Path, collection: str, dim: int) -> None:
        self.folder = folder
        self.collection = collection
        self.dim = dim
        self.path = folder / collection
        self.shard = _open(self.path, dim)

    def upsert(self, chunks: list[IndexedChunk]) -> None:
        if not chunks:
            return
        points = [
            edge.Point(
                id=point_id(chunk.chunk_id),
                vector={DENSE: chunk.dense.tolist(), SPARSE: _sparse(chunk.sparse)},
                payload=point_payload(chunk),
            )
            for chunk in chunks
        ]
        self.shard.update(edge.UpdateOperation.upsert_points(points))

    def delete(self, chunk_ids: list[str]) -> None:
        if chunk_ids:
            self.shard.update(edge.UpdateOperation.delete_points([point_id(c) for c in chunk_ids]))
            self.shard.optimize()  # vacuum once enough is deleted (keeps IDF statistics live)

    def set_excluded(self, chunk_ids: list[str], excluded: bool) -> None:
        if chunk_ids:
            self.shard.update(
                edge.UpdateOperation.set_payload([point_id(c) for c in chunk_ids], {EXCLUDED: int(excluded)})
            )

    def delete_tenant(self, tenant_id: int) -> None:
        self.shard.update(edge.UpdateOperation.delete_points_by_filter(_tenant_filter([tenant_id])))
        self.shard.optimize()

    def dense_vectors(self, chunk_ids: list[str]) -> dict[str, np.ndarray]:
        if not chunk_ids:
            return {}
        records = self.shard.retrieve([point_id(c) for c in chunk_ids], ["chunk_id"], [DENSE])
        out: dict[str, np.ndarray] = {}
        for record in records:
            vectors = record.vector if isinstance(record.vector, dict) else {}
            if DENSE in vectors and record.payload:
                out[record.payload["chunk_id"]] = np.asarray(vectors[DENSE], dtype=np.float32)
        return out

    def has_all(self, chunk_ids: list[str]) -> bool:
        if not chunk_ids:
            return True
        found = self.shard.retrieve([point_id(c) for c in chunk_ids], False, False)
        return len(found) == len(set(chunk_ids))

    def count(self, tenant_id: int | None = None) -> int:
        flt = _tenant_filter([tenant_id]) if tenant_id is not None else None
        return self.shard.count(edge.CountRequest(exact=True, filter=flt))

    def chunks(self, batch: int = 512) -> Iterator[list[IndexedChunk]]:
        offset: Any = None
        while True:
            records, offset = self.shard.scroll(
                edge.ScrollRequest(offset=offset, limit=batch, with_payload=True, with_vector=True)
            )
            out = []
            for record in records:
                payload = dict(record.payload or {})
                vectors: dict[str, Any] = record.vector if isinstance(record.vector, dict) else {}
                sparse = vectors.get(SPARSE)
                out.append(
                    IndexedChunk(
                        chunk_id=payload.pop("chunk_id"),
                        tenant_id=payload.pop("tenant_id"),
                        document_id=payload.pop("document_id"),
                        dense=np.asarray(vectors[DENSE], dtype=np.float32),
                        sparse=SparseVector(
                            indices=list(sparse.indices) if sparse is not None else [],
                            values=list(sparse.values) if sparse is not None else [],
                        ),
                        payload=payload,
                    )
                )
            if out:
                yield out
            if offset is None:
                return

    def sibling(self, collection: str) -> EdgeStore:
        shutil.rmtree(self.folder / collection, ignore_errors=True)
        return EdgeStore(self.folder, collection, self.dim)

    def search_dense(self, tenant_ids: list[int], vector: np.ndarray, limit: int) -> list[ScoredPoint]:
        points = self.shard.query(
            edge.QueryRequest(
                limit=limit,
                query=edge.Query.Nearest(vector.tolist(), using=DENSE),
                filter=_answer_filter(tenant_ids),
                with_payload=True,
            )
        )
        return _scored(points, dense_scores=True)

    def search_sparse(self, tenant_ids: list[int], vector: SparseVector, limit: int) -> list[ScoredPoint]:
        if not vector.indices:
            return []
        points = self.shard.query(
            edge.QueryRequest(
                limit=limit,
                query=edge.Query.Nearest(_sparse(vector), using=SPARSE),
                filter=_answer_filter(tenant_ids),
                with_payload=True,
            )
        )
        return _scored(points)

    def search_fused(
        self, tenant_ids: list[int], dense: np.ndarray, sparse: SparseVector, limit: int, candidates: int
    ) -> list[ScoredPoint]:
        prefetches = [edge.Prefetch(limit=candidates, query=edge.Query.Nearest(dense.tolist(), using=DENSE))]
        if sparse.indices:
            prefetches.append(
                edge.Prefetch(limit=candidates, query=edge.Query.Nearest(_sparse(sparse), using=SPARSE))
            )
        points = self.shard.query(
            edge.QueryRequest(
                limit=2 * candidates,  # every fused candidate
                prefetches=prefetches,
                query=edge.Fusion.Rrf(k=RRF_K),  # type: ignore[arg-type]  # the stub omits Fusion.Rrf
                filter=_answer_filter(tenant_ids),
                with_payload=True,
                with_vector=[DENSE],
            )
        )
        out = _scored(points)
        for scored, point in zip(out, points, strict=True):
            vectors: dict[str, Any] = point.vector if isinstance(point.vector, dict) else {}
            scored.dense_score = cosine_to(dense, vectors.get(DENSE))
        return rank_fused(out, limit)

    def search_signals(
        self, tenant_ids: list[int], dense: np.ndarray, sparse: SparseVector, limit: int
    ) -> tuple[list[ScoredPoint], list[ScoredPoint]]:
        flt = _answer_filter(tenant_ids)
        requests = [
            edge.QueryRequest(
                limit=limit,
                query=edge.Query.Nearest(dense.tolist(), using=DENSE),
                filter=flt,
                with_payload=True,
            )
        ]
        if sparse.indices:
            requests.append(
                edge.QueryRequest(
                    limit=limit,
                    query=edge.Query.Nearest(_sparse(sparse), using=SPARSE),
                    filter=flt,
                    with_payload=True,
                )
            )
        responses = self.shard.query_batch(edge.QueryBatchRequest(requests))
        dense_points = _scored(responses[0], dense_scores=True)
        return dense_points, (_scored(responses[1]) if sparse.indices else [])

    def ping(self) -> None:
        self.shard.info()

    def close(self) -> None:
        self.shard.close()


def _config(dim: int) -> edge.EdgeConfig:
    return edge.EdgeConfig(
        vectors={DENSE: edge.EdgeVectorParams(size=dim, distance=edge.Distance.Cosine)},
        sparse_vectors={SPARSE: edge.EdgeSparseVectorParams(modifier=edge.Modifier.Idf)},
        # Exact dense search: no HNSW graph (building one takes minutes on 2 cores and is approximate).
        optimizers=edge.EdgeOptimizersConfig(indexing_threshold=0),
    )


def _open(path: Path, dim: int) -> edge.EdgeShard:
    try:
        if (path / CONFIG_FILE).is_file():
            return edge.EdgeShard.load(str(path), _config(dim))
        path.mkdir(parents=True, exist_ok=True)
        shard = edge.EdgeShard.create(str(path), _config(dim))
    except Exception as error:  # the bindings raise a bare Exception
        if "WouldBlock" in str(error):
            raise VectorStoreLocked(str(path)) from None
        raise
    # Payload indexes: the tenant filter (every query) and deletes by document are index look-ups.
    shard.update(edge.UpdateOperation.create_field_index("tenant_id", edge.PayloadSchemaType.Integer))
    shard.update(edge.UpdateOperation.create_field_index("document_id", edge.PayloadSchemaType.Integer))
    return shard


def _tenant_filter(tenant_ids: list[int]) -> edge.Filter:
    return edge.Filter(must=[edge.FieldCondition(key="tenant_id", match=edge.MatchAny(any=list(tenant_ids)))])


def _answer_filter(tenant_ids: list[int]) -> edge.Filter:
    """What an answer may come from: the tenants' points, not those staff took out of the answers."""
    return edge.Filter(
        must=[edge.FieldCondition(key="tenant_id", match=edge.MatchAny(any=list(tenant_ids)))],
        must_not=[edge.FieldCondition(key=EXCLUDED, match=edge.MatchValue(value=1))],
    )


def _sparse(vector: SparseVector) -> edge.SparseVector:
    return edge.SparseVector(indices=list(vector.indices), values=list(vector.values))


def _scored(points: list[edge.ScoredPoint], dense_scores: bool = False) -> list[ScoredPoint]:
    return [
        ScoredPoint(
            chunk_id=(p.payload or {}).get("chunk_id", str(p.id)),
            score=p.score,
            payload=p.payload or {},
            dense_score=p.score if dense_scores else None,
        )
        for p in points
    ]
