"""Chat over real WebSocket, SSE and HTTP against a running server: sessions, resume, streaming."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.chat_helpers import ORIGIN, ask, new_session, open_ws, receive, setup_tenant
from tests.conftest import LiveServer
from virtuele_assistent.services import Services


def test_websocket_streams_answer_then_sources_then_done_and_resumes(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    setup_tenant(services, tmp_path)
    session = new_session(live_server.url)
    assert session["expires_in"] == services.settings.session_token_ttl_s and not session["resumed"]
    with open_ws(live_server.url, session["token"]) as ws:
        ws.send(json.dumps({"type": "hello"}))
        ready = receive(ws)
        assert ready["type"] == "ready" and ready["resumed"] is False and ready["history"] == []
        assert "digitale assistent (AI)" in ready["disclosure"]
        frames = ask(ws, "Wat kost een paspoort?")
        kinds = [f["type"] for f in frames]
        assert kinds[0] == "ready" and "token" in kinds, kinds  # first question: disclosure
        assert kinds.index("sources") > max(i for i, k in enumerate(kinds) if k == "token")
        assert kinds[-1] == "done"
        done = frames[-1]
        streamed = "".join(f["text"] for f in frames if f["type"] == "token")
        assert "84,50" in done["text"] and streamed.strip() == done["text"].strip()
        assert done["language"] == "nl" and done["declined"] is False
        sources = next(f for f in frames if f["type"] == "sources")
        assert sources["sources"][0]["url"] == "https://www.meppel.nl/paspoort.html"
        assert len({f["message_id"] for f in frames if "message_id" in f}) == 1
        ws.send(json.dumps({"type": "ping"}))
        assert receive(ws) == {"type": "pong"}

    # A reconnecting client resumes: a new token for the same conversation, history included.
    again = new_session(live_server.url, session["conversation_id"])
    assert again["resumed"] is True and again["conversation_id"] == session["conversation_id"]
    with open_ws(live_server.url, again["token"]) as ws:
        ws.send(json.dumps({"type": "hello", "conversation_id": session["conversation_id"]}))
        ready = receive(ws)
        assert ready["resumed"] is True
        assert [h["role"] for h in ready["history"]] == ["resident", "assistant"]
        assert ready["history"][1]["message_id"] == done["message_id"]
        follow = ask(ws, "Hoe laat wordt grofvuil opgehaald?")
        assert [f["type"] for f in follow][0] == "token"  # no second disclosure


def test_sse_sends_the_same_events(live_server: LiveServer, services: Services, tmp_path: Path) -> None:
    setup_tenant(services, tmp_path)
    session = new_session(live_server.url)
    headers = {"Authorization": f"Bearer {session['token']}", "Origin": ORIGIN}
    events = []
    with httpx.stream(
        "POST",
        f"{live_server.url}/api/v1/tenants/meppel/chat/stream",
        json={"question": "Wat kost grofvuil ophalen?"},
        headers=headers,
        timeout=30,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["access-control-allow-origin"] == ORIGIN
        event = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((event, json.loads(line.split(":", 1)[1])))
    kinds = [e for e, _ in events]
    assert kinds[0] == "ready" and kinds[-1] == "done" and "token" in kinds and "sources" in kinds
    done = events[-1][1]
    assert "25,00" in done["text"] and done["type"] == "done"
    # without a token: refused
    refused = httpx.post(
        f"{live_server.url}/api/v1/tenants/meppel/chat/stream",
        json={"question": "Hoi"},
        headers={"Origin": ORIGIN},
    )
    assert refused.status_code == 401 and "sessietoken" in refused.json()["detail"]


def test_sessions_only_for_allowed_origins_and_cors(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    setup_tenant(services, tmp_path)
    url = f"{live_server.url}/api/v1/tenants/meppel/sessions"
    denied = httpx.post(url, headers={"Origin": "https://evil.example"})
    assert denied.status_code == 403 and "niet gebruiken" in denied.json()["detail"]
    assert "access-control-allow-origin" not in denied.headers
    assert httpx.post(url).status_code == 200  # server-side client without Origin
    preflight = httpx.options(url, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == ORIGIN
    bad_preflight = httpx.options(
        url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert bad_preflight.status_code == 403
    # the WebSocket checks Origin too (browsers do not apply CORS to WebSockets)
    token = new_session(live_server.url)["token"]
    with open_ws(live_server.url, token, origin="https://evil.example") as ws:
        frame = receive(ws)
        assert frame["type"] == "error" and frame["code"] == "unauthorized"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


def test_plain_json_needs_a_token_from_browsers(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    setup_tenant(services, tmp_path)
    url = f"{live_server.url}/api/v1/tenants/meppel/chat"
    browser = httpx.post(url, json={"question": "Wat kost een paspoort?"}, headers={"Origin": ORIGIN})
    assert browser.status_code == 401
    session = new_session(live_server.url)
    headers = {"Origin": ORIGIN, "Authorization": f"Bearer {session['token']}"}
    first = httpx.post(url, json={"question": "Wat kost een paspoort?"}, headers=headers, timeout=30)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["conversation_id"] == session["conversation_id"] and body["disclosure"]
    second = httpx.post(url, json={"question": "En grofvuil?"}, headers=headers, timeout=30).json()
    assert second["disclosure"] is None and second["conversation_id"] == session["conversation_id"]
    other = httpx.post(
        url, json={"question": "Hoi", "conversation_id": "f" * 32}, headers=headers, timeout=30
    )
    assert other.status_code == 403
