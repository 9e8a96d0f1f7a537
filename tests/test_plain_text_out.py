"""Markup in every text a person types or a page holds never leaves the API as markup: in JSON, in
WebSocket frames and in HTML, whoever reads them (the bundled widget builds DOM without innerHTML;
a municipality's own app or KCC tool might not)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection

from tests.chat_helpers import ORIGIN, ask, new_session, open_ws, receive
from tests.conftest import LiveServer
from tests.test_handover_and_staff import PASSWORD, _login, _staff_ws, _until
from tests.test_ingest_and_search import write_site
from virtuele_assistent.auth.users import create_user
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.service import get_profile
from virtuele_assistent.validation import plain_text, safe_markdown

ADMIN = {"Authorization": "Bearer test-admin-token-123"}
MARKUP = re.compile(r"<(?:[A-Za-z]|/[A-Za-z]|!--)")  # anything that opens a tag or comment


def evil(who: str) -> str:
    return f"<img src=x onerror=alert('{who}')>"


class Recorder:
    """Every JSON body and WebSocket frame the test receives, as text."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def http(self, what: str, response: httpx.Response) -> httpx.Response:
        self.texts.append((what, response.text))
        return response

    def frame(self, what: str, frame: dict[str, Any]) -> dict[str, Any]:
        self.texts.append((what, json.dumps(frame, ensure_ascii=False)))
        return frame

    def frames(self, what: str, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for frame in frames:
            self.frame(what, frame)
        return frames


def test_plain_text_and_safe_markdown() -> None:
    assert plain_text("Wat kost een <b>paspoort</b>?") == "Wat kost een paspoort?"
    assert plain_text(evil("x") + "Hallo") == "Hallo"
    assert plain_text("<<b>img src=x onerror=alert(1)>") == "‹‹b›img src=x onerror=alert(1)›"
    assert plain_text("Ik ben <18 en a < b <3") == "Ik ben <18 en a < b <3"
    assert plain_text("<b></b>") == "‹b›‹/b›"  # markup only: kept as characters, never emptied
    assert plain_text("open <img src=x onerror=alert(1)") == "open "
    assert safe_markdown("[hier](javascript:alert(1)) of [site](https://x.nl) [bel](tel:140529)") == (
        "hier of [site](https://x.nl) [bel](tel:140529)"
    )


def test_markup_in_every_text_field_leaves_the_api_as_plain_text(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    base, api = live_server.url, f"{live_server.url}/api/v1/tenants"
    seen = Recorder()
    created = seen.http(
        "create tenant",
        httpx.post(
            api,
            headers=ADMIN,
            json={
                "slug": "meppel",
                "name": f"Gemeente {evil('naam')}Meppel",
                "contact": {
                    "phone": "14 0522",
                    "address": f"{evil('adres')}Stadhuis 1",
                    "live_chat": True,
                    "opening_hours": {d: "00:00-23:59" for d in ("ma", "di", "wo", "do", "vr", "za", "zo")},
                },
                "allowed_origins": [ORIGIN],
                "settings": {
                    "widget": {
                        "greeting": "<script>alert(1)</script>Hallo",
                        "suggestions": [f"{evil('vraag')}Paspoort?"],
                    }
                },
            },
        ),
    )
    assert created.status_code == 201, created.text
    site = write_site(
        tmp_path / "site",
        "Meppel",
        {
            "paspoort.html": (
                "Paspoort &lt;script&gt;alert('titel')&lt;/script&gt;",
                "<p>Een paspoort kost € 84,50 &lt;img src=x onerror=alert('pagina')&gt; bij de balie.</p>"
                "<p>Lees meer over het paspoort [klik](javascript:alert('link')) op de website.</p>",
            ),
        },
    )
    services.indexer.ingest_path(get_profile(services.db, "meppel").id, site, "https://www.meppel.nl/")
    for what, url in (
        ("public", f"{api}/meppel"),
        ("widget config", f"{api}/meppel/widget-config"),
        ("list", api),
    ):
        seen.http(what, httpx.get(url, headers=ADMIN if what == "list" else {"Origin": ORIGIN}))
    for field in ({"origins": [evil("veld")]}, {"allowed_origins": [evil("origin")]}, {"name": evil("kort")}):
        seen.http("refused update", httpx.patch(f"{api}/meppel", headers=ADMIN, json=field))
    seen.http("bad slug", httpx.get(f"{api}/{evil('slug')}/widget-config"))

    plain = seen.http(
        "chat",
        httpx.post(
            f"{api}/meppel/chat", json={"question": f"Wat kost een {evil('vraag')} paspoort?"}, timeout=60
        ),
    ).json()
    assert "84,50" in plain["answer"] and "klik" in plain["answer"]
    resident = {"Authorization": f"Bearer {plain['session_token']}"}
    seen.http(
        "feedback",
        httpx.post(
            f"{api}/meppel/feedback",
            headers=resident,
            json={"message_id": plain["message_id"], "rating": "down", "comment": evil("commentaar")},
        ),
    )

    create_user(
        services.db, "kcc@meppel.nl", PASSWORD, name=f"{evil('medewerker')}Anna", roles=[("kcc", "meppel")]
    )
    create_user(services.db, "privacy@meppel.nl", PASSWORD, roles=[("privacy", "meppel")])
    staff_token = _login(base, "kcc@meppel.nl").json()["access_token"]
    session = new_session(base)
    with _staff_ws(base, staff_token) as staff, open_ws(base, session["token"]) as ws:
        seen.frame("queue", receive(staff))
        seen.frames("ws turn", ask(ws, f"Ik wil een medewerker {evil('ws')} spreken"))
        ws.send(json.dumps({"type": evil("type")}))
        seen.frame("unknown type", _until(ws, "error"))
        ws.send(json.dumps({"type": "handover"}))
        requested = seen.frame("requested", _until(staff, "handover_requested"))["request"]
        staff.send(json.dumps({"type": "accept", "handover_id": requested["id"]}))
        seen.frame("accepted", _until(ws, "handover", "accepted"))
        staff.send(
            json.dumps(
                {"type": "message", "handover_id": requested["id"], "text": f"{evil('staff')}Goedemiddag"}
            )
        )
        said = seen.frame("staff message", _until(ws, "staff_message"))
        assert said["text"] == "Goedemiddag" and said["name"] == "Anna"
        _received_all(seen, ws, staff)
    with open_ws(base, session["token"]) as again:  # the history, read back
        again.send(json.dumps({"type": "hello", "conversation_id": session["conversation_id"]}))
        ready = seen.frame("history", _until(again, "ready"))
        assert ready["history"], ready
    privacy = _login(base, "privacy@meppel.nl").json()["access_token"]
    seen.http(
        "export",
        httpx.get(
            f"{api}/meppel/conversations/{session['conversation_id']}/export",
            headers={"Authorization": f"Bearer {privacy}"},
        ),
    )
    demo = httpx.get(f"{base}/demo/meppel")
    assert demo.status_code == 200
    assert "<img src=x" not in demo.text and "<script>alert" not in demo.text

    leaks = [
        (what, MARKUP.search(text).group(0), text[:300]) for what, text in seen.texts if MARKUP.search(text)
    ]
    assert leaks == []
    assert not [what for what, text in seen.texts if "javascript:" in text]


def _received_all(seen: Recorder, *sockets: ClientConnection) -> None:
    """Whatever frames are still on the way."""
    for socket in sockets:
        while True:
            try:
                seen.frame("rest", receive(socket, timeout=0.5))
            except TimeoutError:
                break
