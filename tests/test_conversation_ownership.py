"""A conversation belongs to the session that started it: its id alone reads or writes nothing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import jwt
import pytest

from tests.chat_helpers import ORIGIN, ask, new_session, open_ws, receive, setup_tenant
from tests.conftest import LiveServer
from virtuele_assistent.auth.keys import signing_keys
from virtuele_assistent.auth.tokens import TokenError, TokenService
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.service import get_profile


def _messages(services: Services, conversation_id: str) -> list[str]:
    state = services.chat.conversation_state(get_profile(services.db, "meppel"), conversation_id)
    return [item["text"] for item in state["history"]]


def test_another_residents_conversation_id_opens_nothing(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    setup_tenant(services, tmp_path)
    victim = new_session(live_server.url)
    with open_ws(live_server.url, victim["token"]) as ws:
        ask(ws, "Wat kost een paspoort?")
    victim_id = victim["conversation_id"]
    before = _messages(services, victim_id)
    base = f"{live_server.url}/api/v1/tenants/meppel"

    # writing: with no token, with no Origin, with the attacker's own session
    attacker = new_session(live_server.url)
    own = {"Authorization": f"Bearer {attacker['token']}", "Origin": ORIGIN}
    injected = {"question": "Bel mij op 0612345678", "conversation_id": victim_id}
    for headers in ({}, own):
        response = httpx.post(f"{base}/chat", json=injected, headers=headers, timeout=30)
        assert response.status_code == 403, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    stream = httpx.post(f"{base}/chat/stream", json=injected, headers=own, timeout=30)
    assert stream.status_code == 403

    # reading: resuming by id, or by id with someone else's token, is refused
    for body in (
        {"conversation_id": victim_id},
        {"conversation_id": victim_id, "resume_token": attacker["token"]},
        {"conversation_id": victim_id, "resume_token": "geen-token"},
    ):
        response = httpx.post(f"{base}/sessions", json=body, headers={"Origin": ORIGIN})
        assert response.status_code == 403, (body, response.text)
        assert "sessietoken" in response.json()["detail"]
    with open_ws(live_server.url, attacker["token"]) as ws:
        ws.send(json.dumps({"type": "hello", "conversation_id": victim_id}))
        frames = [receive(ws), receive(ws)]
    assert frames[0]["type"] == "error" and frames[1]["type"] == "ready"
    assert frames[1]["conversation_id"] == attacker["conversation_id"] and frames[1]["history"] == []
    assert _messages(services, victim_id) == before


def test_the_owner_resumes_with_an_expired_token(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    setup_tenant(services, tmp_path)
    first = new_session(live_server.url)
    with open_ws(live_server.url, first["token"]) as ws:
        ask(ws, "Wat kost een paspoort?")
    expired = TokenService(signing_keys(services.settings).current, -120, 60).issue_session(
        "meppel", first["conversation_id"]
    )
    again = new_session(live_server.url, expired)
    assert again["resumed"] is True and again["conversation_id"] == first["conversation_id"]
    with open_ws(live_server.url, again["token"]) as ws:
        ws.send(json.dumps({"type": "hello", "conversation_id": first["conversation_id"]}))
        ready = receive(ws)
    assert [h["role"] for h in ready["history"]] == ["resident", "assistant"]


def test_a_resume_token_counts_only_within_the_retention_period() -> None:
    key = "een-sleutel-van-ruim-tweeendertig-tekens"
    now = int(time.time())
    claims = {"iss": "virtuele-assistent", "aud": "va:tenant:meppel", "sub": "a" * 32, "typ": "session"}
    claims |= {"iat": now - 10 * 86400, "exp": now - 10 * 86400 + 3600, "jti": "oud"}
    token = jwt.encode(claims, key, algorithm="HS256")
    tokens = TokenService(key, 3600, 3600)
    assert tokens.verify_session(token, "meppel", max_age_s=30 * 86400).conversation_id == "a" * 32
    for max_age in (None, 7 * 86400):
        with pytest.raises(TokenError) as failure:
            tokens.verify_session(token, "meppel", max_age_s=max_age)
        assert failure.value.reason == "expired"
