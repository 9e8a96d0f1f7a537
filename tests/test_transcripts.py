"""What is kept of an ended conversation, per municipality, on SQLite and PostgreSQL: full texts,
pseudonymised texts (names, dates and numbers replaced in the resident's words; the municipality's
answers kept), or no texts at all with what happened kept for the review and the figures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from virtuele_assistent.conversations.privacy import pseudonymise
from virtuele_assistent.conversations.transcripts import ENDED_AFTER, apply_transcript_modes
from virtuele_assistent.review.service import transcript
from virtuele_assistent.services import Services
from virtuele_assistent.storage.models import Feedback, utcnow
from virtuele_assistent.storage.repositories import ConversationRepository
from virtuele_assistent.tenants.schemas import TenantCreate, TenantUpdate
from virtuele_assistent.tenants.service import create_tenant, get_profile, update_tenant
from virtuele_assistent.tenants.settings import TenantSettings

QUESTION = "Mijn buurman Jansen zegt dat mijn Paspoort op 12 maart 2027 verloopt, zaak 2026123456."
ANSWER = "Een paspoort is 10 jaar geldig. Vraag het op tijd aan [1]."


def _conversation(services: Services, slug: str, ended: bool = True) -> tuple[str, str, str]:
    tenant_id = get_profile(services.db, slug).id
    with services.db.session() as session:
        conversations = ConversationRepository(session)
        conversation = conversations.create(tenant_id, channel="widget", language="nl")
        question = conversations.add_message(conversation, "resident", QUESTION)
        answer = conversations.add_message(
            conversation, "assistant", ANSWER, sources=[{"index": 1, "url": "https://x.nl/paspoort"}]
        )
        session.add(
            Feedback(
                tenant_id=tenant_id,
                conversation_id=conversation.id,
                message_id=answer.id,
                rating="down",
                comment="Jansen had gelijk",
            )
        )
        if ended:
            conversation.last_activity_at = utcnow() - ENDED_AFTER - timedelta(minutes=5)
        return conversation.id, question.id, answer.id


@pytest.fixture
def three(services: Services) -> Services:
    for slug, mode in (("meppel", "full"), ("hoorn", "pseudonymised"), ("edam", "none")):
        create_tenant(services.db, TenantCreate(slug=slug, name=f"Gemeente {slug.title()}"))
        if mode != "full":
            update_tenant(services.db, slug, TenantUpdate(settings={"transcripts": mode}))  # type: ignore[arg-type]
    return services


def test_each_municipality_keeps_what_its_setting_says(three: Services) -> None:
    services = three
    kept = {slug: _conversation(services, slug) for slug in ("meppel", "hoorn", "edam")}
    still_talking = _conversation(services, "edam", ended=False)
    handled = apply_transcript_modes(services.db)
    assert handled == {"hoorn": 2, "edam": 2}  # meppel keeps full texts; the live one waits
    assert apply_transcript_modes(services.db) == {"hoorn": 0, "edam": 0}  # each message once

    def read(slug: str, conversation_id: str) -> tuple[list[str], list[bool], str | None, str]:
        found = transcript(services.db, get_profile(services.db, slug).id, conversation_id)
        comments = [f.comment for m in found.messages for f in m.feedback]
        return (
            [m.text for m in found.messages],
            [m.text_kept for m in found.messages],
            comments[0],
            found.privacy_note,
        )

    texts, _, comment, note = read("meppel", kept["meppel"][0])
    assert texts == [QUESTION, ANSWER] and comment == "Jansen had gelijk"

    texts, _, comment, note = read("hoorn", kept["hoorn"][0])
    assert texts[1] == ANSWER  # the municipality's own text
    assert "Jansen" not in texts[0] and "[NAAM]" in texts[0] and "[DATUM]" in texts[0]
    assert "2026123456" not in texts[0] and "Paspoort" in texts[0]  # a word of the answer is no name
    assert comment == "[NAAM] had gelijk" and "gepseudonimiseerd" in note

    texts, text_kept, comment, note = read("edam", kept["edam"][0])
    assert texts == ["", ""] and text_kept == [False, False] and comment is None
    assert "geen teksten" in note
    found = transcript(services.db, get_profile(services.db, "edam").id, kept["edam"][0])
    assert found.messages[1].sources[0].url == "https://x.nl/paspoort"  # what happened stays
    assert found.messages[1].feedback[0].rating == "down"
    live, _, _, _ = read("edam", still_talking[0])
    assert live == [QUESTION, ANSWER]


def test_the_setting_is_checked_and_pseudonymising_keeps_ordinary_words() -> None:
    assert TenantSettings().transcripts == "full"
    with pytest.raises(ValueError):
        TenantSettings.model_validate({"transcripts": "geen"})
    text = pseudonymise("Kan ik via DigiD een ID-kaart aanvragen? Ik woon in Meppel.", {"meppel"})
    assert text == "Kan ik via DigiD een ID-kaart aanvragen? Ik woon in Meppel."
    assert pseudonymise("Dit is voor Fatima El-Amrani, geboren 03-04-1980.", set()) == (
        "Dit is voor [NAAM] [NAAM], geboren [DATUM]."
    )
