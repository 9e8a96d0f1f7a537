"""Conversation review over real HTTP, on SQLite and PostgreSQL: residents' conversations made through
the chat API are found with the filter, read as a transcript with how each answer came about, and
marked; the portal does the same with the same service; other municipalities' conversations stay out
of sight, and every mark is in the audit log."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.chat_helpers import ORIGIN, new_session, setup_tenant
from tests.conftest import LiveServer
from tests.test_portal import CSRF, PASSWORD, signed_in
from virtuele_assistent.api.app import create_app
from virtuele_assistent.audit.service import AuditFilter, list_entries
from virtuele_assistent.auth.users import create_user
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import TenantCreate
from virtuele_assistent.tenants.service import create_tenant


def _chat(
    base: str, questions: list[str], slug: str = "meppel"
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A resident's conversation through the chat API: the session and each answer."""
    session = new_session(base) if slug == "meppel" else {}
    headers = {"Authorization": f"Bearer {session['token']}", "Origin": ORIGIN} if session else {}
    answers = []
    for question in questions:
        response = httpx.post(
            f"{base}/api/v1/tenants/{slug}/chat", json={"question": question}, headers=headers, timeout=30
        )
        assert response.status_code == 200, response.text
        answers.append(response.json())
    return session, answers


@pytest.fixture
def reviewed(services: Services, tmp_path: Path) -> Any:
    """Meppel with content, two residents' conversations and one thumbs down; Hoorn with one of its own."""
    setup_tenant(services, tmp_path)
    create_tenant(services.db, TenantCreate(slug="hoorn", name="Gemeente Hoorn"))
    create_user(services.db, "anna@meppel.nl", PASSWORD, name="Anna", roles=[("beheerder", "meppel")])
    create_user(services.db, "rita@meppel.nl", PASSWORD, name="Rita", roles=[("redacteur", "meppel")])
    create_user(services.db, "kees@meppel.nl", PASSWORD, name="Kees", roles=[("kcc", "meppel")])
    create_user(services.db, "lotte@meppel.nl", PASSWORD, name="Lotte", roles=[("analist", "meppel")])
    create_user(services.db, "priya@meppel.nl", PASSWORD, name="Priya", roles=[("privacy", "meppel")])
    with LiveServer(create_app(services.settings, services)) as server:
        base = server.url
        first, answers = _chat(base, ["Wat kost een paspoort?", "Mag ik vuurwerk afsteken in het bos?"])
        httpx.post(
            f"{base}/api/v1/tenants/meppel/feedback",
            json={"message_id": answers[1]["message_id"], "rating": "down", "comment": "Geen antwoord"},
            headers={"Authorization": f"Bearer {first['token']}", "Origin": ORIGIN},
        ).raise_for_status()
        _chat(base, ["Ik wil een medewerker spreken"])
        hoorn = _hoorn_conversation(services)
        yield base, answers, hoorn


def _hoorn_conversation(services: Services) -> str:
    from virtuele_assistent.storage.repositories import ConversationRepository

    with services.db.session() as session:
        hoorn_id = session.scalar(sa.text("SELECT id FROM tenants WHERE slug = 'hoorn'"))
        conversation = ConversationRepository(session).create(hoorn_id)
        ConversationRepository(session).add_message(
            conversation, "resident", "Wat kost een paspoort in Hoorn?"
        )
        return conversation.id


def _bearer(services: Services, email: str) -> dict[str, str]:
    with services.db.session() as session:
        user_id = session.scalar(sa.text("SELECT id FROM users WHERE email = :e"), {"e": email})
    return {"Authorization": f"Bearer {services.tokens.issue_staff(user_id)}"}


