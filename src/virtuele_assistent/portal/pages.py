"""What every portal page shares: rendering with the signed-in staff member, CSRF token and
labels; the session dependencies per permission; the municipality of a page by its slug."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from virtuele_assistent.audit.service import (
    dutch_time,
)
from virtuele_assistent.auth.permissions import ROLE_LABELS, Permission, allows
from virtuele_assistent.auth.users import StaffUser
from virtuele_assistent.portal.access import (
    CSRF_FIELD,
    PREFIX,
    PortalError,
    PortalRequires,
)
from virtuele_assistent.portal.sessions import (
    PortalSession,
)
from virtuele_assistent.services import Services
from virtuele_assistent.storage.repositories import TenantRepository
from virtuele_assistent.tenants.schemas import TenantOut, TenantProfile
from virtuele_assistent.tenants.service import (
    TenantNotFound,
    get_profile,
    tenant_details,
)

HERE = Path(__file__).resolve().parent
STATIC = HERE / "dist"
templates = Jinja2Templates(directory=HERE / "templates")

SignedIn = Annotated[PortalSession, Depends(PortalRequires(None))]
Viewer = Annotated[PortalSession, Depends(PortalRequires(Permission.PORTAL_VIEW))]
AuditReader = Annotated[PortalSession, Depends(PortalRequires(Permission.AUDIT_READ))]
UsersManager = Annotated[PortalSession, Depends(PortalRequires(Permission.USERS_MANAGE))]
SettingsEditor = Annotated[PortalSession, Depends(PortalRequires(Permission.SETTINGS_EDIT))]
PlatformAdmin = Annotated[PortalSession, Depends(PortalRequires(Permission.TENANTS_MANAGE))]
SystemViewer = Annotated[PortalSession, Depends(PortalRequires(Permission.SYSTEM_VIEW))]
Text = Annotated[str, Query(max_length=320)]


@dataclass(frozen=True)
class TenantLink:
    slug: str
    name: str


def secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    session: PortalSession | None = getattr(request.state, "portal", None)
    context |= {
        "user": session.user if session else None,
        "csrf_field": CSRF_FIELD,
        "csrf_token": session.csrf_token if session else context.get("csrf_token"),
        "role_labels": ROLE_LABELS,
        "prefix": PREFIX,
        "show": show_json,
        "dutch_time": dutch_time,
    }
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def show_json(value: Any, indent: int | None = None) -> str:
    """A value from the audit log as readable JSON (escaped by the template)."""
    return json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=True)


def visible_tenants(services: Services, user: StaffUser, permission: Permission) -> list[TenantLink]:
    with services.db.session() as session:
        return [
            TenantLink(tenant.slug, tenant.name)
            for tenant in TenantRepository(session).list()
            if allows(user, tenant.id, permission)
        ]


def tenant_or_404(services: Services, slug: str) -> TenantOut:
    try:
        return tenant_details(services.db, slug)
    except TenantNotFound:
        raise PortalError(404, f"Gemeente '{slug}' bestaat niet.") from None


def profile_or_404(services: Services, slug: str) -> TenantProfile:
    """The municipality by its slug (with its id), or the portal's 404 page."""
    try:
        return get_profile(services.db, slug)
    except TenantNotFound:
        raise PortalError(404, f"Gemeente '{slug}' bestaat niet.") from None


def day_range(van: str, tot: str) -> tuple[dict[str, date | None], dict[str, str]]:
    """A filter's days "van" and "tot" as typed (jjjj-mm-dd, either may be empty), and a Dutch
    message per field that is not a day, or when the end lies before the start."""
    errors: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for name, value in (("van", van.strip()), ("tot", tot.strip())):
        try:
            days[name] = date.fromisoformat(value) if value else None
        except ValueError:
            errors[name] = "Vul een datum in als jjjj-mm-dd, bijvoorbeeld 2026-12-07."
    if not errors and days["van"] and days["tot"] and days["van"] > days["tot"]:
        errors["tot"] = "De einddatum ligt vóór de begindatum."
    return days, errors


def crumbs(*trail: tuple[str, str]) -> list[tuple[str, str]]:
    """The breadcrumb trail of a page: the municipalities' overview, then ``trail`` (label, link)."""
    return [("Gemeenten", PREFIX), *trail]
