"""A question about something the national government handles, which the municipality's content does
not answer, is declined with the national body as the route besides the municipality's desk."""

from __future__ import annotations

import pytest

from tests.test_answering import demo  # noqa: F401 - the demo municipality, indexed once
from virtuele_assistent.answering.national import national_bodies, national_matter
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.service import get_profile


@pytest.mark.parametrize(
    ("question", "body"),
    [
        ("Hoe vraag ik huurtoeslag aan?", "Toeslagen"),
        ("Hoeveel kinderbijslag krijg ik voor mijn tweede kind?", "SVB"),
        ("Mijn WW-uitkering stopt, wat nu?", "UWV"),
        ("Hoe zet ik een kenteken op mijn naam?", "RDW"),
        ("Wanneer krijg ik mijn studiefinanciering?", "DUO"),
    ],
)
def test_a_national_matter_is_recognised_with_its_body(question: str, body: str) -> None:
    found = national_matter(question)
    assert found is not None and body in found.body.name and found.body.url.startswith("https://")


@pytest.mark.parametrize(
    "question",
    ["Wat kost een paspoort?", "Parkeervergunning bewoners met toeslag", "Hoe vraag ik bijstand aan?"],
)
def test_a_municipal_matter_names_no_national_body(question: str) -> None:
    assert national_matter(question) is None


def test_every_body_has_words_a_name_and_a_website() -> None:
    bodies = national_bodies()
    assert len(bodies) >= 6
    assert all(b.words and b.name and b.url.startswith("https://") for b in bodies)


def test_a_declined_national_matter_names_the_body_and_keeps_the_desk(demo: Services) -> None:  # noqa: F811
    tenant = get_profile(demo.db, "voorbeeldstad")
    answer = demo.answers.answer(tenant, "Hoe vraag ik huurtoeslag aan?")
    assert answer.declined
    said = "Gaat uw vraag over huurtoeslag? Dat regelt niet de gemeente, maar de Belastingdienst"
    assert said in answer.text
    assert "https://www.belastingdienst.nl/toeslagen" in answer.text and "14 0555" in answer.text
    other = demo.answers.answer(tenant, "Wat kost een kaartje voor de dierentuin?")
    assert other.declined and "regelt niet de gemeente" not in other.text
