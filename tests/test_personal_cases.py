"""Questions about the resident's own file are not answered as if a page knew it: the assistant says
it cannot see the file, gives what the site says in general, and points to the resident's own
channels, with a person offered. The check is fitted; its questions are the project's own."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.chat_helpers import ORIGIN, new_session, setup_tenant
from tests.conftest import LiveServer
from tests.test_answering import demo  # noqa: F401 - the demo municipality, indexed once
from virtuele_assistent.answering.compose import personal_case_text
from virtuele_assistent.answering.personal import (
    PERSONAL_FEATURES,
    is_personal_case,
    personal_features,
    personal_model,
)
from virtuele_assistent.quality import personal_fit
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import ContactRoutes, TenantProfile
from virtuele_assistent.tenants.service import get_profile

MIJN = "https://mijn.voorbeeldstad.nl/"


@pytest.fixture
def demo_tenant(demo: Services) -> TenantProfile:  # noqa: F811
    return get_profile(demo.db, "voorbeeldstad")


@pytest.mark.parametrize(
    "question",
    [
        "Is mijn aanvraag voor een parkeervergunning al goedgekeurd?",
        "Wat is de status van mijn aanvraag voor bijstand?",
        "Waarom is mijn kapvergunning afgewezen?",
        "Ik heb vorige week een nieuw paspoort aangevraagd. Is het al klaar?",
        "Hebben jullie mijn verhuizing al verwerkt?",
        "Has my application for a parking permit been approved yet?",
        "Kun je kijken of mijn aanvraag voor een parkeervergunning al is goedgekeurd?",
    ],
)
def test_a_question_about_the_residents_own_file_is_a_personal_case(question: str) -> None:
    assert is_personal_case(question)


@pytest.mark.parametrize(
    "question",
    [
        "Wat kost een paspoort?",
        "Hoe lang duurt het voordat mijn verhuizing verwerkt is?",
        "Hoe vraag ik een parkeervergunning aan?",
        "Mijn dochter is 9 en heeft een ID-kaart nodig. Wat moeten we regelen?",
        "Moet ik een vergunning hebben om een boom in mijn tuin te kappen?",
        "Wanneer moet ik mijn verhuizing doorgeven?",
        "Mijn aanvraag is afgewezen. Hoe maak ik dan bezwaar?",  # how to object: the general rule
    ],
)
def test_a_question_for_the_general_rule_is_not(question: str) -> None:
    assert not is_personal_case(question)


def test_the_shipped_check_was_measured_on_municipalities_it_did_not_see() -> None:
    model = personal_model()
    assert model.features == PERSONAL_FEATURES and 0 < model.threshold < 1
    left_out = model.figures["left_one_out"]
    assert len(left_out) >= 3 and model.figures["kept_aside"]
    routed = sum(f["routed"] for f in left_out.values()) / sum(f["personal"] for f in left_out.values())
    wrongly = sum(f["routed_answerable"] for f in left_out.values())
    assert routed >= 0.9 and wrongly <= 0.02 * sum(f["answerable"] for f in left_out.values())


def test_the_projects_personal_case_questions_cover_every_municipality() -> None:
    questions = personal_fit.personal_cases()
    assert len(questions) >= 40 and len({q["id"] for q in questions}) == len(questions)
    per_tenant = Counter(q["tenant"] for q in questions)
    assert len(per_tenant) == 7 and min(per_tenant.values()) >= 5
    assert all(q["expected"] == "personal_case" and q["question"].strip() for q in questions)


def test_the_fit_routes_the_personal_cases_of_a_municipality_it_left_out() -> None:
    general = [
        "Wat kost een paspoort?",
        "Hoe vraag ik een parkeervergunning aan?",
        "Hoe lang duurt het voordat mijn verhuizing verwerkt is?",
        "Wanneer wordt het grofvuil opgehaald?",
        "Welke papieren neem ik mee voor een ID-kaart?",
        "Kan ik mijn verhuizing online doorgeven?",
    ]
    own = [
        "Is mijn aanvraag voor bijstand al goedgekeurd?",
        "Waarom is mijn parkeervergunning geweigerd?",
        "Hebben jullie mijn melding al opgepakt?",
        "Wat is de status van mijn aanvraag?",
    ]
    items = [
        {"id": f"{t}-{i}", "tenant": t, "question": q, "expected": "answer"}
        for t in ("a", "b", "c", "d")
        for i, q in enumerate(general)
    ]
    cases = [
        {"id": f"{t}-p{i}", "tenant": t, "question": q, "expected": "personal_case"}
        for t in ("a", "b", "c", "d")
        for i, q in enumerate(own)
    ]
    examples = personal_fit.collect(items, cases, personal_model())
    model = personal_fit.fit([e for e in examples if e.tenant != "d"])
    figures = personal_fit.measure(model, [e for e in examples if e.tenant == "d"], "d")
    assert figures.routed == figures.personal == 4 and figures.routed_answerable == 0
    assert personal_fit.best_threshold(np.array([0.1, 0.9]), np.array([False, True])) >= 0.1


def test_the_features_are_the_same_for_any_municipality() -> None:
    found = personal_features("Is mijn aanvraag voor de Stadspas in Zwolle al toegekend?")
    assert set(found) == set(PERSONAL_FEATURES)
    assert found == personal_features("Is mijn aanvraag voor de Stadspas in Breda al toegekend?")


def test_the_reply_says_the_file_is_out_of_sight_and_where_to_go() -> None:
    tenant = TenantProfile(
        id=1,
        slug="voorbeeldstad",
        name="Gemeente Voorbeeldstad",
        form_of_address="je",
        contact=ContactRoutes(phone="14 0555", personal_environment_url=MIJN),  # type: ignore[arg-type]
    )
    text = personal_case_text(tenant, "Een vergunning kost € 55,00 [1].")
    assert text.startswith("Ik kan je persoonlijke gegevens, aanvragen en dossiers niet inzien.")
    general = "Wat Gemeente Voorbeeldstad er in het algemeen over zegt:\n\nEen vergunning kost € 55,00 [1]."
    assert general in text
    assert f"persoonlijke omgeving: {MIJN}" in text and "bel 14 0555" in text
    bare = tenant.model_copy(update={"contact": ContactRoutes()})
    assert personal_case_text(bare, None).count("\n\n") == 0  # nothing to add, nothing invented


def test_the_answer_gives_the_general_rule_with_its_source_and_the_route(
    demo: Services,  # noqa: F811
    demo_tenant: TenantProfile,
) -> None:
    contact = demo_tenant.contact.model_copy(update={"personal_environment_url": MIJN})
    mine = demo_tenant.model_copy(update={"contact": contact})
    question = "Is mijn aanvraag voor een parkeervergunning voor bewoners al goedgekeurd?"
    answer = demo.answers.answer(mine, question)
    assert answer.reason == "personal_case" and answer.declined
    assert "niet inzien" in answer.text and MIJN in answer.text
    assert "in het algemeen" in answer.text and answer.sources
    assert any("parkeervergunning" in s.url for s in answer.sources)
    general = demo.answers.answer(mine, "Hoe vraag ik een parkeervergunning voor bewoners aan?")
    assert general.reason == "ok" and not general.declined


def test_over_http_a_personal_case_is_routed_with_a_person_offered(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    setup_tenant(services, tmp_path, personal_environment_url="https://mijn.meppel.nl/")
    session = new_session(live_server.url)
    response = httpx.post(
        f"{live_server.url}/api/v1/tenants/meppel/chat",
        json={"question": "Ik heb vorige week een paspoort aangevraagd. Is mijn paspoort al klaar?"},
        headers={"Origin": ORIGIN, "Authorization": f"Bearer {session['token']}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["declined"] is True and body["handover_offered"] is True
    assert "niet inzien" in body["answer"] and "https://mijn.meppel.nl/" in body["answer"]
    assert "€ 84,50" in body["answer"]  # what the site says about a passport in general
