"""Chat over real WebSocket, SSE and HTTP against a running server: sessions, resume, streaming."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.chat_helpers import ORIGIN, ask, new_session, open_ws, receive, setup_tenant
from tests.conftest import LiveServer
from virtuele_assistent.answering.service import Answer
from virtuele_assistent.conversations.service import ChatService
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.service import get_profile


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
    again = new_session(live_server.url, session["token"])
    assert again["resumed"] is True and again["conversation_id"] == session["conversation_id"]
    with open_ws(live_server.url, again["token"]) as ws:
        ws.send(json.dumps({"type": "hello", "conversation_id": session["conversation_id"]}))
        ready = receive(ws)
        assert ready["resumed"] is True
        assert [h["role"] for h in ready["history"]] == ["resident", "assistant"]
        assert ready["history"][1]["message_id"] == done["message_id"]
        follow = ask(ws, "Hoe laat wordt grofvuil opgehaald?")
        assert [f["type"] for f in follow][0] == "token"  # no second disclosure


def test_a_dutch_answer_to_an_english_question_says_which_part_is_in_which_language(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    setup_tenant(services, tmp_path)
    session = new_session(live_server.url)
    with open_ws(live_server.url, session["token"]) as ws:
        ws.send(json.dumps({"type": "hello"}))
        receive(ws)
        done = ask(ws, "How much does a passport cost for an adult?")[-1]
        assert done["language"] == "en" and done["answer_language"] == "nl"
        assert done["note"].startswith("I can only answer in Dutch") and done["text"].startswith(done["note"])
        assert "84,50" in done["text"]
        dutch = ask(ws, "Wat kost een paspoort?")[-1]
        assert dutch["language"] == dutch["answer_language"] == "nl" and dutch["note"] is None
    # The JSON API says the same.
    response = httpx.post(
        f"{live_server.url}/api/v1/tenants/meppel/chat",
        json={"question": "How much does a passport cost for an adult?"},
        headers={"Origin": ORIGIN, "Authorization": f"Bearer {session['token']}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["language"] == "en" and body["answer_language"] == "nl"
    assert body["answer"].startswith(body["note"]) and "Dutch" in body["note"]


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


class PiecesAnswers:
    """Stands in for the answer service: a fixed text in many small pieces at a model's pace, on the
    event loop (``astream``) or, without it, from a worker thread (``stream``)."""

    def __init__(self, text: str, delay_s: float) -> None:
        self.pieces = re.findall(r"\S+\s*", text)
        self.text = text
        self.delay_s = delay_s

    def stream(self, tenant: Any, question: str, history: Any = (), language: Any = None) -> Iterator[Any]:
        for piece in self.pieces:
            time.sleep(self.delay_s)
            yield piece
        yield Answer(self.text, [], False)


class LoopPiecesAnswers(PiecesAnswers):
    async def astream(
        self, tenant: Any, question: str, history: Any = (), language: Any = None
    ) -> AsyncIterator[Any]:
        for piece in self.pieces:
            await asyncio.sleep(self.delay_s)
            yield piece
        yield Answer(self.text, [], False)


@pytest.mark.parametrize("answers_class", [PiecesAnswers, LoopPiecesAnswers], ids=["thread", "loop"])
def test_many_small_pieces_stream_as_fewer_frames_with_the_same_text(
    services: Services, tmp_path: Path, answers_class: type[PiecesAnswers]
) -> None:
    setup_tenant(services, tmp_path)
    tenant = get_profile(services.db, "meppel")
    text = "Een paspoort voor volwassenen kost € 84,50 en is tien jaar geldig. " * 4
    answers = answers_class(text.strip(), delay_s=0.004)
    chat = ChatService(services.db, answers, services.settings)  # type: ignore[arg-type]

    async def turn() -> list[dict[str, Any]]:
        return [f async for f in chat.turn(tenant, "Wat kost een paspoort?", None, channel="widget")]

    frames = asyncio.run(turn())
    tokens = [f["text"] for f in frames if f["type"] == "token"]
    done = next(f for f in frames if f["type"] == "done")
    assert "".join(tokens) == done["text"] == text.strip()
    assert 1 < len(tokens) < len(answers.pieces) / 2, len(tokens)  # streamed, in larger frames
    state = chat.conversation_state(tenant, frames[0]["conversation_id"])
    assert [h["text"] for h in state["history"]] == ["Wat kost een paspoort?", text.strip()]