def test_the_api_finds_reads_and_marks_conversations(reviewed: Any, services: Services) -> None:
    base, answers, hoorn = reviewed
    api = f"{base}/api/v1/tenants/meppel/conversations"
    rita = _bearer(services, "rita@meppel.nl")

    def found(**params: Any) -> list[dict[str, Any]]:
        response = httpx.get(api, params=params, headers=rita)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    everything = found()
    assert len(everything) == 2  # Hoorn's conversation is not Meppel's
    passport = found(text="paspoort")
    assert len(passport) == 1 and passport[0]["first_question"] == "Wat kost een paspoort?"
    assert passport[0]["questions"] == 2 and passport[0]["negative_feedback"] == 1
    conversation_id = passport[0]["id"]
    assert [c["id"] for c in found(source="paspoort")] == [conversation_id]
    assert [c["id"] for c in found(declined=True)] == [conversation_id]
    assert [c["id"] for c in found(negative_feedback=True)] == [conversation_id]
    person = found(guardrail="handover")
    assert len(person) == 1 and person[0]["id"] != conversation_id and person[0]["handover"] is True
    assert [c["id"] for c in found(handover=True)] == [person[0]["id"]]
    assert len(found(language="nl")) == 2 and found(language="en") == []
    assert found(since="2999-01-01") == []
    bad = httpx.get(api, params={"since": "gisteren"}, headers=rita)
    assert bad.status_code == 422
    assert httpx.get(api, params={"onbekend": "x"}, headers=rita).status_code == 422

    transcript = httpx.get(f"{api}/{conversation_id}", headers=rita).json()
    roles = [m["role"] for m in transcript["messages"]]
    assert roles == ["resident", "assistant", "resident", "assistant"]
    answered, declined = transcript["messages"][1], transcript["messages"][3]
    assert answered["backend"] == "extractive" and answered["outcome"] == "ok"
    assert answered["dropped_sentences"] == 0 and answered["readability"] is not None
    assert answered["sources"] and "paspoort" in answered["sources"][0]["url"]
    assert answered["sources"][0]["document_id"] and answered["sources"][0]["excluded"] is False
    assert declined["declined"] is True and declined["outcome"] not in (None, "ok")
    assert declined["feedback"] == [{"rating": "down", "comment": "Geen antwoord"}]
    assert "[BSN]" in transcript["privacy_note"]

    # marking: the note is kept redacted; marking again replaces it; the log keeps both
    review = f"{api}/{conversation_id}/messages/{answered['id']}/review"
    marked = httpx.put(review, json={"verdict": "wrong", "note": "Bel mij op 06-12345678"}, headers=rita)
    assert marked.status_code == 200 and marked.json()["verdict"] == "wrong"
    assert "06-12345678" not in marked.json()["note"] and marked.json()["reviewer"] == "rita@meppel.nl"
    again = httpx.put(review, json={"verdict": "fine"}, headers=rita)
    assert again.json()["verdict"] == "fine"
    assert [c["reviews"] for c in found(review="fine")] == [{"fine": 1}]
    assert len(found(review="none")) == 1 and found(review="wrong") == []
    entries = list_entries(services.db, AuditFilter(tenants=("meppel",), action="answer."))
    assert [e.details["after"]["verdict"] for e in entries] == ["fine", "wrong"]
    assert entries[0].details["before"]["verdict"] == "wrong" and entries[0].actor == "rita@meppel.nl"
    assert httpx.delete(review, headers=rita).status_code == 204
    gone = httpx.delete(review, headers=rita)
    assert gone.status_code == 404 and "nog niet beoordeeld" in gone.json()["detail"]

    # what cannot be marked, or seen
    question = transcript["messages"][0]["id"]
    assert (
        httpx.put(
            f"{api}/{conversation_id}/messages/{question}/review", json={"verdict": "fine"}, headers=rita
        ).status_code
        == 404
    )
    wrong_verdict = httpx.put(review, json={"verdict": "slecht"}, headers=rita)
    assert wrong_verdict.status_code == 422 and wrong_verdict.json()["detail"]
    assert httpx.put(review, json={"verdict": "fine", "note": "x" * 1001}, headers=rita).status_code == 422
    assert httpx.get(f"{api}/{hoorn}", headers=rita).status_code == 404  # another municipality's
    lotte = _bearer(services, "lotte@meppel.nl")  # an analyst reads, and marks nothing
    assert httpx.get(f"{api}/{conversation_id}", headers=lotte).status_code == 200
    assert httpx.put(review, json={"verdict": "fine"}, headers=lotte).status_code == 403
    kees = _bearer(services, "kees@meppel.nl")
    assert httpx.get(api, headers=kees).status_code == 403
    assert httpx.get(api).status_code == 401
    assert answers[0]["message_id"] == answered["id"]


