"""Every role against every staff route, API and portal, over real HTTP, on SQLite and PostgreSQL.

The routes come from the app's own router table: each one either declares its permission
(``api.auth.Requires``) or is one of the resident and public routes named here, so a new staff route
without a permission fails this test. For each route, a member of each role at municipality "alfa",
the same roles at "beta" (never allowed at alfa), a platform admin, the admin token and someone with
no role at all call it (API: a bearer token; portal: a session cookie, with the form's CSRF token);
the answer must be what the permission table says: allowed (any answer but 401/403; the requests
are built so that an allowed one changes nothing that matters) or 403 (the portal: the sign-in page
for whoever is not signed in).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from tests.conftest import LiveServer
from virtuele_assistent.api.app import create_app
from virtuele_assistent.api.auth import Requires
from virtuele_assistent.auth.permissions import ROLE_PERMISSIONS, Permission, allows
from virtuele_assistent.auth.users import StaffUser, create_user
from virtuele_assistent.portal.access import PortalRequires
from virtuele_assistent.portal.sessions import start_session
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import TenantCreate
from virtuele_assistent.tenants.service import create_tenant, get_profile

# Routes for residents, the widget, health checks and sign-in: no staff permission (each has its own
# check: a session token, a signature, a webhook token, or none).
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/api/v1/tenants/{slug}"),
    ("POST", "/api/v1/tenants/{slug}/chat"),
    ("POST", "/api/v1/tenants/{slug}/chat/stream"),
    ("POST", "/api/v1/tenants/{slug}/feedback"),
    ("POST", "/api/v1/tenants/{slug}/score"),
    ("DELETE", "/api/v1/tenants/{slug}/conversations/{conversation_id}"),
    ("GET", "/widget.js"),
    ("HEAD", "/widget.js"),
    ("GET", "/api/v1/tenants/{slug}/widget-config"),
    ("GET", "/demo/{slug}"),
    ("POST", "/api/v1/tenants/{slug}/sessions"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/api/v1/auth/me"),
    ("POST", "/api/v1/tenants/{slug}/handover/{handover_id}/kcc"),
    ("GET", "/beheer/inloggen"),
    ("POST", "/beheer/inloggen"),
    ("GET", "/beheer/oidc/start"),
    ("GET", "/beheer/oidc/terug"),
}
SIGNED_IN = object()  # a portal page for any signed-in staff member (PortalRequires(None))
PATH_VALUES = {
    "slug": "alfa",
    "source_id": "999999",
    "job_id": "0" * 32,
    "conversation_id": "0" * 32,
    "handover_id": "0" * 32,
    "message_id": "0" * 32,
    "position": "0",
    "fixed_id": "999999",
    "user_id": "999999",
    "document_id": "999999",
    "role": "kcc",
}


def _permissions(dependant: Dependant) -> list[Any]:
    found: list[Any] = []
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Requires | PortalRequires):
            permission = dependency.call.permission
            found.append(SIGNED_IN if permission is None else permission)
        found += _permissions(dependency)
    return found


def route_table(app: FastAPI) -> Iterator[tuple[str, str, list[Any]]]:
    """(method, path, declared permissions) of every HTTP route the app serves."""
    routes: list[object] = []
    for route in app.routes:
        included = getattr(route, "original_router", None)
        routes += included.routes if included is not None else [route]
    for route in routes:
        if isinstance(route, APIRoute):
            for method in sorted(route.methods):
                yield method, route.path, _permissions(route.dependant)


@dataclass(frozen=True)
class Caller:
    name: str
    user: StaffUser | None  # None: the admin token
    token: str


@pytest.fixture
def callers(services: Services) -> tuple[int, list[Caller]]:
    create_tenant(services.db, TenantCreate(slug="alfa", name="Gemeente Alfa"))
    create_tenant(services.db, TenantCreate(slug="beta", name="Gemeente Beta"))
    made: list[Caller] = []
    grants: list[tuple[str, list[tuple[str, str | None]]]] = [("zonder rol", [])]
    for role in ROLE_PERMISSIONS:
        grants.append((f"{role}@alfa", [(role, None if role == "platform" else "alfa")]))
        if role != "platform":
            grants.append((f"{role}@beta", [(role, "beta")]))
    for number, (name, roles) in enumerate(grants):
        user = create_user(services.db, f"medewerker{number}@example.nl", "een-lang-wachtwoord", roles=roles)
        made.append(Caller(name, user, services.tokens.issue_staff(user.id)))
    made.append(Caller("beheertoken", None, services.settings.admin_token or ""))
    return get_profile(services.db, "alfa").id, made


def _allowed(caller: Caller, tenant_id: int | None, permission: Any) -> bool:
    if permission is SIGNED_IN:
        return caller.user is not None
    return caller.user is None or allows(caller.user, tenant_id, permission)


def _portal_cookie(services: Services, caller: Caller) -> tuple[dict[str, str], dict[str, str]]:
    """A fresh portal session for the caller (the admin token is no portal credential): its
    cookies, and the form fields a POST carries."""
    if caller.user is None:
        return {}, {}
    token, csrf = start_session(services.db, caller.user.id)
    return {"va_beheer": token}, {"csrf_token": csrf}


def test_every_staff_route_declares_a_permission_and_every_role_gets_what_the_table_says(
    services: Services, callers: tuple[int, list[Caller]]
) -> None:
    alfa_id, people = callers
    app = create_app(services.settings, services)
    table = list(route_table(app))
    undeclared = {(method, path) for method, path, permissions in table if not permissions}
    assert undeclared == PUBLIC, "a route without a declared permission, or a public route gone"
    assert all(len(permissions) == 1 for _, _, permissions in table if permissions)
    assert any(path.startswith("/beheer") for _, path, permissions in table if permissions)

    checked = 0
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        for method, path, permissions in table:
            if not permissions:
                continue
            permission = permissions[0]
            tenant_id = alfa_id if "{slug}" in path else None
            url = path.format(**PATH_VALUES)
            body = {} if method in ("POST", "PATCH", "PUT") else None
            portal = path.startswith("/beheer")
            anonymous = client.request(method, url, json=body)
            assert anonymous.status_code == (303 if portal else 401), (method, path)
            for caller in people:
                target = url
                if (method, path) == ("DELETE", "/api/v1/tenants/{slug}") and _allowed(
                    caller, tenant_id, permission
                ):
                    scratch = f"wegwerp{checked}"
                    create_tenant(services.db, TenantCreate(slug=scratch, name="Gemeente Wegwerp"))
                    target = path.format(**{**PATH_VALUES, "slug": scratch})
                if portal:
                    cookies, form = _portal_cookie(services, caller)
                    client.cookies.clear()
                    response = client.request(
                        method, target, cookies=cookies, data=form if method == "POST" else None
                    )
                    expected = caller.user is not None and _allowed(caller, tenant_id, permission)
                    refused = 303 if caller.user is None else 403
                else:
                    response = client.request(
                        method, target, json=body, headers={"Authorization": f"Bearer {caller.token}"}
                    )
                    expected = _allowed(caller, tenant_id, permission)
                    refused = 403
                if expected:
                    assert response.status_code not in (401, 403), (caller.name, method, path, response.text)
                    assert not response.headers.get("location", "").startswith("/beheer/inloggen?volgende")
                else:
                    assert response.status_code == refused, (caller.name, method, path, response.text)
                    if refused == 403:
                        assert "geen rol" in response.text
                checked += 1
    assert checked == len([t for t in table if t[2]]) * len(people)


def test_no_role_held_at_one_municipality_opens_another(callers: tuple[int, list[Caller]]) -> None:
    alfa_id, people = callers
    for caller in people:
        if caller.user is None or not caller.name.endswith("@beta"):
            continue
        assert not any(allows(caller.user, alfa_id, permission) for permission in Permission), caller.name


def test_the_analyst_reads_and_changes_nothing() -> None:
    reading = {
        Permission.PORTAL_VIEW,
        Permission.SOURCES_READ,
        Permission.AUDIT_READ,
        Permission.CONVERSATIONS_READ,
    }
    assert ROLE_PERMISSIONS["analist"] <= reading
    assert Permission.TENANTS_MANAGE not in ROLE_PERMISSIONS["beheerder"]
