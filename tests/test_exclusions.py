"""A page or one passage taken out of the answers and put back, over real HTTP on SQLite and
PostgreSQL: the resident's next answer no longer uses it, it stays indexed, it stays out when the
page is indexed again (changed or not), and every change is in the audit log."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.chat_helpers import ORIGIN, new_session, setup_tenant
from tests.conftest import LiveServer
from tests.test_ingest_and_search import write_site
from tests.test_portal import CSRF, PASSWORD, signed_in
from virtuele_assistent.api.app import create_app
from virtuele_assistent.audit.service import AuditFilter, list_entries
from virtuele_assistent.auth.users import create_user
from virtuele_assistent.services import Services

QUESTION = "Wat kost een paspoort?"


@pytest.fixture
def site(services: Services, tmp_path: Path) -> Any:
    tenant_id = setup_tenant(services, tmp_path)
    create_user(services.db, "rita@meppel.nl", PASSWORD, name="Rita", roles=[("redacteur", "meppel")])
    create_user(services.db, "lotte@meppel.nl", PASSWORD, name="Lotte", roles=[("analist", "meppel")])
    with LiveServer(create_app(services.settings, services)) as server:
        yield server.url, tenant_id


def _ask(base: str) -> dict[str, Any]:
    session = new_session(base)
    response = httpx.post(
        f"{base}/api/v1/tenants/meppel/chat",
        json={"question": QUESTION},
        headers={"Authorization": f"Bearer {session['token']}", "Origin": ORIGIN},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _cites_passport(answer: dict[str, Any]) -> bool:
    return any("paspoort" in source["url"] for source in answer["sources"])


def _bearer(services: Services, email: str) -> dict[str, str]:
    with services.db.session() as session:
        user_id = session.scalar(sa.text("SELECT id FROM users WHERE email = :e"), {"e": email})
    return {"Authorization": f"Bearer {services.tokens.issue_staff(user_id)}"}


def test_a_page_and_a_passage_taken_out_of_the_answers_and_put_back(
    site: Any, services: Services, tmp_path: Path
) -> None:
    base, tenant_id = site
    api = f"{base}/api/v1/tenants/meppel/documents"
    rita = _bearer(services, "rita@meppel.nl")
    assert _cites_passport(_ask(base))
    listed = httpx.get(api, params={"q": "paspoort"}, headers=rita).json()["items"]
    document_id = listed[0]["id"]
    assert listed[0]["excluded"] is False

    out = httpx.put(f"{api}/{document_id}/exclusion", json={"excluded": True}, headers=rita)
    assert out.status_code == 200 and out.json()["excluded"] is True
    assert not _cites_passport(_ask(base))
    assert httpx.get(api, params={"q": "paspoort"}, headers=rita).json()["items"][0]["excluded"] is True

    # indexed again, unchanged and changed: still out of the answers
    site_dir = tmp_path / "site"
    services.indexer.ingest_path(tenant_id, site_dir, "https://www.meppel.nl/")
    assert not _cites_passport(_ask(base))
    write_site(
        site_dir,
        "Meppel",
        {"paspoort.html": ("Paspoort aanvragen", "<p>Een paspoort voor volwassenen kost € 86,00.</p>")},
    )
    services.indexer.ingest_path(tenant_id, site_dir, "https://www.meppel.nl/")
    assert not _cites_passport(_ask(base))

    back = httpx.put(f"{api}/{document_id}/exclusion", json={"excluded": False}, headers=rita)
    assert back.status_code == 200 and back.json()["excluded"] is False
    answer = _ask(base)
    assert _cites_passport(answer) and "86,00" in answer["answer"]

    # one passage
    passage = f"{api}/{document_id}/passages/0/exclusion"
    taken = httpx.put(passage, json={"excluded": True}, headers=rita)
    assert taken.status_code == 200 and taken.json()["passages"][0]["excluded"] is True
    assert not _cites_passport(_ask(base))
    assert httpx.put(passage, json={"excluded": False}, headers=rita).status_code == 200
    assert _cites_passport(_ask(base))

    # refused
    missing = httpx.put(f"{api}/{document_id}/passages/99/exclusion", json={"excluded": True}, headers=rita)
    assert missing.status_code == 404 and "geen stuk 100" in missing.json()["detail"]
    assert (
        httpx.put(f"{api}/{document_id}/exclusion", json={"excluded": "ja"}, headers=rita).status_code == 422
    )
    assert httpx.put(f"{api}/999999/exclusion", json={"excluded": True}, headers=rita).status_code == 404
    lotte = _bearer(services, "lotte@meppel.nl")  # an analyst reads, and changes nothing
    assert (
        httpx.put(f"{api}/{document_id}/exclusion", json={"excluded": True}, headers=lotte).status_code == 403
    )
    actions = [e.action for e in list_entries(services.db, AuditFilter(tenants=("meppel",)))]
    assert actions[:4] == ["passage.include", "passage.exclude", "document.include", "document.exclude"]


def test_the_portal_takes_a_page_out_and_puts_it_back(site: Any, services: Services) -> None:
    base, _tenant_id = site
    with signed_in(base, "rita@meppel.nl") as rita:
        listing = rita.get("/beheer/gemeenten/meppel/documenten", params={"zoek": "paspoort"})
        link = re.search(r'href="(/beheer/gemeenten/meppel/documenten/\d+)"', listing.text)
        assert link is not None
        page = rita.get(link.group(1))
        assert "Pagina niet meer gebruiken in antwoorden" in page.text
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        done = rita.post(f"{link.group(1)}/antwoorden", data={"csrf_token": token, "gebruiken": "nee"})
        assert done.status_code == 303
        shown = rita.get(done.headers["location"])
        assert "gebruikt dit niet meer in antwoorden" in shown.text and "Pagina weer gebruiken" in shown.text
        assert not _cites_passport(_ask(base))
        assert "(staat uit)" in rita.get("/beheer/gemeenten/meppel/documenten").text
        again = rita.post(f"{link.group(1)}/antwoorden", data={"csrf_token": token, "gebruiken": "ja"})
        assert "weer in antwoorden" in rita.get(again.headers["location"]).text
        passage = rita.post(
            f"{link.group(1)}/antwoorden", data={"csrf_token": token, "gebruiken": "nee", "stuk": "0"}
        )
        assert passage.headers["location"].endswith("#stuk-0")
        assert "Stuk 1 weer gebruiken" in rita.get(passage.headers["location"]).text
    with signed_in(base, "lotte@meppel.nl") as lotte:
        assert "niet meer gebruiken" not in lotte.get(link.group(1)).text
