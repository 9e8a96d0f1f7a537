"""Shared dependencies for routers: services, the tenant from the path, admin access."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Path, Request

from virtuele_assistent.api.errors import ApiError
from virtuele_assistent.services import Services
from virtuele_assistent.tenants.schemas import SLUG_PATTERN, TenantProfile
from virtuele_assistent.tenants.service import TenantNotFound, get_profile


def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]


SlugPath = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=63)]


def tenant_not_found(slug: str) -> ApiError:
    return ApiError(404, f"Gemeente '{slug}' bestaat niet.")


def tenant_profile(services: ServicesDep, slug: SlugPath) -> TenantProfile:
    try:
        return get_profile(services.db, slug)
    except TenantNotFound:
        raise tenant_not_found(slug) from None


TenantDep = Annotated[TenantProfile, Depends(tenant_profile)]


def require_admin(services: ServicesDep, authorization: Annotated[str | None, Header()] = None) -> str:
    expected = services.settings.admin_token
    if not expected:
        raise ApiError(403, "Beheer via de API staat uit. Stel VA_ADMIN_TOKEN in om het aan te zetten.")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected.encode()):
        raise ApiError(401, "Log in met een geldig beheertoken.", headers={"WWW-Authenticate": "Bearer"})
    return "admin-token"


AdminDep = Annotated[str, Depends(require_admin)]
