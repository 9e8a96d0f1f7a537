"""Tokens, personal data and bad input over the real transports."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import httpx
import jwt
import pytest
import sqlalchemy as sa
from websockets.exceptions import ConnectionClosed

from tests.chat_helpers import ORIGIN, ask, new_session, open_ws, receive, setup_tenant
from tests.conftest import LiveServer
from virtuele_assistent.auth.keys import signing_keys
from virtuele_assistent.auth.tokens import TokenError, TokenService
from virtuele_assistent.services import Services
from virtuele_assistent.settings import PUBLISHED_SECRETS

RAW_VALUES = [
    "123456782",
    "NL02ABNA0123456789",
    "06-12345678",
    "j.devries@example.com",
    "7941 AB",
    "Jan de Vries",
]
PII_QUESTION = (
    "Mijn BSN is 123456782 en mijn IBAN NL02ABNA0123456789. Bel me op 06-12345678 of mail "
    "j.devries@example.com, ik ben Jan de Vries en woon op 7941 AB 12. Wat kost een paspoort?"
)


def _forged(settings_secret: str, **claims: object) -> str:
    now = int(time.time())
    payload = {
        "iss": "virtuele-assistent",
        "aud": "va:tenant:meppel",
        "sub": "a" * 32,
        "typ": "session",
        "iat": now,
        "exp": now + 600,
        "jti": "x",
    }
    payload.update(claims)
    return jwt.encode(payload, settings_secret, algorithm="HS256")


def test_token_service_rejects_none_expired_wrong_tenant_and_bad_signature() -> None:
    tokens = TokenService("een-geheim-van-minstens-32-tekens!!", 60, 60)
    good = tokens.issue_session("meppel", "a" * 32)
    assert tokens.verify_session(good, "meppel").conversation_id == "a" * 32
    unsigned = jwt.encode({"sub": "a" * 32, "aud": "va:tenant:meppel"}, None, algorithm="none")  # type: ignore[arg-type]
    cases = {
        "invalid": unsigned,
        "expired": _forged("een-geheim-van-minstens-32-tekens!!", exp=int(time.time()) - 60),
        "wrong_audience": good,
        "bad_signature": _forged("een-ander-geheim-van-32-tekens!!!!"),
    }
    for reason, token in cases.items():
        with pytest.raises(TokenError) as failure:
            tokens.verify_session(token, "assen" if reason == "wrong_audience" else "meppel")
        assert failure.value.reason == reason
    staff = tokens.issue_staff(7)
    with pytest.raises(TokenError):
        tokens.verify_session(staff, "meppel")  # a staff token is no session token
    assert tokens.verify_staff(staff).user_id == 7


def test_bad_tokens_are_refused_over_http_and_websocket(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    setup_tenant(services, tmp_path)
    secret = signing_keys(services.settings).current
    unsigned = jwt.encode({"sub": "a" * 32, "aud": "va:tenant:meppel"}, None, algorithm="none")  # type: ignore[arg-type]
    other_tenant = services.tokens.issue_session("assen", "a" * 32)
    cases = [
        (unsigned, 401, 4401),
        (_forged(secret, exp=int(time.time()) - 60), 401, 4401),
        (_forged("een-ander-geheim-van-32-tekens!!!!"), 401, 4401),
        (_forged(sorted(PUBLISHED_SECRETS)[0]), 401, 4401),  # the key earlier releases shipped
        (other_tenant, 403, 4403),
        ("kapot", 401, 4401),
    ]
    for token, status, close_code in cases:
        response = httpx.post(
            f"{live_server.url}/api/v1/tenants/meppel/chat/stream",
            json={"question": "Wat kost een paspoort?"},
            headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
        )
        assert response.status_code == status, (token, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        with open_ws(live_server.url, token) as ws:
            assert receive(ws)["code"] == "unauthorized"
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == close_code


def test_personal_data_never_reaches_database_or_logs(
    live_server: LiveServer, services: Services, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from virtuele_assistent.observability.logging import configure_logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging(services.settings)
    try:
        _pii_round_trip(live_server, services, tmp_path, capfd)
    finally:
        root.handlers[:], _ = saved[0], root.setLevel(saved[1])


def _pii_round_trip(
    live_server: LiveServer, services: Services, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    setup_tenant(services, tmp_path)
    session = new_session(live_server.url)
    with open_ws(live_server.url, session["token"]) as ws:
        frames = ask(ws, PII_QUESTION)
        done = frames[-1]
        assert done["type"] == "done"
        ws.send(
            json.dumps(
                {
                    "type": "feedback",
                    "message_id": done["message_id"],
                    "rating": "down",
                    "comment": "Bel me op 06-12345678",
                }
            )
        )
        assert receive(ws) == {"type": "feedback_ok", "message_id": done["message_id"]}
    logging.getLogger("test").info("vraag %s", PII_QUESTION)  # even a careless log call is redacted
    # the same through plain JSON
    httpx.post(f"{live_server.url}/api/v1/tenants/meppel/chat", json={"question": PII_QUESTION}, timeout=30)
    with services.db.engine.connect() as connection:
        dump = " ".join(
            str(row)
            for table in ("messages", "conversations", "feedback")
            for row in connection.execute(sa.text(f"SELECT * FROM {table}"))
        )
    assert "[BSN]" in dump and "[IBAN]" in dump and "[TELEFOONNUMMER]" in dump
    logs = capfd.readouterr()
    output = logs.out + logs.err
    assert "chat.question" in output
    for raw in RAW_VALUES:
        assert raw not in dump, raw
        assert raw not in output, raw
        assert raw.replace(" ", "") not in done["text"]


def test_bad_frames_get_typed_errors_and_the_connection_stays_usable(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    setup_tenant(services, tmp_path)
    session = new_session(live_server.url)
    limit = services.settings.ws_max_message_bytes
    with open_ws(live_server.url, session["token"]) as ws:
        cases = [
            (b"\x00\x01binair", "invalid_message"),
            ("{kapot", "invalid_message"),
            ("[1, 2]", "invalid_message"),
            (json.dumps({"type": "dans"}), "unknown_type"),
            (json.dumps({"type": "question"}), "invalid_message"),
            (json.dumps({"type": "question", "text": "x" * 3000}), "too_large"),
            (json.dumps({"type": "question", "text": "x" * (limit + 10)}), "too_large"),
            (json.dumps({"type": "feedback", "message_id": "0" * 32, "rating": "meh"}), "invalid_message"),
            (json.dumps({"type": "score", "score": 11}), "invalid_message"),
        ]
        for frame, code in cases:
            ws.send(frame)
            reply = receive(ws)
            assert reply["type"] == "error" and reply["code"] == code, (frame[:40], reply)
            assert reply["message"]
        ws.send(json.dumps({"type": "ping"}))
        assert receive(ws) == {"type": "pong"}
        assert ask(ws, "Wat kost een paspoort?")[-1]["type"] == "done"

    # invalid UTF-8 in a text frame: the protocol layer closes with 1007, the server lives on
    from websockets.frames import Frame, Opcode

    with open_ws(live_server.url, session["token"]) as ws:
        with ws.protocol_mutex:
            ws.protocol.send_frame(Frame(Opcode.TEXT, b"\xff\xfe ongeldig"))
            ws.send_data()
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert (
            closed.value.sent is not None
            and closed.value.sent.code == 1007
            or (closed.value.rcvd is not None and closed.value.rcvd.code == 1007)
        )
    assert httpx.get(f"{live_server.url}/healthz").status_code == 200

    # a flood of garbage: errors first, then the server closes with 1008
    with open_ws(live_server.url, session["token"]) as ws:
        codes = []
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(200):
                ws.send("{kapot")
                codes.append(receive(ws, timeout=5)["code"])
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert "invalid_message" in codes or "rate_limited" in codes
    assert httpx.get(f"{live_server.url}/healthz").status_code == 200
