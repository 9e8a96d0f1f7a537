"""Real files -> real extraction, real embeddings, real (embedded) Qdrant -> search, per tenant.

Every test runs on both relational backends with Qdrant local mode, and on SQLite with Qdrant Edge.
"""

from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL, make_settings
from virtuele_assistent.services import Services
from virtuele_assistent.settings import Settings
from virtuele_assistent.tenants.schemas import TenantCreate
from virtuele_assistent.tenants.service import create_tenant, get_profile

PAGE = """<!doctype html><html lang="nl"><head><title>{title} | Gemeente {town}</title></head><body>
<header><nav><a href="/">Home</a> <a href="/afval">Afval</a> <a href="/contact">Contact</a></nav></header>
<main><h1>{title}</h1>{body}</main>
<footer>Gemeente {town} · Bel 14 0555 · Privacyverklaring · Cookies</footer></body></html>"""


@pytest.fixture(params=["sqlite", "postgres", "sqlite-edge"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "postgres":
        schema = request.getfixturevalue("postgres_schema")
        return make_settings(tmp_path, database_url=POSTGRES_URL, database_schema=schema)
    return make_settings(tmp_path, vector_engine="edge" if request.param == "sqlite-edge" else "local")


def write_site(folder: Path, town: str, pages: dict[str, tuple[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (title, body) in pages.items():
        (folder / name).write_text(PAGE.format(title=title, body=body, town=town), encoding="utf-8")
    return folder


def two_tenants(services: Services, tmp_path: Path) -> tuple[int, int]:
    create_tenant(services.db, TenantCreate(slug="meppel", name="Gemeente Meppel"))
    create_tenant(services.db, TenantCreate(slug="assen", name="Gemeente Assen"))
    meppel, assen = get_profile(services.db, "meppel").id, get_profile(services.db, "assen").id
    write_site(
        tmp_path / "meppel",
        "Meppel",
        {
            "paspoort.html": (
                "Paspoort aanvragen",
                "<p>Een paspoort voor volwassenen kost € 84,50.</p>"
                "<h2>Wat neemt u mee?</h2><p>Neem een recente pasfoto mee.</p>",
            ),
            "grofvuil.html": (
                "Grofvuil",
                "<p>Grofvuil wordt op afspraak opgehaald. Maak een afspraak via de website."
                " Ophalen kost € 25,00 per keer.</p>",
            ),
        },
    )
    write_site(
        tmp_path / "assen",
        "Assen",
        {
            "paspoort.html": (
                "Paspoort",
                "<p>In Assen kost een paspoort € 79,00 en duurt de aanvraag 5 werkdagen.</p>",
            ),
        },
    )
    services.indexer.ingest_path(meppel, tmp_path / "meppel", "https://www.meppel.nl/")
    services.indexer.ingest_path(assen, tmp_path / "assen", "https://www.assen.nl/")
    return meppel, assen


def test_search_finds_the_right_page_and_never_another_tenant(services: Services, tmp_path: Path) -> None:
    meppel, assen = two_tenants(services, tmp_path)
    hits = services.retriever.search([meppel], "Wat kost een paspoort?", limit=5)
    assert hits[0].url == "https://www.meppel.nl/paspoort.html"
    assert all(hit.tenant_id == meppel for hit in hits)
    assert all("assen" not in hit.url for hit in hits)
    assert services.retriever.search([assen], "grofvuil ophalen", limit=5)[0].url.startswith(
        "https://www.assen.nl/"
    )


def test_navigation_and_footer_are_not_indexed(services: Services, tmp_path: Path) -> None:
    meppel, _ = two_tenants(services, tmp_path)
    for hit in services.retriever.search([meppel], "privacyverklaring cookies", limit=10):
        assert "Privacyverklaring" not in hit.text


def test_reingest_unchanged_embeds_nothing_and_changes_replace_chunks(
    services: Services, tmp_path: Path
) -> None:
    meppel, _ = two_tenants(services, tmp_path)
    again = services.indexer.ingest_path(meppel, tmp_path / "meppel", "https://www.meppel.nl/")
    assert again.counts.get("unchanged") == 2 and again.counts["chunks_embedded"] == 0
    before = services.store.count(meppel)

    page = tmp_path / "meppel" / "paspoort.html"
    page.write_text(page.read_text().replace("€ 84,50", "€ 86,00"))
    (tmp_path / "meppel" / "grofvuil.html").unlink()
    changed = services.indexer.ingest_path(meppel, tmp_path / "meppel", "https://www.meppel.nl/")
    assert changed.counts.get("changed") == 1 and changed.counts.get("removed") == 1
    assert changed.counts["chunks_embedded"] == 1  # only the changed section is embedded again
    texts = [h.text for h in services.retriever.search([meppel], "paspoort kosten", limit=10)]
    assert any("€ 86,00" in t for t in texts) and not any("€ 84,50" in t for t in texts)
    assert not any("Grofvuil" in h.title for h in services.retriever.search([meppel], "grofvuil", limit=10))
    assert services.store.count(meppel) < before


def test_bad_files_are_skipped_with_a_reason(services: Services, tmp_path: Path) -> None:
    create_tenant(services.db, TenantCreate(slug="meppel", name="Gemeente Meppel"))
    meppel = get_profile(services.db, "meppel").id
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "leeg.html").write_text("")
    (folder / "binair.html").write_bytes(b"\x00\x01\x02" * 100)
    (folder / "zonder-tekst.html").write_text("<html><body><nav><a href='/'>Home</a></nav><div></div></html")
    (folder / "kapot.html").write_text(
        "<html><body><div><p>Het stadhuis is op zaterdag gesloten.</div></html"
    )
    summary = services.indexer.ingest_path(meppel, folder)
    skipped = {o.url.rsplit("/", 1)[-1]: o.reason for o in summary.outcomes if o.status == "skipped"}
    assert set(skipped) == {"leeg.html", "binair.html", "zonder-tekst.html"} and all(skipped.values())
    assert summary.counts.get("new") == 1  # malformed HTML that still has text is used
    assert services.store.count(meppel) == 1


def test_document_whose_vectors_are_missing_is_indexed_again(services: Services, tmp_path: Path) -> None:
    meppel, _ = two_tenants(services, tmp_path)
    with services.db.session() as session:
        from virtuele_assistent.storage.repositories import DocumentRepository

        document = DocumentRepository(session).get_by_url(meppel, "https://www.meppel.nl/paspoort.html")
        assert document is not None
        lost = DocumentRepository(session).chunk_ids(document.id)
    services.store.delete(lost)  # as after a crash between the SQL commit and the vector write
    assert not services.retriever.search([meppel], "Wat kost een paspoort?", limit=5)[0].url.endswith(
        "paspoort.html"
    )

    again = services.indexer.ingest_path(meppel, tmp_path / "meppel", "https://www.meppel.nl/")
    assert again.counts.get("unchanged") == 1 and again.counts.get("changed") == 1
    assert services.store.has_all(lost)
    assert services.retriever.search([meppel], "Wat kost een paspoort?", limit=5)[0].url.endswith(
        "paspoort.html"
    )
