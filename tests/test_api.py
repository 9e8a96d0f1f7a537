"""The API over real HTTP against a running server."""

from pathlib import Path

import httpx

from tests.conftest import LiveServer
from tests.test_ingest_and_search import write_site
from virtuele_assistent.services import Services

ADMIN = {"Authorization": "Bearer test-admin-token-123"}


def _setup(live_server: LiveServer, services: Services, tmp_path: Path) -> None:
    response = httpx.post(
        f"{live_server.url}/api/v1/tenants",
        headers=ADMIN,
        json={"slug": "meppel", "name": "Gemeente Meppel", "contact": {"phone": "14 0522"}},
    )
    assert response.status_code == 201, response.text
    site = write_site(
        tmp_path / "site",
        "Meppel",
        {
            "paspoort.html": ("Paspoort aanvragen", "<p>Een paspoort voor volwassenen kost € 84,50.</p>"),
        },
    )
    from virtuele_assistent.tenants.service import get_profile

    services.indexer.ingest_path(get_profile(services.db, "meppel").id, site, "https://www.meppel.nl/")


def test_health_and_readiness(live_server: LiveServer, services: Services, tmp_path: Path) -> None:
    assert httpx.get(f"{live_server.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{live_server.url}/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "vector_store": "ok"}
    assert ready.headers["x-request-id"]
    assert ready.json()["tenants_without_content"] == []
    from virtuele_assistent.tenants.schemas import TenantCreate
    from virtuele_assistent.tenants.service import create_tenant

    create_tenant(services.db, TenantCreate(slug="dalfsen", name="Gemeente Dalfsen"))
    _setup(live_server, services, tmp_path)  # meppel, with a page
    ready = httpx.get(f"{live_server.url}/readyz").json()
    assert ready["status"] == "ready" and ready["tenants_without_content"] == ["dalfsen"]  # still ready


def test_chat_answers_with_source(live_server: LiveServer, services: Services, tmp_path: Path) -> None:
    _setup(live_server, services, tmp_path)
    response = httpx.post(
        f"{live_server.url}/api/v1/tenants/meppel/chat",
        json={"question": "Wat kost een paspoort?"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "€ 84,50" in body["answer"]
    assert body["sources"][0]["url"] == "https://www.meppel.nl/paspoort.html"
    follow = httpx.post(
        f"{live_server.url}/api/v1/tenants/meppel/chat",
        timeout=30,
        json={"question": "En hoe lang duurt het?"},
        headers={"Authorization": f"Bearer {body['session_token']}"},
    )
    assert follow.status_code == 200 and follow.json()["conversation_id"] == body["conversation_id"]
    assert follow.json()["session_token"] is None  # the caller already holds one


def test_bad_input_gets_dutch_problem_json(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    _setup(live_server, services, tmp_path)
    url = f"{live_server.url}/api/v1/tenants/meppel/chat"
    cases = [
        (
            httpx.post(f"{live_server.url}/api/v1/tenants/nergens/chat", json={"question": "Hoi"}),
            404,
            "bestaat niet",
        ),
        (
            httpx.post(url, content=b"{kapot", headers={"content-type": "application/json"}),
            422,
            "geen geldige JSON",
        ),
        (httpx.post(url, json={}), 422, "'question' is verplicht"),
        (httpx.post(url, json={"question": "x" * 2001}), 413, "te lang"),
        (httpx.post(url, json={"question": "   "}), 422, "leeg"),
        (httpx.post(url, json={"question": "Hoi", "conversation_id": "0" * 32}), 403, "sessietoken"),
        (
            httpx.post(url, content=b"x" * 70000, headers={"content-type": "application/json"}),
            413,
            "te groot",
        ),
        (
            httpx.post(f"{live_server.url}/api/v1/tenants", json={"slug": "x", "name": "X"}),
            401,
            "beheertoken",
        ),
        (
            httpx.post(
                f"{live_server.url}/api/v1/tenants", headers=ADMIN, json={"slug": "Fout!", "name": "X"}
            ),
            422,
            "'slug' bestaat uit kleine letters, cijfers en streepjes",  # the rule in words
        ),
        (httpx.get(f"{live_server.url}/api/v1/bestaat-niet"), 404, "bestaat niet"),
    ]
    for response, status, text in cases:
        assert response.status_code == status, (response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["status"] == status and text in body["detail"], body
        assert "Traceback" not in response.text


def test_database_down_gives_503_not_a_stack_trace(live_server: LiveServer, services: Services) -> None:
    from virtuele_assistent.storage.db import make_engine

    services.db.engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    services.db.sessions.configure(bind=services.db.engine)
    ready = httpx.get(f"{live_server.url}/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["database"] == "unavailable"
    chat = httpx.post(
        f"{live_server.url}/api/v1/tenants/meppel/chat", json={"question": "Wat kost een paspoort?"}
    )
    assert chat.status_code == 503
    assert "tijdelijk niet beschikbaar" in chat.json()["detail"]


def test_a_tenant_with_nothing_indexed_says_so_instead_of_declining(
    live_server: LiveServer, services: Services
) -> None:
    from virtuele_assistent.tenants.schemas import TenantCreate
    from virtuele_assistent.tenants.service import create_tenant

    create_tenant(services.db, TenantCreate(slug="dalfsen", name="Gemeente Dalfsen"))
    body = httpx.post(
        f"{live_server.url}/api/v1/tenants/dalfsen/chat",
        json={"question": "Wat kost een paspoort?"},
        timeout=30,
    ).json()
    assert body["declined"] is True
    assert body["answer"].startswith("De informatie van Gemeente Dalfsen wordt nog ingelezen"), body["answer"]
