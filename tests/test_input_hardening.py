"""Input that used to reach the database or the parser raw: control characters, ids out of range,
null where a value must stay, deep JSON; and a 500 that still carries its request id."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.chat_helpers import new_session, open_ws, receive, setup_tenant
from tests.conftest import LiveServer
from virtuele_assistent.conversations.privacy import redact
from virtuele_assistent.services import Services
from virtuele_assistent.validation import MAX_JSON_DEPTH, UnsafeInput, parse_json

ADMIN = {"Authorization": "Bearer test-admin-token-123"}


def test_control_characters_ids_and_null_get_a_dutch_422(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    setup_tenant(services, tmp_path)
    base = f"{live_server.url}/api/v1/tenants/meppel"
    cases = [
        httpx.post(f"{base}/chat", json={"question": "Wat kost een paspoort?\u0000"}, timeout=30),
        httpx.post(  # a lone surrogate, as a JSON escape: no character, no valid UTF-8
            f"{base}/chat",
            content=b'{"question": "Hoi \\ud800"}',
            headers={"content-type": "application/json"},
            timeout=30,
        ),
        httpx.get(f"{base}/jobs?status=%00", headers=ADMIN),
        httpx.get(f"{base}/sources/99999999999999999999", headers=ADMIN),
        httpx.get(f"{base}/sources/0", headers=ADMIN),
        httpx.get(f"{base}/jobs/niet-hex", headers=ADMIN),
        httpx.get(f"{base}/jobs/{'a' * 32}/pages?offset=99999999999", headers=ADMIN),
        httpx.patch(base, json={"name": None}, headers=ADMIN),
        httpx.patch(base, json={"contact": None}, headers=ADMIN),
        httpx.patch(base, json={"allowed_origins": ["javascript:alert(1)"]}, headers=ADMIN),
        httpx.post(
            f"{base}/chat",
            content=("[" * 500 + "]" * 500).encode(),
            headers={"content-type": "application/json"},
        ),
    ]
    for response in cases:
        assert response.status_code == 422, (response.request.url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["x-request-id"] and response.json()["detail"]
    profile = httpx.get(base).json()
    assert profile["name"] and profile["contact"]  # nothing was nulled
    assert httpx.get(f"{base}/sources/2147483647", headers=ADMIN).status_code == 404


def test_websocket_frames_with_control_characters_or_deep_nesting_get_an_error_frame(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    setup_tenant(services, tmp_path)
    session = new_session(live_server.url)
    with open_ws(live_server.url, session["token"]) as ws:
        ws.send(json.dumps({"type": "question", "text": "paspoort\u0000"}))
        assert receive(ws)["code"] == "invalid_message"
        ws.send("[" * 3000 + "]" * 3000)
        frame = receive(ws)
        assert frame["code"] == "invalid_message" and "genest" in frame["message"]
        ws.send(json.dumps({"type": "ping"}))
        assert receive(ws) == {"type": "pong"}  # the connection survives


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1])
def test_json_depth_limit(depth: int) -> None:
    text = "[" * depth + "]" * depth
    if depth > MAX_JSON_DEPTH:
        with pytest.raises(UnsafeInput):
            parse_json(text)
    else:
        assert parse_json(text) is not None


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parsing_and_redaction_never_raise_anything_unexpected(text: str) -> None:
    with contextlib.suppress(ValueError):  # UnsafeInput is a ValueError too: a refusal, not a crash
        parse_json(text)
    assert isinstance(redact(text).text, str)


def test_an_unexpected_error_is_problem_json_with_its_request_id(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    setup_tenant(services, tmp_path)

    async def broken(*_checks: object) -> None:
        raise RuntimeError("onverwacht")

    services.limiter.check = broken  # type: ignore[method-assign,assignment]
    response = httpx.post(
        f"{live_server.url}/api/v1/tenants/meppel/sessions", headers={"X-Request-ID": "verzoek-123"}
    )
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["x-request-id"] == "verzoek-123" == response.json()["request_id"]
    assert "onverwacht" not in response.text and "Traceback" not in response.text
