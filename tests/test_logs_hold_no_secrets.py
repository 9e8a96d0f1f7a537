"""What a whole resident and staff session writes to the logs: no token, no conversation id."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
from pathlib import Path

import httpx

from tests.chat_helpers import ORIGIN, ask, new_session, open_ws, receive, setup_tenant
from tests.conftest import LiveServer
from virtuele_assistent.auth.users import create_user
from virtuele_assistent.observability.logging import configure_logging
from virtuele_assistent.observability.secrets import log_digest, scrub_text
from virtuele_assistent.services import Services

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+")


def test_scrubbing_removes_credentials_from_any_text() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    line = f'127.0.0.1:5 - "WebSocket /api/v1/tenants/x/ws?token={token}&lang=nl" [accepted]'
    assert scrub_text(line) == line.replace(token, "[token]")
    assert scrub_text(f"Authorization: Bearer {token}") == "Authorization: Bearer [token]"
    assert scrub_text(f"resume_token={token}") == "resume_token=[token]"
    channel = "conversation:" + "ab" * 16
    assert scrub_text(channel) == "conversation:" + log_digest("ab" * 16)
    assert scrub_text(f"/api/v1/tenants/x/conversations/{'ab' * 16}/export").count("ab" * 16) == 0
    assert "ab" * 16 not in scrub_text(json.dumps({"type": "hello", "conversation_id": "ab" * 16}))
    assert "ab" * 16 not in scrub_text(str({"conversation_id": "ab" * 16}))
    assert scrub_text("Wat kost een paspoort?") == "Wat kost een paspoort?"


def test_a_full_session_leaves_no_token_or_conversation_id_in_the_logs(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging(services.settings.model_copy(update={"log_level": "DEBUG"}))
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(root.handlers[0].formatter)
    root.addHandler(handler)
    try:
        secrets, conversations = _resident_and_staff_session(live_server, services, tmp_path)
    finally:
        root.handlers[:], _ = saved[0], root.setLevel(saved[1])
    text = captured.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any("WebSocket" in str(line.get("event")) for line in lines), "the socket lines were logged"
    assert any(line.get("event") == "ws.token_in_query" for line in lines), "the query form is deprecated"
    assert any(line.get("conversation_id") == log_digest(conversations[0]) for line in lines)
    assert not JWT.search(text), JWT.search(text)
    for secret in secrets:
        assert secret not in text
    for conversation_id in conversations:
        assert conversation_id not in text


def _resident_and_staff_session(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> tuple[list[str], list[str]]:
    setup_tenant(services, tmp_path)
    base = f"{live_server.url}/api/v1/tenants/meppel"
    session = new_session(live_server.url)
    with open_ws(live_server.url, session["token"]) as ws:
        ws.send(json.dumps({"type": "hello", "conversation_id": session["conversation_id"]}))
        receive(ws)
        ask(ws, "Wat kost een paspoort?")
    again = new_session(live_server.url, session["token"])
    headers = {"Authorization": f"Bearer {again['token']}", "Origin": ORIGIN}
    httpx.post(f"{base}/chat/stream", json={"question": "En een id-kaart?"}, headers=headers, timeout=30)
    plain = httpx.post(f"{base}/chat", json={"question": "Wat kost een paspoort?"}, timeout=30).json()
    create_user(services.db, "kcc@meppel.nl", "een-lang-wachtwoord-123", roles=[("kcc", "meppel")])
    login = httpx.post(
        f"{live_server.url}/api/v1/auth/token",
        json={"email": "kcc@meppel.nl", "password": "een-lang-wachtwoord-123"},
    ).json()
    staff = login["access_token"]
    with open_ws(live_server.url, staff, origin=None, path="staff/ws") as ws:  # the token in the handshake
        assert ws.subprotocol == "va.v1" and receive(ws)["type"] != "error"
    # the deprecated query form, in every spelling a URL allows: none may reach a log line
    encoded = "".join(f"%{ord(c):02X}" for c in staff)
    double = encoded.replace("%", "%25")
    spellings = [
        f"token={staff}",
        f"%74oken={encoded}",
        f"token={double}",
        f"ToKeN={staff}",
        f"tok%45n=%65yJ{staff[3:]}",
        f"%2574oken={double}",
    ]
    from websockets.sync.client import connect

    for query in spellings:
        with (
            contextlib.suppress(Exception),
            connect(base.replace("http://", "ws://") + f"/staff/ws?{query}") as ws,
        ):
            receive(ws)
    httpx.delete(f"{base}/conversations/{again['conversation_id']}", headers=headers)
    secrets = [session["token"], again["token"], plain["session_token"], staff, encoded, double, staff[3:]]
    return secrets, [session["conversation_id"], plain["conversation_id"]]