def test_the_portal_lists_filters_and_marks_an_answer(reviewed: Any, services: Services) -> None:
    base, answers, _hoorn = reviewed
    with signed_in(base) as anna:
        overview = anna.get("/beheer/gemeenten/meppel")
        assert "/beheer/gemeenten/meppel/gesprekken" in overview.text
        page = anna.get("/beheer/gemeenten/meppel/gesprekken")
        assert page.status_code == 200 and "2 gesprekken" in page.text
        assert "Wat kost een paspoort?" in page.text and "medewerker gevraagd" in page.text
        filtered = anna.get("/beheer/gemeenten/meppel/gesprekken", params={"negatief": "ja"})
        assert "1 gesprek," in filtered.text and "negatieve feedback" in filtered.text
        wrong = anna.get(
            "/beheer/gemeenten/meppel/gesprekken", params={"van": "gisteren", "zoek": "paspoort"}
        )
        assert wrong.status_code == 400 and "jjjj-mm-dd" in wrong.text and 'value="paspoort"' in wrong.text

        link = f"/beheer/gemeenten/meppel/gesprekken/{_conversation_of(services, answers[0]['message_id'])}"
        assert link in filtered.text
        transcript = anna.get(link)
        assert transcript.status_code == 200
        assert "tekst uit de bronnen" in transcript.text and "duim omlaag: Geen antwoord" in transcript.text
        assert "uit de antwoorden halen" in transcript.text  # the cited page, one click away
        assert re.search(r'href="/beheer/gemeenten/meppel/documenten/\d+"', transcript.text)
        token = CSRF.search(transcript.text).group(1)  # type: ignore[union-attr]
        action = f"{link}/antwoorden/{answers[0]['message_id']}/beoordeling"
        saved = anna.post(
            action, data={"csrf_token": token, "oordeel": "incomplete", "toelichting": "Pasfoto ontbreekt"}
        )
        assert saved.status_code == 303 and saved.headers["location"].endswith(
            f"#antwoord-{answers[0]['message_id']}"
        )
        shown = anna.get(saved.headers["location"])
        assert (
            "De beoordeling is opgeslagen." in shown.text and "nu <strong>onvolledig</strong>" in shown.text
        )
        assert "Pasfoto ontbreekt" in shown.text
        refused = anna.post(
            action, data={"csrf_token": token, "oordeel": "misschien", "toelichting": "Mijn tekst"}
        )
        assert refused.status_code == 400 and "goed, onvolledig of fout" in refused.text
        assert "Mijn tekst</textarea>" in refused.text  # nothing typed is lost
        cleared = anna.post(f"{action}/wissen", data={"csrf_token": token})
        assert cleared.status_code == 303 and "gewist" in anna.get(cleared.headers["location"]).text
        assert anna.get("/beheer/gemeenten/meppel/gesprekken/" + "0" * 32).status_code == 404
    with signed_in(base, "kees@meppel.nl") as kees:
        assert kees.get("/beheer/gemeenten/meppel/gesprekken").status_code == 403


def _conversation_of(services: Services, message_id: str) -> str:
    with services.db.session() as session:
        return str(
            session.scalar(sa.text("SELECT conversation_id FROM messages WHERE id = :m"), {"m": message_id})
        )


def test_a_data_subject_request_exports_and_erases_a_conversation(reviewed: Any, services: Services) -> None:
    base, answers, hoorn = reviewed
    conversation_id = _conversation_of(services, answers[0]["message_id"])
    page = f"/beheer/gemeenten/meppel/gesprekken/{conversation_id}"
    with signed_in(base, "rita@meppel.nl") as rita:  # an editor reviews, and handles no requests
        assert "Gesprek verwijderen" not in rita.get(page).text
        assert rita.get(f"{page}/export").status_code == 403
    with signed_in(base, "priya@meppel.nl") as priya:
        transcript = priya.get(page)
        assert "Gesprek verwijderen" in transcript.text and "Beoordeling opslaan" not in transcript.text
        exported = priya.get(f"{page}/export")
        assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
        assert [m["text"] for m in exported.json()["messages"]][0] == "Wat kost een paspoort?"
        token = CSRF.search(transcript.text).group(1)  # type: ignore[union-attr]
        unconfirmed = priya.post(f"{page}/verwijderen", data={"csrf_token": token})
        assert unconfirmed.status_code == 400 and "definitief wilt verwijderen" in unconfirmed.text
        assert priya.get(page).status_code == 200  # nothing was erased
        erased = priya.post(f"{page}/verwijderen", data={"csrf_token": token, "bevestig": "ja"})
        assert erased.status_code == 303
        assert "Het gesprek is verwijderd." in priya.get(erased.headers["location"]).text
        assert priya.get(page).status_code == 404
    with services.db.session() as session:
        left = session.scalar(
            sa.text("SELECT count(*) FROM messages WHERE conversation_id = :c"), {"c": conversation_id}
        )
        feedback = session.scalar(
            sa.text("SELECT count(*) FROM feedback WHERE conversation_id = :c"), {"c": conversation_id}
        )
    assert left == 0 and feedback == 0
    actions = [
        e.action for e in list_entries(services.db, AuditFilter(tenants=("meppel",), action="conversation."))
    ]
    assert actions[:2] == ["conversation.erase", "conversation.export"]
    # the API: another municipality's conversation cannot be erased from here; gone is gone
    priya_api = _bearer(services, "priya@meppel.nl")
    api = f"{base}/api/v1/tenants/meppel/conversations"
    assert httpx.post(f"{api}/{hoorn}/erase", headers=priya_api).status_code == 404
    assert httpx.post(f"{api}/{conversation_id}/erase", headers=priya_api).status_code == 404
    other = httpx.get(api, headers=priya_api).json()["items"]
    assert len(other) == 1
    assert httpx.post(f"{api}/{other[0]['id']}/erase", headers=priya_api).status_code == 204
    assert httpx.get(api, headers=priya_api).json()["total"] == 0
