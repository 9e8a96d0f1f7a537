"""Pages and blocks that are mostly links (topic indexes, 'Zie ook' boxes, menus) are not answer
sources: they name pages, they do not answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_ingest_and_search import PAGE, write_site
from virtuele_assistent.extract import ExtractionError, extract
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import TenantCreate
from virtuele_assistent.tenants.service import create_tenant, get_profile

INDEX = PAGE.format(
    town="Meppel",
    title="Onderwerpen",
    body="<ul>"
    + "".join(
        f'<li><a href="{slug}.html">{name}</a></li>'
        for slug, name in [
            ("paspoort", "Paspoort aanvragen"),
            ("grofvuil", "Grofvuil laten ophalen"),
            ("parkeren", "Parkeervergunning voor bewoners"),
            ("verhuizen", "Verhuizing doorgeven"),
            ("trouwen", "Trouwen en geregistreerd partnerschap"),
        ]
    )
    + "</ul>",
)

CONTENT = PAGE.format(
    town="Meppel",
    title="Grofvuil",
    body="<p>Grofvuil wordt op afspraak opgehaald. Maak een afspraak via het "
    '<a href="/afspraak">afsprakenformulier</a>. Het ophalen kost € 25,00 per keer.</p>'
    "<p>Kleine spullen brengt u zelf naar de milieustraat aan de Industrieweg.</p>"
    '<h2>Zie ook</h2><ul><li><a href="/afval">Afval scheiden</a></li>'
    '<li><a href="/milieustraat">Milieustraat</a></li><li><a href="/kliko">Kliko aanvragen</a></li></ul>',
)


def test_a_page_of_links_is_not_a_source() -> None:
    with pytest.raises(ExtractionError, match="navigatiepagina"):
        extract(INDEX.encode(), "https://www.meppel.nl/onderwerpen.html", "text/html")


def test_a_list_of_links_is_left_out_and_link_texts_stay_as_words() -> None:
    text = extract(CONTENT.encode(), "https://www.meppel.nl/grofvuil.html", "text/html").text
    assert "Maak een afspraak via het afsprakenformulier." in text
    assert "€ 25,00" in text and "milieustraat aan de Industrieweg" in text
    assert "Kliko aanvragen" not in text and "Afval scheiden" not in text
    assert "](" not in text and "[" not in text


def test_an_index_page_is_skipped_with_its_reason_and_a_former_version_removed(
    services: Services, tmp_path: Path
) -> None:
    create_tenant(services.db, TenantCreate(slug="meppel", name="Gemeente Meppel"))
    tenant = get_profile(services.db, "meppel").id
    site = write_site(
        tmp_path / "site",
        "Meppel",
        {"onderwerpen.html": ("Onderwerpen", "<p>" + "Alles over afval in Meppel. " * 8 + "</p>")},
    )
    (site / "grofvuil.html").write_text(CONTENT, encoding="utf-8")
    first = services.indexer.ingest_path(tenant, site, "https://www.meppel.nl/")
    assert first.counts.get("new") == 2
    # the page becomes a list of links: it is no longer a source, and its earlier text is gone
    (site / "onderwerpen.html").write_text(INDEX, encoding="utf-8")
    second = services.indexer.ingest_path(tenant, site, "https://www.meppel.nl/")
    skipped = next(o for o in second.outcomes if o.url.endswith("onderwerpen.html"))
    assert skipped.status == "skipped" and "navigatiepagina" in (skipped.reason or "")
    hits = services.retriever.search([tenant], "grofvuil afval Meppel", limit=10)
    assert hits and all(h.url.endswith("grofvuil.html") for h in hits)
