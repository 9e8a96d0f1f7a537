"""Helpers for the chat tests: a tenant with content, sessions, WebSocket turns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from tests.test_ingest_and_search import write_site
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import ContactRoutes, TenantCreate
from virtuele_assistent.tenants.service import create_tenant, get_profile

ORIGIN = "https://www.meppel.nl"


def setup_tenant(services: Services, tmp_path: Path, **contact: Any) -> int:
    create_tenant(
        services.db,
        TenantCreate(
            slug="meppel",
            name="Gemeente Meppel",
            contact=ContactRoutes(
                phone="14 0522",
                opening_hours={d: "00:00-23:59" for d in ("ma", "di", "wo", "do", "vr", "za", "zo")},  # type: ignore[arg-type]
                **contact,
            ),
            allowed_origins=[ORIGIN],
        ),
    )
    site = write_site(
        tmp_path / "site",
        "Meppel",
        {
            "paspoort.html": (
                "Paspoort aanvragen",
                "<p>Een paspoort voor volwassenen kost € 84,50. Neem een recente pasfoto mee.</p>",
            ),
            "grofvuil.html": (
                "Grofvuil",
                "<p>Grofvuil wordt op afspraak opgehaald. Ophalen kost € 25,00 per keer.</p>",
            ),
        },
    )
    tenant_id = get_profile(services.db, "meppel").id
    services.indexer.ingest_path(tenant_id, site, "https://www.meppel.nl/")
    return tenant_id


def new_session(base: str, resume_token: str | None = None, origin: str | None = ORIGIN) -> dict[str, Any]:
    """A new session, or with ``resume_token`` (an earlier session's token) that conversation again."""
    headers = {"Origin": origin} if origin else {}
    body = {"resume_token": resume_token} if resume_token else None
    response = httpx.post(f"{base}/api/v1/tenants/meppel/sessions", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def ws_url(base: str, slug: str = "meppel", path: str = "ws") -> str:
    return base.replace("http://", "ws://") + f"/api/v1/tenants/{slug}/{path}"


def open_ws(
    base: str, token: str, origin: str | None = ORIGIN, slug: str = "meppel", path: str = "ws"
) -> ClientConnection:
    """A socket as the widget opens it: the token in the handshake's subprotocols, not in the URL."""
    return connect(
        ws_url(base, slug, path),
        origin=origin,  # type: ignore[arg-type]
        open_timeout=10,
        subprotocols=["va.v1", f"va.token.{token}"],  # type: ignore[list-item]
    )


def receive(ws: ClientConnection, timeout: float = 30) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=timeout))


def ask(ws: ClientConnection, text: str) -> list[dict[str, Any]]:
    """Send a question; return every frame up to and including ``done`` (or an error)."""
    ws.send(json.dumps({"type": "question", "text": text}))
    frames = []
    while True:
        frame = receive(ws)
        frames.append(frame)
        if frame["type"] in ("done", "error"):
            # a handover frame may follow a done
            return frames
