"""The vector store's contract, against both embedded engines (Qdrant local mode and Qdrant Edge).

Real engines in temporary folders; small hand-made vectors so that every expected rank is known.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import make_settings
from virtuele_assistent.index.analyzer import SparseVector
from virtuele_assistent.index.store import IndexedChunk, VectorStore, VectorStoreLocked
from virtuele_assistent.settings import Settings, SettingsError, load_settings

ENGINES = ["local", "edge"]
DIM = 8


def unit(*values: float) -> np.ndarray:
    vector = np.zeros(DIM, dtype=np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


def chunk(number: int, tenant: int, dense: np.ndarray, terms: dict[int, float]) -> IndexedChunk:
    return IndexedChunk(
        chunk_id=f"{number:032x}",
        tenant_id=tenant,
        document_id=number // 2,
        dense=dense,
        sparse=SparseVector(indices=list(terms), values=list(terms.values())),
        payload={"url": f"https://example.nl/{number}", "text": f"tekst {number}"},
    )


# Tenant 1 owns chunks 1-6; tenant 2 owns chunks 11-12, which match every query best.
CHUNKS = [
    chunk(1, 1, unit(1, 0.1), {5: 1.0}),  # close to the query, shares no keyword
    chunk(2, 1, unit(0.2, 1), {7: 2.0, 9: 1.0}),  # far, but the best keyword match
    chunk(3, 1, unit(1, 0.3), {7: 1.0}),  # close and matching: first after fusion
    chunk(4, 1, unit(0, 0, 1), {9: 1.0}),
    chunk(5, 1, unit(0, 0, 0, 1), {11: 1.0}),
    chunk(6, 1, unit(0, 0, 0, 0, 1), {11: 1.0}),
    chunk(11, 2, unit(1, 0), {7: 5.0}),
    chunk(12, 2, unit(1, 0.05), {7: 4.0}),
]
QUERY_DENSE = unit(1, 0)
QUERY_SPARSE = SparseVector(indices=[7], values=[1.0])


def open_store(data_dir: Path, engine: str) -> VectorStore:
    return VectorStore.from_settings(make_settings(data_dir, vector_engine=engine), DIM)


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    opened = open_store(tmp_path, request.param)
    opened.upsert(CHUNKS)
    yield opened
    opened.close()


def ids(points: list) -> list[int]:  # type: ignore[type-arg]
    return [int(p.chunk_id, 16) for p in points]


def test_hybrid_search_fuses_both_signals_within_the_tenant(store: VectorStore) -> None:
    fused = store.search_fused([1], QUERY_DENSE, QUERY_SPARSE, limit=3, candidates=2)
    assert ids(fused) == [3, 1, 2]  # 3: dense #2 + keyword #2; 1: dense #1; 2: keyword #1 (a tie, by cosine)
    assert all(p.payload["tenant_id"] == 1 for p in fused)
    for point in fused:
        stored = next(c for c in CHUNKS if c.chunk_id == point.chunk_id)
        assert point.dense_score == pytest.approx(float(stored.dense @ QUERY_DENSE), abs=1e-5)
    assert ids(store.search_dense([1], QUERY_DENSE, 2)) == [1, 3]
    assert ids(store.search_sparse([1], QUERY_SPARSE, 5)) == [2, 3]
    assert store.search_sparse([1], SparseVector(indices=[], values=[]), 5) == []
    dense_points, sparse_points = store.search_signals([1], QUERY_DENSE, QUERY_SPARSE, 2)
    assert ids(dense_points) == [1, 3] and ids(sparse_points) == [2, 3]
    assert dense_points[0].dense_score == pytest.approx(dense_points[0].score)
    # Both tenants at once, and a query without keywords (dense only).
    assert ids(store.search_fused([1, 2], QUERY_DENSE, QUERY_SPARSE, 2, 5)) == [11, 12]
    assert ids(store.search_fused([1], QUERY_DENSE, SparseVector([], []), 2, 5)) == [1, 3]


def test_excluded_points_are_skipped_by_every_search_and_come_back(store: VectorStore) -> None:
    out = [CHUNKS[2].chunk_id, CHUNKS[0].chunk_id]  # 3 and 1: the best two of tenant 1
    store.set_excluded(out, True)
    fused = ids(store.search_fused([1], QUERY_DENSE, QUERY_SPARSE, limit=3, candidates=2))
    assert fused[0] == 2 and not {1, 3} & set(fused)
    assert 1 not in ids(store.search_dense([1], QUERY_DENSE, 6)) and ids(
        store.search_sparse([1], QUERY_SPARSE, 5)
    ) == [2]
    dense_points, sparse_points = store.search_signals([1], QUERY_DENSE, QUERY_SPARSE, 6)
    assert not {1, 3} & set(ids(dense_points) + ids(sparse_points))
    assert store.count(1) == 6  # still indexed
    store.set_excluded(out, False)
    assert ids(store.search_fused([1], QUERY_DENSE, QUERY_SPARSE, limit=3, candidates=2)) == [3, 1, 2]
    store.set_excluded([], True)  # nothing to do


def test_keyword_scores_use_idf(store: VectorStore) -> None:
    # Term 9 occurs in 2 of 8 points, term 11 in 2 as well, term 7 in 4: rarer terms weigh more.
    rare = store.search_sparse([1], SparseVector(indices=[9], values=[1.0]), 1)[0].score
    common = store.search_sparse([1], SparseVector(indices=[7], values=[1.0]), 5)
    assert rare == pytest.approx(np.log((8 - 2 + 0.5) / (2 + 0.5) + 1), rel=1e-4)
    assert common[0].score == pytest.approx(2.0 * np.log((8 - 4 + 0.5) / (4 + 0.5) + 1), rel=1e-4)


def test_delete_count_and_stored_vectors(store: VectorStore) -> None:
    assert store.count() == 8 and store.count(1) == 6 and store.count(2) == 2
    first, third = CHUNKS[0].chunk_id, CHUNKS[2].chunk_id
    assert store.has_all([first, third]) and not store.has_all([first, f"{99:032x}"])
    vectors = store.dense_vectors([first, third, f"{99:032x}"])
    assert set(vectors) == {first, third}
    assert np.allclose(vectors[first], CHUNKS[0].dense, atol=1e-6)
    store.delete([third])
    assert store.count(1) == 5 and not store.has_all([third])
    assert 3 not in ids(store.search_fused([1], QUERY_DENSE, QUERY_SPARSE, 5, 5))
    store.delete_tenant(2)
    assert store.count() == 5 and store.count(2) == 0
    store.upsert([CHUNKS[2]])  # upsert again: back, once
    assert store.count(1) == 6


def test_copy_into_a_sibling_collection(store: VectorStore) -> None:
    copy = store.sibling(f"{store.collection}_copy")
    for batch in store.chunks(batch=3):
        for item in batch:
            item.sparse = SparseVector(indices=[1], values=[1.0])
        copy.upsert(batch)
    try:
        assert copy.count() == 8 and store.count() == 8
        assert ids(copy.search_dense([1], QUERY_DENSE, 2)) == [1, 3]
        assert ids(store.search_sparse([1], QUERY_SPARSE, 5)) == [2, 3]  # the original is untouched
        again = store.sibling(f"{store.collection}_copy")  # starts empty again
        assert again.count() == 0
        again.close()
    finally:
        copy.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_data_survives_a_restart_and_the_folder_is_locked_while_open(tmp_path: Path, engine: str) -> None:
    first = open_store(tmp_path, engine)
    first.upsert(CHUNKS)
    with pytest.raises(VectorStoreLocked):
        open_store(tmp_path, engine)
    first.close()
    reopened = open_store(tmp_path, engine)
    try:
        assert reopened.count(1) == 6
        assert ids(reopened.search_fused([1], QUERY_DENSE, QUERY_SPARSE, 3, 2)) == [3, 1, 2]
    finally:
        reopened.close()


def test_both_engines_rank_alike(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    items = [
        chunk(
            n,
            1 + n % 2,
            unit(*rng.normal(size=DIM)),
            {int(t): float(rng.uniform(0.5, 3)) for t in rng.choice(40, 4, replace=False)},
        )
        for n in range(1, 301)
    ]
    stores = [open_store(tmp_path / engine, engine) for engine in ENGINES]
    try:
        for opened in stores:
            opened.upsert(items)
        for _ in range(20):
            dense = unit(*rng.normal(size=DIM))
            terms = rng.choice(40, 2, replace=False)
            sparse = SparseVector(indices=[int(t) for t in terms], values=[1.0, 1.0])
            local, edge = (s.search_fused([1], dense, sparse, 10, 30) for s in stores)
            assert ids(local) == ids(edge)
            assert [p.score for p in local] == pytest.approx([p.score for p in edge], rel=1e-5)
    finally:
        for opened in stores:
            opened.close()


def test_edge_engine_is_for_the_embedded_profile_only(tmp_path: Path) -> None:
    settings: Settings = make_settings(tmp_path, vector_engine="edge")
    assert settings.edge_path == tmp_path / "edge"
    with pytest.raises(SettingsError, match="vector_engine"):
        load_settings(data_dir=tmp_path, vector_engine="edge", qdrant_url="http://qdrant:6333")


def test_edge_keyword_statistics_follow_deletes(tmp_path: Path) -> None:
    # Qdrant Edge counts deleted points in the IDF until their segment is vacuumed; the store has the
    # optimizer vacuum after deletes, so a large delete leaves live statistics, as local mode has.
    store = open_store(tmp_path, "edge")
    rng = np.random.default_rng(3)
    items = [chunk(n, 1, unit(*rng.normal(size=DIM)), {1 if n % 4 == 0 else 2: 1.0}) for n in range(1200)]
    try:
        store.upsert(items)
        store.delete([c.chunk_id for n, c in enumerate(items) if n < 800 and n % 4])  # 600 without term 1
        score = store.search_sparse([1], SparseVector(indices=[1], values=[1.0]), 1)[0].score
        assert score == pytest.approx(np.log((600 - 300 + 0.5) / (300 + 0.5) + 1), rel=1e-4)
    finally:
        store.close()
