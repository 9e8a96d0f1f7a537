"""Fixed answers over real HTTP, on SQLite and PostgreSQL: an editor writes one for a question and
its paraphrases, tries questions against it, puts it live; the next resident asking a paraphrase
gets it (marked as such, counted), a different question does not, an expired one is no longer given;
bad input gets a Dutch message at its field and nothing is saved."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.chat_helpers import ORIGIN, new_session, setup_tenant
from tests.conftest import LiveServer
from tests.test_portal import PASSWORD
from virtuele_assistent.api.app import create_app
from virtuele_assistent.audit.service import AuditFilter, list_entries
from virtuele_assistent.auth.users import create_user
from virtuele_assistent.fixed.service import today
from virtuele_assistent.services import Services
from virtuele_assistent.storage.models import FixedAnswer

ANSWER = "Een paspoort voor volwassenen kost € 84,50. Voor kinderen tot 18 jaar kost het € 62,80."
PAGE = "https://www.meppel.nl/paspoort.html"


@pytest.fixture
def site(services: Services, tmp_path: Path) -> Any:
    setup_tenant(services, tmp_path)
    create_user(services.db, "rita@meppel.nl", PASSWORD, name="Rita", roles=[("redacteur", "meppel")])
    create_user(services.db, "lotte@meppel.nl", PASSWORD, name="Lotte", roles=[("analist", "meppel")])
    with LiveServer(create_app(services.settings, services)) as server:
        yield server.url


def _bearer(services: Services, email: str) -> dict[str, str]:
    with services.db.session() as session:
        user_id = session.scalar(sa.text("SELECT id FROM users WHERE email = :e"), {"e": email})
    return {"Authorization": f"Bearer {services.tokens.issue_staff(user_id)}"}


def _ask(base: str, question: str) -> dict[str, Any]:
    session = new_session(base)
    response = httpx.post(
        f"{base}/api/v1/tenants/meppel/chat",
        json={"question": question},
        headers={"Authorization": f"Bearer {session['token']}", "Origin": ORIGIN},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_fixed_answer_is_written_tried_and_given(site: str, services: Services) -> None:
    api = f"{site}/api/v1/tenants/meppel/fixed-answers"
    rita = _bearer(services, "rita@meppel.nl")
    body = {
        "question": "Wat kost een paspoort?",
        "paraphrases": ["Hoeveel betaal ik voor een paspoort?"],
        "answer": ANSWER,
        "sources": [PAGE],
        "owner": "Team Burgerzaken",
        "expires_on": (today() + timedelta(days=90)).isoformat(),
    }
    created = httpx.post(api, json=body, headers=rita)
    assert created.status_code == 201, created.text
    fixed = created.json()
    assert fixed["status"] == "draft" and fixed["sources"] == [{"url": PAGE, "title": "Paspoort aanvragen"}]
    assert "62,80" not in _ask(site, "Wat kost een paspoort?")["answer"]  # a draft is not given

    def tried(question: str) -> dict[str, Any]:
        response = httpx.post(f"{api}/{fixed['id']}/try", json={"question": question}, headers=rita)
        assert response.status_code == 200
        return response.json()

    assert tried("wat kost een PASPOORT") == {"similarity": 1.0, "threshold": 0.95, "matches": True}
    assert tried("Hoeveel moet ik betalen voor een nieuw paspoort?")["matches"] is True
    assert tried("Wat kost een ID-kaart?")["matches"] is False
    assert tried("Waar kan ik mijn grofvuil kwijt?")["matches"] is False

    live = httpx.put(f"{api}/{fixed['id']}", json={**body, "status": "live"}, headers=rita)
    assert live.status_code == 200 and live.json()["status"] == "live"
    answer = _ask(site, "Hoeveel moet ik betalen voor een nieuw paspoort?")
    assert answer["answer"] == ANSWER and answer["sources"][0]["url"] == PAGE
    assert answer["backend"] == "fixed" and answer["declined"] is False
    assert _ask(site, "Wat kost een ID-kaart?")["answer"] != ANSWER
    assert httpx.get(f"{api}/{fixed['id']}", headers=rita).json()["hits"] == 1

    # expired: no longer given, listed first for review
    with services.db.session() as session:
        session.execute(sa.update(FixedAnswer).values(expires_on=today() - timedelta(days=1)))
    assert _ask(site, "Wat kost een paspoort?")["answer"] != ANSWER
    listed = httpx.get(api, headers=rita).json()
    assert listed[0]["expired"] is True

    actions = [
        e.action for e in list_entries(services.db, AuditFilter(tenants=("meppel",), action="fixed_answer."))
    ]
    assert actions == ["fixed_answer.update", "fixed_answer.create"]
    assert httpx.delete(f"{api}/{fixed['id']}", headers=rita).status_code == 204
    assert httpx.get(f"{api}/{fixed['id']}", headers=rita).status_code == 404


def test_bad_fixed_answers_are_refused_in_dutch_and_nothing_is_saved(site: str, services: Services) -> None:
    api = f"{site}/api/v1/tenants/meppel/fixed-answers"
    rita = _bearer(services, "rita@meppel.nl")
    good = {
        "question": "Wat kost een paspoort?",
        "answer": ANSWER,
        "sources": [PAGE],
        "owner": "Team Burgerzaken",
        "expires_on": (today() + timedelta(days=30)).isoformat(),
    }
    empty = httpx.post(api, json={**good, "answer": ""}, headers=rita)
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"].endswith("answer")
    past = httpx.post(api, json={**good, "expires_on": "2020-01-01"}, headers=rita)
    assert past.status_code == 422 and "in het verleden" in past.json()["detail"]
    elsewhere = httpx.post(api, json={**good, "sources": ["https://www.hoorn.nl/paspoort"]}, headers=rita)
    assert elsewhere.status_code == 422 and "geen pagina van deze gemeente" in elsewhere.json()["detail"]
    assert httpx.post(api, json={**good, "threshold": 0.5}, headers=rita).status_code == 422
    assert httpx.get(api, headers=rita).json() == []
    lotte = _bearer(services, "lotte@meppel.nl")  # an analyst writes no answers
    assert httpx.post(api, json=good, headers=lotte).status_code == 403
    assert httpx.get(f"{api}/12345", headers=rita).status_code == 404


def test_the_portal_refuses_a_bad_fixed_answer_at_its_fields_and_keeps_what_was_typed(
    site: str, services: Services
) -> None:
    from tests.test_portal import CSRF, signed_in

    with signed_in(site, "rita@meppel.nl") as rita:
        new = rita.get("/beheer/gemeenten/meppel/vaste-antwoorden/nieuw")
        assert new.status_code == 200 and 'value="Rita"' in new.text
        token = CSRF.search(new.text).group(1)  # type: ignore[union-attr]
        form = {
            "csrf_token": token,
            "vraag": "Wat kost een paspoort?",
            "varianten": "",
            "antwoord": "",
            "bronnen": "https://www.hoorn.nl/paspoort",
            "eigenaar": "Team Burgerzaken",
            "vervalt": "2020-01-01",
            "status": "live",
            "drempel": "0,95",
        }
        refused = rita.post("/beheer/gemeenten/meppel/vaste-antwoorden", data=form)
        assert refused.status_code == 400 and 'id="antwoord-fout"' in refused.text
        assert 'value="Wat kost een paspoort?"' in refused.text  # nothing typed is lost
        form["antwoord"] = ANSWER
        past = rita.post("/beheer/gemeenten/meppel/vaste-antwoorden", data=form)
        assert past.status_code == 400 and 'id="vervalt-fout"' in past.text
        form["vervalt"] = (today() + timedelta(days=10)).isoformat()
        elsewhere = rita.post("/beheer/gemeenten/meppel/vaste-antwoorden", data=form)
        assert elsewhere.status_code == 400 and 'id="bronnen-fout"' in elsewhere.text
        form["bronnen"] = PAGE
        saved = rita.post("/beheer/gemeenten/meppel/vaste-antwoorden", data=form)
        assert saved.status_code == 303
        assert "Het vaste antwoord is opgeslagen." in rita.get(saved.headers["location"]).text
        assert "in gebruik" in rita.get("/beheer/gemeenten/meppel/vaste-antwoorden").text
        removed = rita.post(
            saved.headers["location"].split("?")[0] + "/verwijderen", data={"csrf_token": token}
        )
        assert removed.status_code == 303 and "verwijderd" in rita.get(removed.headers["location"]).text
    with signed_in(site, "lotte@meppel.nl") as lotte:
        assert lotte.get("/beheer/gemeenten/meppel/vaste-antwoorden").status_code == 403
