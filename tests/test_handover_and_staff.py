"""Staff login and roles, handover to a person (live queue, webhook), feedback, deletion, retention."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.chat_helpers import ORIGIN, ask, new_session, open_ws, receive, setup_tenant
from tests.conftest import LiveServer, free_port
from virtuele_assistent.auth.users import create_user
from virtuele_assistent.conversations import handover
from virtuele_assistent.conversations.retention import purge_expired
from virtuele_assistent.services import Services
from virtuele_assistent.storage.models import Conversation, Tenant, utcnow
from virtuele_assistent.storage.repositories import ConversationRepository, TenantRepository

PASSWORD = "een-lang-wachtwoord-123"


def _set_tenant(services: Services, **settings: Any) -> None:
    with services.db.session() as session:
        tenant = TenantRepository(session).get_by_slug("meppel")
        assert tenant is not None
        tenant.settings = {**(tenant.settings or {}), **settings}


def _login(base: str, email: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/auth/token", json={"email": email, "password": password})


def _staff_ws(base: str, token: str) -> Any:
    return open_ws(base, token, origin=None, path="staff/ws")


def _until(ws: Any, kind: str, status: str | None = None) -> dict[str, Any]:
    while True:
        frame = receive(ws, timeout=10)
        if frame["type"] == kind and (status is None or frame.get("status") == status):
            return frame


def test_staff_login_roles_and_export(live_server: LiveServer, services: Services, tmp_path: Path) -> None:
    setup_tenant(services, tmp_path)
    create_user(services.db, "kcc@meppel.nl", PASSWORD, name="Anna", roles=[("kcc", "meppel")])
    create_user(services.db, "privacy@meppel.nl", PASSWORD, roles=[("privacy", "meppel")])
    assert _login(live_server.url, "kcc@meppel.nl", "fout-wachtwoord-123").status_code == 401
    assert _login(live_server.url, "niemand@meppel.nl").status_code == 401
    kcc = _login(live_server.url, "kcc@meppel.nl").json()["access_token"]
    privacy = _login(live_server.url, "privacy@meppel.nl").json()["access_token"]
    me = httpx.get(f"{live_server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {kcc}"}).json()
    assert me["email"] == "kcc@meppel.nl" and me["roles"][0]["role"] == "kcc"

    session = new_session(live_server.url)
    with open_ws(live_server.url, session["token"]) as ws:
        ask(ws, "Wat kost een paspoort? Mijn BSN is 123456782.")
    url = f"{live_server.url}/api/v1/tenants/meppel/conversations/{session['conversation_id']}/export"
    assert httpx.get(url, headers={"Authorization": f"Bearer {kcc}"}).status_code == 403
    assert httpx.get(url, headers={"Authorization": f"Bearer {session['token']}"}).status_code == 401
    export = httpx.get(url, headers={"Authorization": f"Bearer {privacy}"})
    assert export.status_code == 200, export.text
    data = export.json()
    assert [m["role"] for m in data["messages"]] == ["resident", "assistant"]
    assert "[BSN]" in data["messages"][0]["text"] and "123456782" not in export.text
    admin = httpx.get(url, headers={"Authorization": "Bearer test-admin-token-123"})
    assert admin.status_code == 200
    # the resident deletes their own conversation; then it is gone
    delete = f"{live_server.url}/api/v1/tenants/meppel/conversations/{session['conversation_id']}"
    headers = {"Authorization": f"Bearer {session['token']}", "Origin": ORIGIN}
    other = f"{live_server.url}/api/v1/tenants/meppel/conversations/{'b' * 32}"
    assert httpx.delete(other, headers=headers).status_code == 403
    assert httpx.delete(delete, headers=headers).status_code == 204
    assert httpx.delete(delete, headers=headers).status_code == 404
    assert httpx.get(url, headers={"Authorization": f"Bearer {privacy}"}).status_code == 404


def test_handover_live_queue_staff_answers_in_the_conversation(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    setup_tenant(services, tmp_path, live_chat=True)
    create_user(services.db, "kcc@meppel.nl", PASSWORD, name="Anna", roles=[("kcc", "meppel")])
    staff_token = _login(live_server.url, "kcc@meppel.nl").json()["access_token"]
    session = new_session(live_server.url)
    with _staff_ws(live_server.url, staff_token) as staff, open_ws(live_server.url, session["token"]) as ws:
        assert receive(staff)["type"] == "queue"
        frames = ask(ws, "Ik wil graag een medewerker spreken")
        assert frames[-1]["handover_offered"] is True
        assert _until(ws, "handover")["status"] == "offered"
        ws.send(json.dumps({"type": "handover"}))
        assert _until(ws, "handover", "requested")
        assert _until(ws, "handover", "waiting")
        requested = _until(staff, "handover_requested")["request"]
        assert requested["conversation_id"] == session["conversation_id"]
        assert [m["role"] for m in requested["messages"]] == ["resident", "assistant"]
        staff.send(json.dumps({"type": "accept", "handover_id": requested["id"]}))
        accepted = _until(ws, "handover", "accepted")
        assert "Anna" in accepted["message"]
        staff.send(
            json.dumps(
                {
                    "type": "message",
                    "handover_id": requested["id"],
                    "text": "Goedemiddag, waarmee kan ik helpen?",
                }
            )
        )
        said = _until(ws, "staff_message")
        assert said["text"] == "Goedemiddag, waarmee kan ik helpen?" and said["name"] == "Anna"
        # the resident now writes to the person, not to the assistant
        ws.send(json.dumps({"type": "question", "text": "Mijn paspoort is kwijt, bel 06-12345678"}))
        assert _until(ws, "handover", "accepted")
        forwarded = _until(staff, "resident_message")
        assert "[TELEFOONNUMMER]" in forwarded["text"] and "06-12345678" not in forwarded["text"]
        staff.send(json.dumps({"type": "close", "handover_id": requested["id"]}))
        assert _until(ws, "handover", "closed")
        assert ask(ws, "Wat kost een paspoort?")[-1]["type"] == "done"  # the assistant is back
        # staff without a KCC role, or without a token, are refused
    create_user(services.db, "redactie@meppel.nl", PASSWORD, roles=[("redacteur", "meppel")])
    editor = _login(live_server.url, "redactie@meppel.nl").json()["access_token"]
    for token, code in ((editor, 4403), ("kapot", 4401)):
        with _staff_ws(live_server.url, token) as staff:
            assert receive(staff)["code"] == "unauthorized"
            with pytest.raises(ConnectionClosed):
                receive(staff, timeout=5)
            assert staff.close_code == code


def test_handover_unavailable_outside_hours_and_after_timeout(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    setup_tenant(services, tmp_path, live_chat=True)
    _set_tenant(services, handover_timeout_s=0.5)
    session = new_session(live_server.url)
    with open_ws(live_server.url, session["token"]) as ws:
        ask(ws, "Wat kost een paspoort?")
        ws.send(json.dumps({"type": "handover"}))
        # live chat is on, but nobody is on the live queue: said at once, not after a wait
        nobody = _until(ws, "handover")
        assert nobody["status"] == "unavailable" and "14 0522" in nobody["message"]
    create_user(services.db, "kcc@meppel.nl", PASSWORD, name="Anna", roles=[("kcc", "meppel")])
    staff_token = _login(live_server.url, "kcc@meppel.nl").json()["access_token"]
    session = new_session(live_server.url)
    with _staff_ws(live_server.url, staff_token) as staff, open_ws(live_server.url, session["token"]) as ws:
        assert receive(staff)["type"] == "queue"
        ask(ws, "Wat kost een paspoort?")
        ws.send(json.dumps({"type": "handover"}))
        assert _until(ws, "handover", "waiting")
        expired = _until(ws, "handover", "unavailable")  # nobody picked up within 0.5 s
        assert "14 0522" in expired["message"] and expired["contact"]["phone"] == "14 0522"
    with services.db.session() as session_:
        tenant = TenantRepository(session_).get_by_slug("meppel")
        assert tenant is not None
        tenant.contact = {**tenant.contact, "opening_hours": {"ma": "gesloten"}}
    session = new_session(live_server.url)
    with open_ws(live_server.url, session["token"]) as ws:
        ask(ws, "Wat kost een paspoort?")
        ws.send(json.dumps({"type": "handover"}))
        closed = _until(ws, "handover")
        assert closed["status"] == "unavailable" and "geen medewerker" in closed["message"]


def test_two_declines_offer_a_person(live_server: LiveServer, services: Services, tmp_path: Path) -> None:
    setup_tenant(services, tmp_path)
    session = new_session(live_server.url)
    with open_ws(live_server.url, session["token"]) as ws:
        first = ask(ws, "Hoe hoog is de Mount Everest precies?")[-1]
        assert first["declined"] is True and first["handover_offered"] is False
        second = ask(ws, "Wie won het WK voetbal in 1974?")[-1]
        assert second["declined"] is True and second["handover_offered"] is True
        assert _until(ws, "handover")["status"] in ("offered", "unavailable")


def test_small_talk_gets_a_friendly_reply_that_is_no_decline(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    setup_tenant(services, tmp_path)
    session = new_session(live_server.url)
    with open_ws(live_server.url, session["token"]) as ws:
        hello = ask(ws, "Hallo!")[-1]
        assert hello["text"].startswith("Hallo! Ik ben de digitale assistent van Gemeente Meppel")
        assert hello["declined"] is False
        assert ask(ws, "Hoe hoog is de Mount Everest precies?")[-1]["declined"] is True
        thanks = ask(ws, "Oké, dank je wel!")[-1]
        assert thanks["text"].startswith("Graag gedaan!") and thanks["declined"] is False
        assert thanks["handover_offered"] is False  # thanks is not a second decline in a row
        question = ask(ws, "Hallo, wat kost een paspoort?")[-1]
        assert "84,50" in question["text"]


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["content-length"]))
        _Receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def kcc_system() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", free_port()), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def test_kcc_webhook_is_signed_and_can_take_over(
    live_server: LiveServer, services: Services, tmp_path: Path, kcc_system: str
) -> None:
    secret = "kcc-geheim-van-minstens-16"
    setup_tenant(services, tmp_path)
    _set_tenant(services, handover_webhook_url=kcc_system, handover_webhook_secret=secret)
    session = new_session(live_server.url)
    with open_ws(live_server.url, session["token"]) as ws:
        ask(ws, "Wat kost een paspoort?")
        ws.send(json.dumps({"type": "handover"}))
        assert _until(ws, "handover", "waiting")
        deadline = time.monotonic() + 5
        while not _Receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
        headers, body = _Receiver.received[0]
        assert handover.verify_signature(secret, headers["x-va-timestamp"], body, headers["x-va-signature"])
        payload = json.loads(body)
        assert payload["event"] == "handover.requested" and payload["tenant"] == "meppel"
        request_id = payload["data"]["id"]
        callback = f"{live_server.url}/api/v1/tenants/meppel/handover/{request_id}/kcc"

        def signed(data: dict[str, Any], key: str = secret) -> httpx.Response:
            raw = json.dumps(data).encode()
            stamp = str(int(time.time()))
            return httpx.post(
                callback,
                content=raw,
                headers={"X-VA-Timestamp": stamp, "X-VA-Signature": handover.sign(key, stamp, raw)},
            )

        assert signed({"action": "accept", "name": "Bram"}, key="een-verkeerde-sleutel").status_code == 401
        assert signed({"action": "accept", "name": "Bram"}).status_code == 200
        assert "Bram" in _until(ws, "handover", "accepted")["message"]
        assert signed({"action": "message", "name": "Bram", "text": "Ik help u verder."}).status_code == 200
        assert _until(ws, "staff_message")["text"] == "Ik help u verder."


def test_feedback_and_score_over_http(live_server: LiveServer, services: Services, tmp_path: Path) -> None:
    setup_tenant(services, tmp_path)
    session = new_session(live_server.url)
    headers = {"Authorization": f"Bearer {session['token']}", "Origin": ORIGIN}
    answer = httpx.post(
        f"{live_server.url}/api/v1/tenants/meppel/chat",
        json={"question": "Wat kost een paspoort?"},
        headers=headers,
        timeout=30,
    ).json()
    base = f"{live_server.url}/api/v1/tenants/meppel"
    ok = httpx.post(
        f"{base}/feedback", json={"message_id": answer["message_id"], "rating": "up"}, headers=headers
    )
    assert ok.status_code == 201
    assert (
        httpx.post(
            f"{base}/feedback", json={"message_id": "c" * 32, "rating": "up"}, headers=headers
        ).status_code
        == 404
    )
    assert (
        httpx.post(f"{base}/score", json={"score": 9, "comment": "Top"}, headers=headers).status_code == 201
    )
    assert httpx.post(f"{base}/score", json={"score": 12}, headers=headers).status_code == 422
    from sqlalchemy import select

    from virtuele_assistent.storage.models import Feedback

    with services.db.session() as s:
        rows = s.scalars(select(Feedback)).all()
        assert sorted(str((r.rating, r.score)) for r in rows) == ["('up', None)", "(None, 9)"]


def test_retention_purges_old_conversations_per_tenant(services: Services, tmp_path: Path) -> None:
    from virtuele_assistent.tenants.schemas import TenantCreate
    from virtuele_assistent.tenants.service import create_tenant

    create_tenant(services.db, TenantCreate(slug="meppel", name="Gemeente Meppel"))
    create_tenant(services.db, TenantCreate(slug="assen", name="Gemeente Assen"))
    _set_tenant(services, retention_days=7)
    with services.db.session() as session:
        tenants = {t.slug: t.id for t in session.query(Tenant).all()}
        for slug, age in (("meppel", 10), ("meppel", 2), ("assen", 10), ("assen", 40)):
            conversation = ConversationRepository(session).create(tenants[slug])
            ConversationRepository(session).add_message(conversation, "resident", "Hallo")
            conversation.last_activity_at = utcnow() - timedelta(days=age)
    assert purge_expired(services.db, 30, dry_run=True) == {"assen": (30, 1), "meppel": (7, 1)}
    assert purge_expired(services.db, 30) == {"assen": (30, 1), "meppel": (7, 1)}
    with services.db.session() as session:
        assert session.query(Conversation).count() == 2
    assert purge_expired(services.db, 30) == {"assen": (30, 0), "meppel": (7, 0)}
    # the scheduler tick runs the purge, at most once an hour
    from virtuele_assistent.jobs.scheduler import run_maintenance

    assert run_maintenance(services.db, 30) is True
    assert run_maintenance(services.db, 30) is False


def test_waiting_handover_expires_after_a_server_restart(services: Services, tmp_path: Path) -> None:
    """The pickup timer lives in memory; a restarted server gives each waiting request its remaining time."""
    from virtuele_assistent.api.app import create_app
    from virtuele_assistent.tenants.service import get_profile

    setup_tenant(services, tmp_path, live_chat=True)
    _set_tenant(services, handover_timeout_s=60)
    tenant = get_profile(services.db, "meppel")
    with services.db.session() as session:
        old = ConversationRepository(session).create(tenant.id).id
        recent = ConversationRepository(session).create(tenant.id).id
    overdue = handover.create_request(services.db, tenant, old)["id"]
    waiting = handover.create_request(services.db, tenant, recent)["id"]
    with services.db.session() as session:
        row = session.get(handover.HandoverRequest, overdue)
        assert row is not None
        row.created_at = utcnow() - timedelta(minutes=5)  # asked before the restart, never picked up
    with LiveServer(create_app(services.settings, services)):
        deadline = time.monotonic() + 10
        while handover.get_request(services.db, tenant, overdue)["status"] != "expired":  # type: ignore[index]
            assert time.monotonic() < deadline, "the overdue request was not expired after the restart"
            time.sleep(0.05)
        assert handover.get_request(services.db, tenant, waiting)["status"] == "requested"  # type: ignore[index]


def test_asking_for_a_person_gets_one_answer_that_says_who_can_take_over(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    """Not 'I am looking', 'choose the button' and 'nobody is there' in a row: one answer that says
    what is true now, and a handover status without a second text."""
    setup_tenant(services, tmp_path, live_chat=True)
    config_url = f"{live_server.url}/api/v1/tenants/meppel/widget-config"
    assert httpx.get(config_url).json()["handover_now"] is False
    session = new_session(live_server.url)
    with open_ws(live_server.url, session["token"]) as ws:
        frames = ask(ws, "Ik wil een medewerker spreken")
        done = frames[-1]
        assert "geen medewerker" in done["text"] and "14 0522" in done["text"] and "kijk" not in done["text"]
        status = _until(ws, "handover")
        assert status["status"] == "unavailable" and status["message"] is None
    create_user(services.db, "kcc@meppel.nl", PASSWORD, name="Anna", roles=[("kcc", "meppel")])
    staff_token = _login(live_server.url, "kcc@meppel.nl").json()["access_token"]
    with _staff_ws(live_server.url, staff_token) as staff:
        assert receive(staff)["type"] == "queue"
        assert httpx.get(config_url).json()["handover_now"] is True  # someone is on the live queue
        session = new_session(live_server.url)
        with open_ws(live_server.url, session["token"]) as ws:
            done = ask(ws, "Ik wil een medewerker spreken")[-1]
            assert "Praat met een medewerker" in done["text"] and "geen medewerker" not in done["text"]
            status = _until(ws, "handover")
            assert status["status"] == "offered" and status["message"] is None
    deadline = time.monotonic() + 10
    while httpx.get(config_url).json()["handover_now"]:  # the staff member left
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_staff_presence_is_shared_by_every_api_process_through_redis() -> None:
    import asyncio
    import uuid

    import redis

    from tests.conftest import REDIS_URL
    from virtuele_assistent.conversations.fanout import LocalBroker, RedisBroker

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"Redis does not answer at {REDIS_URL}")

    async def scenario() -> None:
        prefix = f"va-test-{uuid.uuid4().hex[:10]}"
        one, two = RedisBroker(REDIS_URL, prefix), RedisBroker(REDIS_URL, prefix)
        await one.start()
        await two.start()
        try:
            assert await two.present("staff:1") == 0
            await one.mark_present("staff:1", "anna")
            await one.mark_present("staff:1", "bram", ttl_s=0.2)
            assert await two.present("staff:1") == 2 and await two.present("staff:2") == 0
            await asyncio.sleep(0.3)  # bram's connection stopped saying it is there
            assert await two.present("staff:1") == 1
            await one.mark_absent("staff:1", "anna")
            assert await two.present("staff:1") == 0
        finally:
            await one.stop()
            await two.stop()
        local = LocalBroker()
        await local.mark_present("staff:1", "anna", ttl_s=0.1)
        assert await local.present("staff:1") == 1
        await asyncio.sleep(0.15)
        assert await local.present("staff:1") == 0

    asyncio.run(scenario())
